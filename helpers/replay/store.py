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

FORMAT = "llm-course-recordings/1"
SOURCES = ("authored", "recorded")


class RecordingError(ValueError):
    """A recording file that cannot be used; the message names the file and line."""


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
        self._turn: dict[str, int] = {}
        self.files: list[Path] = []
        self.reload()

    def reload(self) -> None:
        with self._lock:
            self._by_key.clear()
            self._turn.clear()
            self.files = sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []
            for path in self.files:
                for exchange in load_file(path):
                    self._index(exchange)

    def _index(self, exchange: dict) -> None:
        req = exchange["request"]
        key = request_key(req["method"], req["path"], req.get("stream", False), req.get("body"))
        self._by_key.setdefault(key, []).append(exchange)

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
        path = self.folder / f"{topic}.json"
        with self._lock:
            self._index(exchange)
            exchanges = load_file(path) if path.exists() else []
            exchanges.append(exchange)
            save_file(path, exchanges)
            if path not in self.files:
                self.files.append(path)
        return path


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
    for i, exchange in enumerate(exchanges):
        problem = _check_exchange(exchange)
        if problem:
            line = _line_of_exchange(text, i)
            raise RecordingError(f"录制文件 {path} 第 {line} 行（第 {i + 1} 条记录）：{problem}")
    return exchanges


def _check_exchange(exchange: Any) -> str | None:
    if not isinstance(exchange, dict):
        return "记录必须是 JSON 对象"
    if exchange.get("source") not in SOURCES:
        return "source 必须是 authored 或 recorded"
    req, resp = exchange.get("request"), exchange.get("response")
    if not isinstance(req, dict) or not {"method", "path"} <= set(req):
        return "request 需要 method 和 path"
    if not isinstance(resp, dict) or "status" not in resp:
        return "response 需要 status"
    if not any(k in resp for k in ("body", "events", "body_text")):
        return "response 需要 body、body_text 或 events"
    return None


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
