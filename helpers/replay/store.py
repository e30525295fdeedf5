"""Recordings on disk and how a request finds its recorded answer.

One JSON file per lesson or topic in ``notebooks/recordings/``, UTF-8 with Chinese unescaped:

    {"format": "llm-course-recordings/1",
     "exchanges": [{"name": ..., "source": "authored" | "recorded",
                    "request": {"method", "path", "stream", "body"},
                    "response": {"status", "headers", "delay_ms", "body" | "events"}}]}

A request matches on method, path, stream flag and the canonical parsed JSON body; headers
(authorization, user agent, SDK identification) are never part of the match. Identical
requests recorded several times are answered in turn, so "ask twice" gets two answers.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Iterable

from . import match, wire
from .validate import SOURCES, RecordingError, safe_topic  # noqa: F401 (re-exported)
from .validate import check_exchange as _check_exchange

FORMAT = "llm-course-recordings/1"


def canonical(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def request_key(method: str, path: str, stream: bool, body: Any) -> str:
    path = path.split("?")[0]
    if isinstance(body, dict) and "stream" in body:
        # OpenAI-compatible bodies carry the stream flag, which is already in the key:
        # "stream": false and no "stream" at all are the same request.
        body = {k: v for k, v in body.items() if k != "stream"}
    return f"{method.upper()} {path} stream={bool(stream)} {canonical(body)}"


def first_difference(a: Any, b: Any, where: str = "body") -> str | None:
    """The JSON path where two request bodies first differ, for miss messages."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{where}.{k}"
            found = first_difference(a[k], b[k], f"{where}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}（长度 {len(a)} ≠ {len(b)}）"
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if a == b else where


class RecordingStore:
    """All exchanges under a folder, indexed by request key; thread-safe."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._by_key: dict[str, list[dict]] = {}
        self._by_meaning: dict[str, list[dict]] = {}  # chat recordings by match.meaning_key
        self._turn: dict[Any, int] = {}
        self.files: list[Path] = []
        self.reload()

    def reload(self) -> None:
        with self._lock:
            self._by_key.clear()
            self._by_meaning.clear()
            self._turn.clear()
            if not self.folder.is_dir():
                raise RecordingError(f"录制文件夹 {self.folder} 不存在。请检查 LLM_RECORDINGS 的路径，"
                                     "或删除它使用课程自带的录制。")
            self.files = sorted(self.folder.glob("*.json"))
            for path in self.files:
                for exchange in load_file(path):
                    self._index(exchange)

    def _index(self, exchange: dict) -> None:
        req = exchange["request"]
        key = request_key(req["method"], req["path"], req.get("stream", False), req.get("body"))
        self._by_key.setdefault(key, []).append(exchange)
        meaning = match.meaning_key(req["path"], req.get("body")) if req["method"] == "POST" else None
        if meaning is not None:
            self._by_meaning.setdefault(meaning, []).append(exchange)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def match(self, method: str, path: str, stream: bool, body: Any) -> dict | None:
        key = request_key(method, path, stream, body)
        with self._lock:
            found = self._by_key.get(key)
            if not found:
                return None
            turn = self._turn.get(key, 0)
            self._turn[key] = turn + 1
            return found[turn % len(found)]

    def answer(self, method: str, path: str, stream: bool, body: Any) -> tuple[dict, list[str]] | None:
        """Matching by meaning (match.py): the response to serve, rendered in this request's
        shape, and the parameters that differed without mattering; None if nothing fits."""
        key = match.meaning_key(path, body) if method == "POST" else None
        if key is None:
            return None
        asked = match.params(path, body)
        scored = []
        with self._lock:
            for exchange in self._by_meaning.get(key, []):
                req = exchange["request"]
                recorded = match.params(req["path"], req.get("body"))
                same_shape = req["path"] == path and req.get("stream", False) == stream and all(
                    recorded.get(k) == asked.get(k) for k in match.TRANSPORT - {"stream"})
                answer = match.Answer.of(exchange)
                if answer is None and not same_shape:
                    continue  # errors and tool calls are served only in their own shape
                usable, differs, _ = match.compare(recorded, asked, answer)
                if usable:
                    scored.append(((len(differs), not same_shape), exchange, answer, differs,
                                   same_shape))
            if not scored:
                return None
            best = min(s[0] for s in scored)
            group = [s for s in scored if s[0] == best]
            turn_key = ("meaning", key, tuple(id(s[1]) for s in group))
            turn = self._turn.get(turn_key, 0)
            self._turn[turn_key] = turn + 1
        _, exchange, answer, differs, same_shape = group[turn % len(group)]
        if same_shape:
            return exchange["response"], differs
        return match.render(answer, path, body, stream), differs

    def diagnose(self, path: str, body: Any) -> str | None:
        """The real difference between a missed chat request and the closest recording, in
        Chinese: a parameter, the model, or a message (which one, recorded vs asked)."""
        if not match.is_chat(path) or not isinstance(body, dict):
            return None
        asked_key = match.meaning_key(path, body)
        asked_messages = _norm_messages(path, body)
        asked_params = match.params(path, body)
        best: tuple | None = None
        with self._lock:
            groups = [(k, v[0]) for k, v in self._by_meaning.items()]
        for key, exchange in groups:
            req = exchange["request"]
            rec_body = req.get("body") or {}
            if key == asked_key:
                recorded = match.params(req["path"], rec_body)
                usable, _, param = match.compare(recorded, asked_params, match.Answer.of(exchange))
                if not usable:
                    text = (f"参数 {param} 不同：录制里是 {_short(recorded.get(param))}，"
                            f"请求里是 {_short(asked_params.get(param))}")
                    best = min(best or (9,), (0, 0, text))
                continue
            rec_messages = _norm_messages(req["path"], rec_body)
            same_model = rec_body.get("model") == body.get("model")
            if rec_messages == asked_messages:
                text = f"模型不同：录制的是 {rec_body.get('model')}，请求的是 {body.get('model')}"
                best = min(best or (9,), (1, 0, text))
                continue
            prefix = next((i for i, (a, b) in enumerate(zip(rec_messages, asked_messages)) if a != b),
                          min(len(rec_messages), len(asked_messages)))
            if prefix < len(rec_messages) and prefix < len(asked_messages):
                rec_m = wire.request_messages(rec_body, wire.is_compatible(req["path"]))[prefix]
                ask_m = wire.request_messages(body, wire.is_compatible(path))[prefix]
                text = (f"第 {prefix + 1} 条消息（{ask_m.get('role', '?')}）不同：录制里是"
                        f"「{_short(rec_m.get('content'), 24)}」，请求里是「{_short(ask_m.get('content'), 24)}」")
            else:
                text = f"消息条数不同：录制里有 {len(rec_messages)} 条，请求里有 {len(asked_messages)} 条"
            best = min(best or (9,), (2 + (0 if same_model else 1), -prefix, text))
        return best[2] if best and len(best) == 3 else None

    def count(self, method: str, path: str, stream: bool, body: Any) -> int:
        with self._lock:
            return len(self._by_key.get(request_key(method, path, stream, body), []))

    def nearest(self, method: str, path: str, stream: bool, body: Any) -> str | None:
        """Where the closest recording of the same endpoint differs from this request."""
        best = None
        with self._lock:
            for exchanges in self._by_key.values():
                req = exchanges[0]["request"]
                if req["path"] != path.split("?")[0] or req.get("stream", False) != stream:
                    continue
                diff = first_difference(req.get("body"), body)
                if diff and (best is None or len(diff) > len(best)):
                    best = diff  # a deeper difference means more of the request agreed
        return best

    def add(self, exchange: dict, topic: str) -> Path:
        """Index a new exchange and append it to ``<topic>.json`` (record/author modes)."""
        path = self.folder / f"{safe_topic(topic)}.json"
        if path.is_symlink() or path.resolve().parent != self.folder.resolve():
            raise RecordingError(f"不写入 {path}：它是符号链接或不在录制文件夹里。")
        with self._lock:
            self._index(exchange)
            exchanges = load_file(path) if path.exists() else []
            exchanges.append(exchange)
            save_file(path, exchanges)
            if path not in self.files:
                self.files.append(path)
        return path


def _norm_messages(path: str, body: Any) -> list:
    messages = wire.request_messages(body, wire.is_compatible(path))
    return [{**m, "content": match.forgiving(m.get("content"))} if isinstance(m, dict) else m
            for m in messages]


def _short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def load_file(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordingError(f"录制文件 {path} 不存在。请用 git checkout -- {path.name} 恢复它，"
                             "或检查 LLM_RECORDINGS 指向的文件夹。") from None
    except UnicodeDecodeError as exc:
        raise RecordingError(f"录制文件 {path} 不是 UTF-8 编码：{exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordingError(
            f"录制文件 {path} 第 {exc.lineno} 行第 {exc.colno} 列格式错误：{exc.msg}。"
            f"请用 git checkout -- {path.name} 恢复它，或修正该行。") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RecordingError(f"录制文件 {path} 缺少 \"format\": \"{FORMAT}\"，不是本课程的录制文件。")
    exchanges = data.get("exchanges", [])
    if not isinstance(exchanges, list):
        raise RecordingError(f"录制文件 {path}：\"exchanges\" 必须是数组。")
    for i, exchange in enumerate(exchanges):
        problem = _check_exchange(exchange)
        if problem:
            line = _line_of_exchange(text, i)
            raise RecordingError(f"录制文件 {path} 第 {line} 行（第 {i + 1} 条记录）：{problem}")
    return exchanges


def _line_of_exchange(text: str, index: int) -> int:
    """Line where the index-th exchange starts (save_file starts each one with '  {')."""
    starts = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith("  {")]
    return starts[index] if index < len(starts) else 1


def _one_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _format_exchange(e: dict) -> str:
    """One exchange as a readable block: request on one line, one line per stream event."""
    head = {k: v for k, v in e.items() if k not in ("request", "response")}
    resp = e["response"]
    lines = ["  " + _one_line(head)[:-1] + ",", '   "request": ' + _one_line(e["request"]) + ","]
    meta = {k: v for k, v in resp.items() if k != "events"}
    if "events" in resp:
        events = ",\n".join("     " + _one_line(ev) for ev in resp["events"])
        lines.append('   "response": ' + _one_line(meta)[:-1] + ', "events": [\n' + events + "\n   ]}}")
    else:
        lines.append('   "response": ' + _one_line(meta) + "}")
    return "\n".join(lines)


def save_file(path: Path, exchanges: Iterable[dict]) -> None:
    """Write the file in the readable, diff-friendly layout that load_file reads back."""
    blocks = ",\n".join(_format_exchange(e) for e in exchanges)
    text = '{"format": "%s",\n "exchanges": [\n%s\n ]}\n' % (FORMAT, blocks)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
