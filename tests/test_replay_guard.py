"""A replay server only its learner can use and nothing can knock over (issue 10, items 3, 4,
7, 8, 9 and 18.3), over real HTTP and raw sockets.

Each test reproduces one breakage found by probing the old server: keyless requests that
were forwarded and saved, names that wrote outside recordings/, wrong shapes that dropped the
connection, HTML error pages, a recording with "status": "200", stalled sockets holding
threads forever, proxy variables that sent loopback traffic to a proxy.
"""
from __future__ import annotations

import gc
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

import helpers
from helpers.replay import guard, server as server_mod
from helpers.replay.record import RecordUpstream
from helpers.replay.server import ReplayServer
from helpers.replay.store import FORMAT, RecordingError, RecordingStore, load_file, safe_topic

NATIVE = "/api/v1/services/aigc/text-generation/generation"
COMPAT = "/compatible-mode/v1/chat/completions"
FAKE_KEY = "sk-" + "0123456789abcdef" * 2  # built at run time: no key-shaped literal
TOKEN = "tok" + "Zq8Wm2Lp4Xr7Vn1Bt6" * 2  # a non-sk token, as some gateways issue


class Echo(BaseHTTPRequestHandler):
    """A fake live service that echoes the caller's credentials in every way seen in the wild:
    in a message, as a JSON object key, in a header, after a lowercase "bearer"."""

    protocol_version = "HTTP/1.1"
    calls: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        auth = self.headers.get("Authorization", "")
        self.calls.append(auth)
        token = auth.split(None, 1)[-1]
        body = json.dumps({"output": {"choices": [{"message": {"role": "assistant",
                                                               "content": f"echo {auth}"},
                                                   "finish_reason": "stop"}]},
                           "debug": {token: 1, FAKE_KEY: 2}, "usage": {"total_tokens": 1},
                           "request_id": "0f0f0f0f-1111-2222-3333-444444444444"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-request-id", f"bearer {token}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def echo_upstream():
    Echo.calls = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def recording_server(tmp_path, echo_upstream):
    """A server of its own in record mode, forwarding to the echoing fake."""
    srv = ReplayServer(RecordingStore(tmp_path), speed=0, upstream=RecordUpstream(echo_upstream),
                       topic="guard").start()
    yield srv, tmp_path
    srv.stop()


@pytest.fixture
def plain_server(tmp_path):
    srv = ReplayServer(RecordingStore(tmp_path), speed=0).start()
    yield srv
    srv.stop()


def _body(text: str = "你是谁？") -> dict:
    return {"model": "qwen-plus", "input": {"messages": [{"role": "user", "content": text}]},
            "parameters": {"result_format": "message"}}


def _raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes or answers one full response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = b""
        while True:
            try:
                piece = sock.recv(65536)
            except TimeoutError:
                break
            if not piece:
                break
            chunks += piece
            head, _, rest = chunks.partition(b"\r\n\r\n")
            length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if length and len(rest) >= length[0]:
                break
        return chunks


def _status_and_json(reply: bytes) -> tuple[int, dict | None]:
    head, _, rest = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, (json.loads(rest) if rest else None)


# --- 10.4: auth, Host, Origin ------------------------------------------------------------
def test_a_request_without_the_secret_is_refused_never_forwarded_nor_saved(recording_server):
    srv, folder = recording_server
    for path in (NATIVE, COMPAT):
        body = _body() if path == NATIVE else {"model": "qwen-plus", "messages": []}
        reply = requests.post(srv.url + path, json=body, timeout=5,
                              headers={"Authorization": f"Bearer {FAKE_KEY}"})
        assert reply.status_code == 403
        data = reply.json()
        if path == NATIVE:
            assert data["code"] == "AccessDenied" and "helpers.setup()" in data["message"]
        else:
            assert data["error"]["code"] == "access_denied" and data["request_id"]
    wrong = requests.post(srv.url + "/not-the-secret" + NATIVE, json=_body(), timeout=5)
    assert wrong.status_code == 403
    assert Echo.calls == [] and list(folder.glob("*.json")) == []
    assert srv.log.refused == 3 and srv.log.requests == 0


def test_foreign_host_and_browser_origin_are_refused(plain_server):
    srv = plain_server
    url = srv.base + NATIVE
    assert requests.post(url, json=_body(), timeout=5,
                         headers={"Host": "attacker.example:80"}).status_code == 403
    # what a web page's fetch(..., {mode: "no-cors", body: "..."}) sends: text/plain + Origin
    page = requests.post(url, data=json.dumps(_body()), timeout=5,
                         headers={"Content-Type": "text/plain", "Origin": "https://evil.example"})
    assert page.status_code == 403 and page.json()["code"] == "AccessDenied"
    localhost = f"http://localhost:{srv.port}/{srv.secret}" + NATIVE
    assert requests.post(localhost, json=_body(), timeout=5).status_code == server_mod.MISS_STATUS  # a plain miss


def test_setup_hands_the_secret_to_every_sdk():
    import dashscope

    settings = helpers.setup()
    import os

    secret = helpers.replay.current_server().secret
    assert f"/{secret}/api/v1" in dashscope.base_http_api_url
    assert os.environ["OPENAI_BASE_URL"].endswith(f"/{secret}/compatible-mode/v1")
    assert os.environ["DASHSCOPE_BASE_URL"] == settings.base_url
    status = requests.get(settings.replay_url + guard.STATUS_PATH, timeout=5)
    assert status.status_code == 200 and status.json()["recordings"] > 0
    assert requests.get(helpers.replay.current_server().url + guard.STATUS_PATH,
                        timeout=5).status_code == 403


# --- 10.3: scrubbing what record mode saves -----------------------------------------------
def test_record_mode_scrubs_names_keys_headers_and_lowercase_bearer(recording_server):
    srv, folder = recording_server
    body = _body(f"我的 key 是 {FAKE_KEY}，帮我看看")
    reply = requests.post(srv.base + NATIVE, json=body, timeout=5,
                          headers={"Authorization": f"bearer {TOKEN}"})
    assert reply.status_code == 200 and TOKEN in reply.text  # the caller sees the live reply
    text = (folder / "guard.json").read_text(encoding="utf-8")
    for secret in (FAKE_KEY, TOKEN):
        runs = {secret[i:i + 12] for i in range(len(secret) - 11)}
        assert not any(run in text for run in runs), f"a 12-character run of {secret[:5]}… was saved"
    saved = load_file(folder / "guard.json")[0]
    assert FAKE_KEY[:10] not in saved["name"] and "sk-***" in saved["name"]
    assert saved["response"]["headers"]["x-request-id"] == "bearer ***"


# --- 10.7: names confined to recordings/ ---------------------------------------------------
@pytest.mark.parametrize("name", ["../../escaped", "a/b", "..", "c:\\x", "/abs", "", ".hidden",
                                  "x\0y"])
def test_recording_names_stay_inside_recordings(name, tmp_path):
    with pytest.raises(RecordingError, match="录制名"):
        safe_topic(name)
    store = RecordingStore(tmp_path)
    with pytest.raises(RecordingError):
        store.add({"name": "x", "source": "recorded",
                   "request": {"method": "POST", "path": NATIVE}, "response": {"status": 200,
                                                                               "body": {}}}, name)
    assert list(tmp_path.parent.glob("escaped*")) == []


def test_setup_refuses_a_lesson_name_with_a_path():
    with pytest.raises(RecordingError, match="录制名"):
        helpers.setup("../../escaped")
    helpers.setup()


def test_record_mode_does_not_follow_a_symlink(tmp_path):
    folder, target = tmp_path / "rec", tmp_path / "outside.json"
    folder.mkdir()
    store = RecordingStore(folder)
    (folder / "t.json").symlink_to(target)
    with pytest.raises(RecordingError, match="符号链接"):
        store.add({"name": "x", "source": "recorded", "request": {"method": "POST", "path": NATIVE},
                   "response": {"status": 200, "body": {}}}, "t")
    assert not target.exists()


# --- 10.8: body cap, timeouts, bounded connections ------------------------------------------
def test_a_huge_content_length_gets_413_without_the_body_being_read(plain_server):
    srv = plain_server
    head = (f"POST /{srv.secret}{NATIVE} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {10**12}\r\n\r\n").encode()
    status, data = _status_and_json(_raw(srv.port, head))
    assert status == 413 and data["code"] == "RequestTooLarge"
    big = requests.post(srv.base + COMPAT, data=b" " * (guard.MAX_BODY + 1), timeout=10,
                        headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "request_too_large"


def test_stalled_sockets_do_not_lock_the_learner_out(plain_server, monkeypatch):
    srv = plain_server
    monkeypatch.setattr(server_mod, "MAX_CONNECTIONS", 40)
    baseline = threading.active_count()
    stalled = []
    for n in range(120):  # three times the cap: idle ones give way to newcomers
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        if n % 2:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1")  # half a request, then nothing
        stalled.append(sock)
    time.sleep(0.3)
    assert threading.active_count() - baseline <= 45, "a thread per stalled socket, unbounded"
    started = time.monotonic()
    reply = requests.post(srv.base + NATIVE, json=_body(), timeout=5)
    assert reply.status_code == server_mod.MISS_STATUS and time.monotonic() - started < 1.0
    del reply
    gc.collect()  # requests keeps the connection open while the response object lives
    for sock in stalled:
        sock.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= baseline, [t.name for t in threading.enumerate()]
    assert srv.log.errors == []


def test_a_client_that_stops_sending_is_timed_out(plain_server, monkeypatch):
    monkeypatch.setattr(server_mod._Handler, "timeout", 0.5)
    srv = plain_server
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(f"POST /{srv.secret}{NATIVE} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
                     "Content-Length: 100\r\n\r\n{".encode())
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed by the server, not held open forever
        assert time.monotonic() - started < 3


# --- 10.9: malformed requests get DashScope-shaped errors -----------------------------------
@pytest.mark.parametrize("path,body,fragment", [
    (NATIVE, {"model": "qwen-plus", "input": "hi"}, "input"),
    (NATIVE, {"model": "qwen-plus", "input": {"messages": 5}}, "input.messages"),
    (NATIVE, {"model": 7, "input": {"messages": []}}, "model"),
    (NATIVE, [1, 2, 3], "JSON 对象"),
    (COMPAT, {"model": "qwen-plus", "messages": 5}, "messages"),
    (COMPAT, {"model": "qwen-plus", "messages": ["hi"]}, "messages[0]"),
    (COMPAT, {"model": "qwen-plus", "messages": [], "stream": "yes"}, "stream"),
])
def test_wrong_shapes_get_a_400_in_the_endpoint_shape(plain_server, path, body, fragment):
    reply = requests.post(plain_server.base + path, json=body, timeout=5)
    assert reply.status_code == 400
    data = reply.json()
    if path == NATIVE:
        assert data["code"] == "InvalidParameter" and fragment in data["message"]
    else:
        assert data["error"]["code"] == "invalid_parameter_error"
        assert data["error"]["type"] == "invalid_request_error" and fragment in data["error"]["message"]
    assert plain_server.log.errors == []


def test_deep_nesting_and_bad_json_get_400(plain_server):
    deep = "[" * 900 + "]" * 900
    for raw in (deep.encode(), b'{"model": "qwen-plus", "input": ' + deep.encode() + b"}",
                b"{not json", b"\xff\xfe"):
        reply = requests.post(plain_server.base + NATIVE, data=raw, timeout=5,
                              headers={"Content-Type": "application/json"})
        assert reply.status_code == 400 and reply.json()["code"] == "InvalidParameter"
    compat = requests.post(plain_server.base + COMPAT, data=b"{", timeout=5)
    assert compat.json()["error"]["code"] == "invalid_parameter_error"


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "99999999999999999999999"])
def test_bad_content_length_gets_400_not_a_dropped_connection(plain_server, length):
    srv = plain_server
    head = (f"POST /{srv.secret}{NATIVE} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
            f"Content-Length: {length}\r\n\r\n{{}}").encode()
    status, data = _status_and_json(_raw(srv.port, head))
    assert status == 400 and data["code"] == "InvalidParameter"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "FOO"])
def test_other_methods_get_405_in_dashscope_json(plain_server, method):
    reply = requests.request(method, plain_server.base + NATIVE, json=_body(), timeout=5)
    assert reply.status_code == 405
    assert reply.headers["Content-Type"] == "application/json"
    if method != "HEAD":
        assert reply.json()["code"] == "MethodNotAllowed"


def test_openai_sdk_reports_a_bad_request_not_a_network_failure(plain_server):
    import openai

    client = openai.OpenAI(api_key="x", base_url=plain_server.base + "/compatible-mode/v1",
                           max_retries=0)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="qwen-plus", messages=5)  # type: ignore[arg-type]


def test_a_garbage_request_line_gets_json(plain_server):
    status, data = _status_and_json(_raw(plain_server.port, b"POST / HTTP/9.x\r\n\r\n"))
    assert status == 400 and data["code"] == "InvalidParameter"
    # A TLS hello on the plain port reads as HTTP/0.9: a bare JSON body, no status line.
    reply = _raw(plain_server.port, b"\x16\x03\x01 nonsense\r\n\r\n")
    assert json.loads(reply)["code"] == "InvalidParameter"


# --- 10.9: recordings validated at load -----------------------------------------------------
def _file(tmp_path: Path, response: dict, request: dict | None = None) -> Path:
    exchange = {"name": "x", "source": "authored",
                "request": request or {"method": "POST", "path": NATIVE, "body": _body()},
                "response": response}
    path = tmp_path / "05_bad.json"
    path.write_text(json.dumps({"format": FORMAT, "exchanges": [exchange]}), encoding="utf-8")
    return path


@pytest.mark.parametrize("response,fragment", [
    ({"status": "200", "body": {}}, "status"),
    ({"status": 99, "body": {}}, "status"),
    ({"status": True, "body": {}}, "status"),
    ({"status": 200, "delay_ms": 1e9, "body": {}}, "delay_ms"),
    ({"status": 200, "delay_ms": -5, "body": {}}, "delay_ms"),
    ({"status": 200, "events": [{"data": {}, "delay_ms": "slow"}]}, "events[0].delay_ms"),
    ({"status": 200, "events": "abc"}, "events"),
    ({"status": 200, "events": [{"id": 1, "data": {}}]}, "id"),
    ({"status": 200, "headers": {"x": 1}, "body": {}}, "headers"),
    ({"status": 200, "body_text": 5}, "body_text"),
])
def test_a_bad_recording_is_refused_at_load_with_file_and_entry(tmp_path, response, fragment):
    path = _file(tmp_path, response)
    with pytest.raises(RecordingError) as info:
        load_file(path)
    assert "05_bad.json" in str(info.value) and "第 1 条记录" in str(info.value)
    assert fragment in str(info.value)


def test_a_bad_request_in_a_recording_is_refused(tmp_path):
    for request in ({"method": "DELETE", "path": NATIVE}, {"method": "POST", "path": 5},
                    {"method": "POST", "path": NATIVE, "stream": "yes"}):
        with pytest.raises(RecordingError, match="request"):
            load_file(_file(tmp_path, {"status": 200, "body": {}}, request))


def test_a_missing_recordings_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LLM_RECORDINGS", str(tmp_path / "typo"))
    try:
        with pytest.raises(RecordingError, match="不存在"):
            helpers.setup()
    finally:
        monkeypatch.undo()
        helpers.setup()
    with pytest.raises(RecordingError, match="不存在"):
        RecordingStore(tmp_path / "typo")


# --- 18.3: proxy variables never catch loopback traffic --------------------------------------
def test_replay_works_with_proxy_variables_pointing_at_a_closed_port(monkeypatch):
    import dashscope
    import httpx
    import openai

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy)
        monkeypatch.setenv("NO_PROXY", "intranet.example")
        monkeypatch.delenv("no_proxy", raising=False)
        settings = helpers.setup()
        import os

        assert os.environ["NO_PROXY"].split(",") == ["intranet.example", "127.0.0.1", "localhost"]
        question = [{"role": "user", "content": "你是谁？"}]
        legacy = dashscope.Generation.call(model="qwen-plus", messages=question,
                                           result_format="message")
        assert legacy.status_code == 200 and legacy.output.choices[0].message.content
        assert requests.get(settings.replay_url + guard.STATUS_PATH, timeout=5).ok
        assert httpx.get(settings.replay_url + guard.STATUS_PATH, timeout=5).is_success
        with pytest.raises(openai.APIStatusError) as reached:  # reached the server: a 4xx
            openai.OpenAI(max_retries=0).chat.completions.create(model="qwen-plus",
                                                                 messages=[{"role": "user",
                                                                            "content": "?"}])
        assert reached.value.status_code < 500
        assert helpers.chat("你是谁？").text == legacy.output.choices[0].message.content


@pytest.mark.parametrize("headers", [{"": "x"}, {"x-a": "Ā"}, {"bad name": "x"}, {"x": "a\r\nb"}])
def test_recorded_headers_that_http_cannot_carry_are_refused_at_load(tmp_path, headers):
    # Found by the fuzz campaign: such a header crashed the handler mid-response.
    with pytest.raises(RecordingError, match="headers"):
        load_file(_file(tmp_path, {"status": 200, "headers": headers, "body": {}}))
