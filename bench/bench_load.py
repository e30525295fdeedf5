"""Replay server under load: 50 concurrent streaming clients, each its own conversation.

Authors one distinct conversation per client into a temp recordings folder, then starts all
clients at once (threads, loopback, replay speed 0) and checks that every client got exactly
its own reply: no errors, no cross-talk. Reports throughput (streams/s, events/s) and the
p50/p95 time to first byte. Two rounds: raw HTTP clients (what the server itself can do), and
the kit's ``helpers.stream_chat`` (the legacy SDK underneath, what a learner's threads see).
Then 500 stalled sockets for 10 s: a normal request must still be answered in under 1 s and
the server's threads must be back to their number afterwards (tests/test_replay_guard.py
runs a 120-socket version of this in CI).

    python bench/bench_load.py            # 50 clients
    python bench/bench_load.py 20         # another number (1–200)
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

CLIENTS = 50
TIMEOUT = 30.0  # per client, seconds; the whole round is bounded by it too
SUBJECTS = ["跑步", "登山", "通勤", "婚礼", "雨天", "篮球", "旅行", "久站", "宽脚", "夏天"]


@dataclass
class Round:
    clients: int
    wall: float = 0.0
    ttfb: list[float] = field(default_factory=list)
    events: int = 0
    errors: list[str] = field(default_factory=list)
    crosstalk: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.crosstalk and len(self.ttfb) == self.clients


def conversation(i: int) -> tuple[str, str]:
    """Client i's question and the reply only it may receive (its number is in both)."""
    subject = SUBJECTS[i % len(SUBJECTS)]
    question = f"第{i:03d}位顾客：我想买一双适合{subject}的鞋，有什么建议？"
    reply = (f"第{i:03d}位顾客您好！适合{subject}的鞋，先看鞋底的抓地力和缓震，再看鞋面是否透气。"
             f"试穿时留出一指宽的余量，下午脚会略微肿胀，那时试最准。预算有限的话，优先把钱花在鞋底上。"
             f"祝您买到合脚的鞋——这条回答只属于第{i:03d}位顾客。")
    return question, reply


def prepare(folder: Path, n: int) -> list[tuple[str, str]]:
    """Author n conversations into `folder` (specs → wire-exact streamed exchanges), then
    switch the kit to replay mode on that folder. Uses helpers.setup(), so it changes the
    process's SDK addresses; callers restore them with another setup()."""
    import yaml

    import helpers

    convs = [conversation(i) for i in range(n)]
    (folder / "specs").mkdir(parents=True, exist_ok=True)
    specs = [{"user": q, "reply": r} for q, r in convs]
    (folder / "specs" / "load.yaml").write_text(yaml.safe_dump(specs, allow_unicode=True), encoding="utf-8")
    os.environ["LLM_RECORDINGS"] = str(folder)
    helpers.setup("load", mode="author")
    for question, reply in convs:
        assert helpers.stream_chat(question).text == reply
    helpers.setup("load", mode="replay")
    return convs


def _sse_pieces(raw: bytes) -> tuple[str, set[str], int]:
    """Text, request ids and frame count of a native SSE body."""
    text, ids, frames = "", set(), 0
    for block in raw.decode("utf-8").split("\n\n"):
        data = next((line[5:] for line in block.split("\n") if line.startswith("data:")), None)
        if data is None:
            continue
        frames += 1
        event = json.loads(data)
        if "code" in event:
            raise RuntimeError(f"error frame: {event}")
        ids.add(event["request_id"])
        text += event["output"]["choices"][0]["message"]["content"]
    return text, ids, frames


def run_http(convs: list[tuple[str, str]]) -> Round:
    """Each thread posts its own question with its own connection and reads the stream raw."""
    import requests

    from helpers.config import current

    settings = current()
    url = settings.base_url + "/services/aigc/text-generation/generation"
    result = Round(len(convs))
    start = threading.Barrier(len(convs) + 1)
    ids: dict[int, set[str]] = {}
    lock = threading.Lock()

    def client(i: int) -> None:
        question, reply = convs[i]
        body = {"model": settings.model, "parameters": {"result_format": "message", "incremental_output": True},
                "input": {"messages": [{"role": "user", "content": question}]}}
        headers = {"X-DashScope-SSE": "enable", "Authorization": "Bearer replay"}
        try:
            with requests.Session() as session:
                start.wait()
                t0 = time.perf_counter()
                with session.post(url, json=body, headers=headers, stream=True, timeout=TIMEOUT) as r:
                    chunks = r.iter_content(chunk_size=None)
                    first = next(chunks)
                    ttfb = time.perf_counter() - t0
                    raw = first + b"".join(chunks)
                    status = r.status_code
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {raw[:200]!r}")
            text, rids, frames = _sse_pieces(raw)
            with lock:
                result.ttfb.append(ttfb)
                result.events += frames
                ids[i] = rids
                if text != reply or len(rids) != 1:
                    result.crosstalk.append(f"客户端 {i}: 收到「{text[:30]}…」，request_id {sorted(rids)}")
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            with lock:
                result.errors.append(f"客户端 {i}: {type(exc).__name__}: {exc}")

    _run_threads(client, len(convs), start, result)
    seen = [rid for rids in ids.values() for rid in rids]
    if len(seen) != len(set(seen)):
        result.crosstalk.append("两个客户端收到了同一个 request_id")
    return result


def run_helpers(convs: list[tuple[str, str]]) -> Round:
    """Each thread calls helpers.stream_chat with its own question (legacy SDK underneath)."""
    import helpers

    result = Round(len(convs))
    start = threading.Barrier(len(convs) + 1)
    lock = threading.Lock()

    def client(i: int) -> None:
        question, reply = convs[i]
        first: list[float] = []
        frames = [0]

        def on_text(piece: str) -> None:
            frames[0] += 1
            if not first:
                first.append(time.perf_counter())

        try:
            start.wait()
            t0 = time.perf_counter()
            got = helpers.stream_chat(question, on_text=on_text)
            with lock:
                result.ttfb.append(first[0] - t0)
                result.events += frames[0] + 1  # the text frames and the closing one
                if got.text != reply:
                    result.crosstalk.append(f"客户端 {i}: 收到「{got.text[:30]}…」")
        except Exception as exc:  # noqa: BLE001
            with lock:
                result.errors.append(f"客户端 {i}: {type(exc).__name__}: {exc}")

    _run_threads(client, len(convs), start, result)
    return result


def _run_threads(client, n: int, start: threading.Barrier, result: Round) -> None:
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    start.wait(timeout=TIMEOUT)
    t0 = time.perf_counter()
    deadline = t0 + TIMEOUT
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.perf_counter()))
    result.wall = time.perf_counter() - t0
    hung = sum(t.is_alive() for t in threads)
    if hung:
        result.errors.append(f"{hung} 个客户端在 {TIMEOUT:.0f} 秒内没有结束")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def report(name: str, r: Round) -> str:
    lines = [f"{name}：{r.clients} 个并发流式客户端，用时 {r.wall:.3f} 秒"]
    if r.ttfb:
        lines.append(f"  吞吐：{r.clients / r.wall:8.1f} 个流/秒   {r.events / r.wall:9.0f} 帧/秒"
                     f"（共 {r.events} 帧，平均每流 {r.events / max(1, len(r.ttfb)):.0f} 帧）")
        lines.append(f"  首字节：p50 {percentile(r.ttfb, 50) * 1000:7.1f} ms   p95 {percentile(r.ttfb, 95) * 1000:7.1f} ms"
                     f"   最大 {max(r.ttfb) * 1000:7.1f} ms")
    lines.append(f"  错误：{len(r.errors)}   串话：{len(r.crosstalk)}   结果：{'✓ 通过' if r.ok else '✗ 失败'}")
    lines += ["    " + e for e in (r.errors + r.crosstalk)[:10]]
    return "\n".join(lines)


def stalled_clients(n: int = 500, seconds: float = 10.0) -> tuple[bool, str]:
    """n sockets that connect and then send nothing (half of them half a request line) held
    for `seconds`, while a normal request is timed every second; afterwards the server's
    thread count must be back to where it was."""
    import socket

    import requests

    from helpers.config import current
    from helpers.replay import current_server

    settings, server = current(), current_server()
    url = settings.base_url + "/services/aigc/text-generation/generation"
    body = {"model": settings.model, "input": {"messages": [{"role": "user", "content": "?"}]}}
    baseline = threading.active_count()
    socks, worst, peak = [], 0.0, 0
    for i in range(n):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        if i % 2:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1")
        socks.append(sock)
    end = time.monotonic() + seconds
    answers = []
    while time.monotonic() < end:
        t0 = time.perf_counter()
        with requests.Session() as session:
            status = session.post(url, json=body, timeout=5).status_code
        worst = max(worst, time.perf_counter() - t0)
        answers.append(status)
        peak = max(peak, threading.active_count() - baseline)
        time.sleep(1.0)
    for sock in socks:
        sock.close()
    deadline = time.monotonic() + 10
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    left = threading.active_count() - baseline
    ok = worst < 1.0 and left <= 0 and all(s == 400 for s in answers)  # a replay miss
    return ok, (f"慢客户端：{n} 个停滞连接保持 {seconds:.0f} 秒，期间 {len(answers)} 次正常请求"
                f"最慢 {worst * 1000:.0f} ms（状态 {sorted(set(answers))}），服务线程峰值 +{peak}（上限 256），"
                f"结束后剩余 {max(0, left):+d}：{'✓ 通过' if ok else '✗ 失败'}")


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else CLIENTS
    if not 1 <= n <= 200:
        print("客户端数应在 1 到 200 之间", file=sys.stderr)
        return 2
    os.environ.update(LLM_ENV_FILE="none", LLM_REPLAY_SPEED="0")
    os.environ.pop("DASHSCOPE_API_KEY", None)
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    t0 = time.perf_counter()
    convs = prepare(folder, n)
    print(f"回放服务并发基准（速度 0，127.0.0.1，Python {sys.version.split()[0]}，{os.cpu_count()} 核）")
    print(f"  准备：编写 {n} 段不同的对话并录制，用时 {time.perf_counter() - t0:.1f} 秒\n")
    rounds = [("原始 HTTP 客户端", run_http(convs)), ("helpers.stream_chat（legacy SDK）", run_helpers(convs))]
    for name, r in rounds:
        print(report(name, r) + "\n")
    slow_ok, line = stalled_clients()
    print(line)
    return 0 if all(r.ok for _, r in rounds) and slow_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
