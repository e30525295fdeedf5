"""Fuzzing the replay server's request parsing and the recordings loader (issue 10).

Hypothesis builds raw HTTP requests (methods, paths with and without the secret, Host and
Content-Length right, wrong or garbage, JSON bodies of any shape, bytes that are not JSON)
and recordings files (a valid exchange with random parts replaced). The properties:

* every request gets an HTTP answer, never a dropped connection, and never the 500 that
  means the server itself failed; the server's error log stays empty;
* a recordings file either loads or raises RecordingError naming the file; once loaded,
  replaying its request never crashes the server;
* no thread is left behind.

CI runs a few hundred examples (``REPLAY_FUZZ_EXAMPLES``, default 150 per property); a long
campaign: ``REPLAY_FUZZ_EXAMPLES=100000 REPLAY_FUZZ_SECONDS=300 pytest -p no:randomly
tests/test_replay_fuzz.py -s`` (the counts are printed).
"""
from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the test extra")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from helpers.replay import server as server_mod, wire  # noqa: E402
from helpers.replay.server import ReplayServer  # noqa: E402
from helpers.replay.store import FORMAT, RecordingError, RecordingStore, load_file  # noqa: E402

EXAMPLES = int(os.environ.get("REPLAY_FUZZ_EXAMPLES", "150"))
SECONDS = float(os.environ.get("REPLAY_FUZZ_SECONDS", "0"))  # 0: no time budget, just EXAMPLES
KIT_RECORDINGS = Path(__file__).resolve().parents[1] / "notebooks" / "recordings"
PATHS = [wire.NATIVE_GENERATION, wire.COMPAT_CHAT, wire.NATIVE_EMBEDDING, wire.COMPAT_EMBEDDING,
         "/__replay__/status", "/api/v1/tasks/abc", "/", ""]
COUNTS = {"requests": 0, "files": 0}
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False, database=None,
                suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                      children, max_size=4),
    max_leaves=20)
messages = st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "assistant"]),
                                           "content": st.sampled_from(["你是谁？", "你好", ""])
                                           | st.text(max_size=20)}), max_size=3)
chat_bodies = st.one_of(
    st.fixed_dictionaries({"model": st.sampled_from(["qwen-plus", "qwen-flash"]),
                           "input": st.fixed_dictionaries({"messages": messages}),
                           "parameters": st.dictionaries(
                               st.sampled_from(["result_format", "incremental_output", "top_p",
                                                "temperature", "max_tokens"]), json_values,
                               max_size=3)}),
    st.fixed_dictionaries({"model": st.just("qwen-plus"), "messages": messages,
                           "stream": st.booleans() | json_values}),
    st.dictionaries(st.sampled_from(["model", "input", "messages", "parameters", "stream",
                                     "stream_options"]), json_values, max_size=4),
    json_values)


@pytest.fixture(scope="module")
def fuzz_server():
    srv = ReplayServer(RecordingStore(KIT_RECORDINGS), speed=0).start()
    baseline = threading.active_count()
    yield srv
    deadline = time.monotonic() + 10
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    leaked = threading.active_count() - baseline
    srv.stop()
    print(f"\nfuzz: {COUNTS['requests']} requests, {COUNTS['files']} recordings files")
    assert leaked <= 0, f"{leaked} server threads left behind"


def _exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # nothing more is coming: the server must answer now
        received = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                return received
            received += piece


@st.composite
def raw_requests(draw, secret: str, port: int) -> tuple[bytes, bool]:
    method = draw(st.sampled_from(["POST", "POST", "GET", "PUT", "HEAD", "DELETE", "OPTIONS",
                                   "PATCH", "FOO"]) | st.text("ABCXYZ-", min_size=1, max_size=8))
    path = draw(st.sampled_from(PATHS) | st.text(max_size=20).map(lambda t: "/" + t))
    prefix = draw(st.sampled_from([f"/{secret}", f"/{secret}", "", "/wrong", f"/{secret}x"]))
    if draw(st.booleans()):
        path += "?" + draw(st.text("ab=&%", max_size=10))
    target = (prefix + path).replace(" ", "%20").replace("\r", "").replace("\n", "") or "/"
    if draw(st.integers(0, 4)) == 0:
        body = draw(st.binary(max_size=200))
    else:
        body = json.dumps(draw(chat_bodies), ensure_ascii=draw(st.booleans())).encode()
    headers = [draw(st.sampled_from([f"Host: 127.0.0.1:{port}", f"Host: localhost:{port}",
                                     f"Host: 127.0.0.1:{port}", "Host: evil.example", ""]))]
    length = draw(st.sampled_from(["exact", "exact", "exact", "none", "garbage", "huge", "neg"]))
    headers.append({"exact": f"Content-Length: {len(body)}", "none": "",
                    "garbage": "Content-Length: " + draw(st.text("abc1e.+ ", max_size=6)),
                    "huge": f"Content-Length: {10**12}", "neg": "Content-Length: -3"}[length])
    for extra in draw(st.lists(st.sampled_from([
            "X-DashScope-SSE: enable", "Accept: text/event-stream", "Origin: https://x.example",
            "Transfer-Encoding: chunked", "Content-Type: text/plain", "Expect: 100-continue",
            "Authorization: Bearer " + "sk-" + "0" * 16]), max_size=3)):
        headers.append(extra)
    headers.append("Connection: close")
    if draw(st.integers(0, 9)) == 0:
        headers.append(draw(st.text(max_size=30)).replace("\r", "").replace("\n", ""))
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(h + "\r\n" for h in headers if h) + "\r\n"
    sent = body if length != "none" else b""
    return head.encode("utf-8", "surrogatepass") + sent, method == "HEAD"


def _check_reply(reply: bytes) -> None:
    assert reply, "the connection was dropped without an answer"
    reply = reply.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")  # Expect: 100-continue
    if not reply.startswith(b"HTTP/1.1 "):  # a request line read as HTTP/0.9: a bare body
        json.loads(reply)
        return
    status = int(reply[9:12])
    assert status != 500, reply[:400]
    assert 200 <= status < 600


@given(data=st.data())
@FUZZ
def test_every_request_gets_an_answer(fuzz_server, data):
    if SECONDS and time.monotonic() - STARTED > SECONDS:
        return
    raw, _ = data.draw(raw_requests(fuzz_server.secret, fuzz_server.port))
    fuzz_server.log.errors.clear()  # judge this example alone
    _check_reply(_exchange(fuzz_server.port, raw))
    COUNTS["requests"] += 1
    assert fuzz_server.log.errors == []


def _valid_exchange() -> dict:
    body = {"model": "qwen-plus", "input": {"messages": [{"role": "user", "content": "你是谁？"}]},
            "parameters": {"result_format": "message"}}
    return {"name": "x", "source": "authored",
            "request": {"method": "POST", "path": wire.NATIVE_GENERATION, "stream": False,
                        "body": body},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                         "delay_ms": 0, "body": wire.native_json("答", "stop", (1, 1), "r")}}


PARTS = [("name",), ("source",), ("request",), ("request", "method"), ("request", "path"),
         ("request", "stream"), ("request", "body"), ("response",), ("response", "status"),
         ("response", "headers"), ("response", "delay_ms"), ("response", "body"),
         ("response", "events"), ("response", "body_text"), ("response", "cut_after"),
         ("response", "hold_ms"), ("response", "refuse")]
event_values = st.lists(st.fixed_dictionaries({"data": json_values}, optional={
    "id": json_values, "event": st.sampled_from(["result", "error"]) | json_values,
    "delay_ms": json_values, "raw": json_values}), max_size=3)


@given(edits=st.lists(st.tuples(st.sampled_from(PARTS), json_values | event_values
                                | st.integers(-10, 10**10)), max_size=4),
       stream=st.booleans())
@FUZZ
def test_recordings_load_or_fail_with_the_file_named(fuzz_server, edits, stream):
    if SECONDS and time.monotonic() - STARTED > SECONDS:
        return
    exchange = _valid_exchange()
    exchange["request"]["stream"] = stream
    for where, value in edits:
        target = exchange
        for key in where[:-1]:
            target = target[key] if isinstance(target.get(key), dict) else target.setdefault(key, {})
            if not isinstance(target, dict):
                break
        else:
            target[where[-1]] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.json"
        path.write_text(json.dumps({"format": FORMAT, "exchanges": [exchange]}, ensure_ascii=False),
                        encoding="utf-8")
        COUNTS["files"] += 1
        try:
            load_file(path)
        except RecordingError as err:
            assert "fuzz.json" in str(err)
            return
        if exchange["response"].get("hold_ms", 0) > 500:
            return  # a timeout fault holds its answer on purpose (up to MAX_DELAY_MS)
        saved = fuzz_server.store
        fuzz_server.store = RecordingStore(folder)
        fuzz_server.log.errors.clear()  # judge this example alone
        try:
            req = exchange["request"]
            body = json.dumps(req.get("body")).encode()
            head = (f"{req['method']} /{fuzz_server.secret}{req['path']} HTTP/1.1\r\n"
                    f"Host: 127.0.0.1:{fuzz_server.port}\r\nContent-Length: {len(body)}\r\n"
                    + ("X-DashScope-SSE: enable\r\n" if req.get("stream") else "")
                    + "Connection: close\r\n\r\n")
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(server_mod, "READ_TIMEOUT", 2.0)
                reply = _exchange(fuzz_server.port, head.encode("utf-8", "surrogatepass") + body)
            response = exchange["response"]
            if not (response.get("refuse") or "cut_after" in response):
                _check_reply(reply)
            assert fuzz_server.log.errors == []
        finally:
            fuzz_server.store = saved


STARTED = time.monotonic()
