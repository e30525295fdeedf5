"""The loopback replay server: answers DashScope requests from recordings.

It runs in a daemon thread of the learner's own process (kernel or console program), on
127.0.0.1 and an ephemeral port. Its thread never prints: ipykernel would route the text into
whichever notebook cell runs next. Problems are kept in ``server.log`` instead.

Only the learner's own process can use it (see guard.py: a secret in the base URL, Host and
Origin checked), and nothing a client sends can knock it over: reads time out, bodies are
capped (413), a connection waiting for its next request gives way when too many are open,
and every request that is not understood gets a DashScope-shaped error, never a dropped
connection.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Protocol

from . import guard, wire
from ..front_end import MISS_ADVICE
from .guard import STATUS_PATH
from .match import DIFFERS_HEADER, is_chat
from .store import RecordingStore

# Resources DashScope deletes with DELETE (SDK: Files.delete, FineTunes.delete, Deployments.delete).
DELETABLE = ("/api/v1/files/", "/api/v1/fine-tunes/", "/api/v1/deployments/")
MISS_STATUS = 400  # not retried by any client tested (docs/replay.md); 404 means ModelNotFound
READ_TIMEOUT = 20.0  # seconds a client may take to send its request (or leave a socket idle)
MAX_CONNECTIONS = 256  # open client connections; far below a kernel's 1,024 file handles
KEPT_RESPONSE_HEADERS = ("content-type", "x-request-id", "retry-after", "x-dashscope-finished")


@dataclass
class IncomingRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw_body: bytes
    body: Any
    stream: bool

    @property
    def compatible(self) -> bool:
        return wire.is_compatible(self.path)


class Relay:
    """Lets an upstream pass bytes to the waiting client as they arrive (record mode)."""

    def __init__(self, handler: "_Handler"):
        self._handler = handler
        self.started = False

    def head(self, status: int, headers: dict[str, str], streaming: bool) -> None:
        self.started = True
        self._handler.start_response(status, headers, streaming)

    def chunk(self, data: bytes) -> None:
        self._handler.write_chunk(data)


class Upstream(Protocol):
    """Fills a miss in record mode (the live service) or author mode (a spec)."""

    source: str

    def exchange(self, request: IncomingRequest, relay: Relay) -> dict: ...

    # Optional: ``prefer(request, recorded) -> bool`` asks the upstream even when a
    # recording matches (author mode: a spec with more replies than recorded).


@dataclass
class ServerLog:
    requests: int = 0
    misses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    refused: int = 0  # requests turned away by guard.py (no secret, foreign Host, Origin)


class ReplayServer:
    """Serves recordings; in record/author mode asks ``upstream`` on a miss and saves."""

    def __init__(self, store: RecordingStore, *, speed: float = 1.0,
                 upstream: Upstream | None = None, topic: str = "misc",
                 secret: str = guard.PROCESS_SECRET):
        self.store = store
        self.secret = secret
        # Strict: exact request bodies only, no matching by meaning (the kit's wire tests).
        self.strict = False
        self.speed = speed
        self.upstream = upstream
        self.topic = topic
        self.log = ServerLog()
        # Answer makers consulted before the recordings, in order: each takes the request and
        # returns a response dict (the recordings' "response" shape) or None to pass. The
        # varied-replay upstream and the local embedding/rerank stand-in plug in here.
        self.responders: list[Callable[[IncomingRequest], dict | None]] = []
        # Faults waiting to be served (lesson 05): each is (predicate, response dict).
        self.faults: list[tuple[Callable[[IncomingRequest], bool], dict]] = []
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, port: int = 0) -> "ReplayServer":
        self._httpd = _HTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.replay = self
        thread = threading.Thread(target=self._httpd.serve_forever, name="llm-replay-server",
                                  kwargs={"poll_interval": 0.2}, daemon=True)
        thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def port(self) -> int:
        assert self._httpd, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The bare address; requests need ``base`` (with the secret) to be answered."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        """What the SDKs are given: ``base + "/api/v1"``, ``base + "/compatible-mode/v1"``."""
        return f"{self.url}/{self.secret}"

    # -- faults ----------------------------------------------------------------------------
    def push_fault(self, response: dict,
                   when: Callable[[IncomingRequest], bool] = lambda r: True) -> None:
        with self._lock:
            self.faults.append((when, response))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _take_fault(self, request: IncomingRequest) -> dict | None:
        with self._lock:
            for i, (when, response) in enumerate(self.faults):
                if when(request):
                    del self.faults[i]
                    return response
        return None

    def delay(self, ms: float) -> None:
        if self.speed > 0 and ms > 0:
            time.sleep(ms / 1000.0 / self.speed)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: with more simultaneous connects (threads, a class
    # of learners' widgets) the kernel drops or resets the rest (1 s SYN retries, or errors).
    request_queue_size = 128
    replay: ReplayServer

    def server_activate(self) -> None:
        super().server_activate()
        self._conn_lock = threading.Lock()
        self._conns: dict[socket.socket, tuple[bool, float]] = {}  # socket → (busy, since)

    def process_request(self, request, client_address) -> None:  # noqa: ANN001
        """Bounded: past MAX_CONNECTIONS the longest-waiting idle connection is closed to
        make room (stalled sockets cannot lock learners out); if every one is busy, a 503."""
        with self._conn_lock:
            if len(self._conns) >= MAX_CONNECTIONS:
                idle = [(since, s) for s, (busy, since) in self._conns.items() if not busy]
                if not idle:
                    self._too_busy(request)
                    return
                victim = min(idle, key=lambda pair: pair[0])[1]
                del self._conns[victim]
                try:
                    victim.shutdown(socket.SHUT_RDWR)  # its thread reads EOF and ends
                except OSError:
                    pass
            self._conns[request] = (False, time.monotonic())
        super().process_request(request, client_address)

    def track(self, conn: socket.socket, busy: bool) -> None:
        with self._conn_lock:
            if conn in self._conns:
                self._conns[conn] = (busy, time.monotonic())

    def shutdown_request(self, request) -> None:  # noqa: ANN001
        with self._conn_lock:
            self._conns.pop(request, None)
        super().shutdown_request(request)

    def _too_busy(self, request: socket.socket) -> None:
        body = wire.dumps(wire.native_error(
            "ServiceUnavailable", f"回放服务同时处理的连接已达上限（{MAX_CONNECTIONS}），请稍后重试。",
            wire.new_request_id())).encode("utf-8")
        head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n")
        try:
            request.settimeout(1.0)
            request.sendall(head.encode("ascii") + body)
        except OSError:
            pass
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return  # a client closing an idle keep-alive connection, not a server problem
        self.replay.log.errors.append(traceback.format_exc(limit=3))


# Native code, compatible code and compatible type of the errors the server itself answers.
OWN_ERRORS = {
    "InvalidParameter": ("invalid_parameter_error", "invalid_request_error"),
    "AccessDenied": ("access_denied", "invalid_request_error"),
    "RequestTooLarge": ("request_too_large", "invalid_request_error"),
    "MethodNotAllowed": ("method_not_allowed", "invalid_request_error"),
    "InternalError": ("internal_error", "internal_error"),
}
REFUSED = ("这个回放服务只回答启动它的程序（helpers.setup() 交给 SDK 的地址里带有访问口令）。"
           "请在同一个 notebook 或程序里调用 helpers.setup()，再用 settings.base_url 或 "
           "settings.compatible_url 作为地址；网页和其他程序不能使用它。")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = READ_TIMEOUT  # StreamRequestHandler applies it to the socket: reads and writes
    _chunked = False
    _started = False
    api_path = ""

    def setup(self) -> None:
        super().setup()
        # Send each SSE frame at once: without this, Nagle's algorithm holds small writes
        # back until the client's delayed ACK, about 40 ms per response on loopback.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        self.close_connection = True
        self._next_request()
        while not self.close_connection:
            self._next_request()

    def _next_request(self) -> None:
        self.server.track(self.connection, busy=False)  # idle: may give way to a newcomer
        self._started, self._chunked, self.api_path = False, False, ""
        self.handle_one_request()

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if ok:
            self.server.track(self.connection, busy=True)
        return ok

    def log_message(self, format: str, *args: Any) -> None:  # the thread never prints
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        # Like BaseHTTPRequestHandler's, minus the "Server: BaseHTTP/0.6 Python/…" header,
        # which DashScope never sends.
        self._started = True
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, headers too long, unknown method),
        in DashScope's shape instead of an HTML page."""
        self.close_connection = True
        if len(getattr(self, "raw_requestline", b"").split()) >= 3:
            self.request_version = "HTTP/1.1"  # a request line we could not parse: answer in HTTP/1.1
        text = {414: "请求行太长。", 431: "请求头太长。", 501: "不支持这个 HTTP 方法。"}.get(
            code, f"请求格式错误：{message or code}。")
        if code == 501:
            code = 405
        self.send_error_reply(code, "MethodNotAllowed" if code == 405 else "InvalidParameter",
                              text)

    def do_GET(self) -> None:
        self.handle_api()

    def do_POST(self) -> None:
        self.handle_api()

    def _not_allowed(self) -> None:
        self.close_connection = True  # any body it sent is left unread
        self.send_error_reply(405, "MethodNotAllowed",
                              f"不支持 {self.command} 方法：这个接口只用 POST（和 GET）。",
                              headers={"Allow": "GET, POST"})

    do_PUT = do_PATCH = do_OPTIONS = do_HEAD = _not_allowed

    def do_DELETE(self) -> None:
        """DashScope deletes files, fine-tuning jobs and deployments with DELETE (lesson 12)."""
        path = guard.split_secret(self.path.split("?")[0], self.server.replay.secret) or ""
        if path.startswith(DELETABLE):
            self.handle_api()
        else:
            self._not_allowed()

    # -- the request -----------------------------------------------------------------------
    def handle_api(self) -> None:
        try:
            self._handle_api()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away
        except TimeoutError:
            raise  # handle_one_request closes the connection
        except Exception as exc:  # noqa: BLE001 - a bug must not look like a network failure
            self.server.replay.log.errors.append(traceback.format_exc(limit=4))
            self.close_connection = True
            if not self._started:
                self.send_error_reply(500, "InternalError",
                                      f"回放服务内部错误（{type(exc).__name__}），请重试或报告这个问题。")
            else:
                self.cut_connection()

    def _refuse(self, why: str) -> None:
        self.server.replay.log.refused += 1
        self.close_connection = True
        self.send_error_reply(403, "AccessDenied", f"{REFUSED}（{why}）")

    def _handle_api(self) -> None:
        replay = self.server.replay
        raw_path = self.path.split("?")[0]
        api_path = guard.split_secret(raw_path, replay.secret)
        self.api_path = api_path or raw_path
        if not guard.host_ok(self.headers.get("Host"), self.server.server_address[1]):
            return self._refuse("Host 不是 127.0.0.1")
        if self.headers.get("Origin") is not None:
            return self._refuse("来自网页的请求")
        if api_path is None:
            return self._refuse("缺少访问口令")
        if self.command == "GET" and api_path == STATUS_PATH:
            self.send_json(200, {"recordings": len(replay.store),
                                 "files": [p.name for p in replay.store.files],
                                 "requests": replay.log.requests,
                                 "misses": len(replay.log.misses)})
            return
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return self.send_error_reply(411, "InvalidParameter",
                                         "请求体需要 Content-Length（不支持分块上传）。")
        length = guard.content_length(self.headers.get("Content-Length"))
        if length is None:
            self.close_connection = True
            return self.send_error_reply(400, "InvalidParameter", "Content-Length 不是合法的数字。")
        if length > guard.MAX_BODY:
            self.close_connection = True
            return self.send_error_reply(
                413, "RequestTooLarge",
                f"请求体太大（{length} 字节，上限 {guard.MAX_BODY // (1024 * 1024)} MB）。")
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            self.close_connection = True  # the client stopped sending: nobody to answer
            return
        not_json = False
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, RecursionError):  # e.g. a multipart upload: only a responder answers
            body, not_json = None, True
        problem = None if not_json else guard.shape_problem(api_path, body)
        if problem:
            return self.send_error_reply(400, "InvalidParameter", f"请求格式错误：{problem}。")
        replay.log.requests += 1
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = api_path
        stream = (headers.get("x-dashscope-sse", "").lower() == "enable"
                  or (not wire.is_compatible(path)
                      and "text/event-stream" in headers.get("accept", "").lower())
                  or (wire.is_compatible(path) and isinstance(body, dict)
                      and bool(body.get("stream"))))
        request = IncomingRequest(self.command, path, headers, raw, body, stream)

        fault = replay._take_fault(request)
        if fault is not None:
            self.serve(fault, request)
            return
        for responder in list(replay.responders):
            made = responder(request)
            if made is not None:
                self.serve(made, request)
                return
        if not_json:
            return self.send_error_reply(400, "InvalidParameter", "请求体不是合法的 JSON。")
        prefer = getattr(replay.upstream, "prefer", None)
        recorded = replay.store.count(request.method, path, stream, body)
        wants_new = prefer is not None and prefer(request, recorded)
        exchange = None if wants_new else replay.store.match(request.method, path, stream, body)
        if exchange is not None and replay.upstream is not None \
                and replay.upstream.source == "recorded" and exchange["source"] != "recorded":
            exchange = None  # record mode replaces authored answers with captured ones
        if exchange is not None:
            self.serve(exchange["response"], request)
            return
        if replay.upstream is None and not replay.strict:
            found = replay.store.answer(request.method, path, stream, body)
            if found is not None:
                response, differs = found
                if differs:
                    response = {**response, "headers": {**response.get("headers", {}),
                                                        DIFFERS_HEADER: ",".join(differs)}}
                self.serve(response, request)
                return
        if replay.upstream is not None:
            relay = Relay(self)
            try:
                exchange = replay.upstream.exchange(request, relay)
            except Exception as exc:  # noqa: BLE001 - reported to the client, never printed
                replay.log.errors.append(f"{type(exc).__name__}: {exc}")
                if not relay.started:
                    self.send_error_reply(502, "ReplayUpstreamError",
                                          f"{replay.upstream.source} 上游出错：{exc}")
                else:
                    self.cut_connection()
                return
            keeps = getattr(replay.upstream, "keeps", None)
            if keeps is None or keeps(exchange, request):
                replay.store.add(exchange, replay.topic)
            if not relay.started:
                self.serve(exchange["response"], request)
            else:
                self.finish_response()
            return
        self.send_miss(request)

    # -- writing responses -----------------------------------------------------------------
    def start_response(self, status: int, headers: dict[str, str], streaming: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self._chunked = streaming
        if streaming:
            self.send_header("Transfer-Encoding", "chunked")
        else:  # relayed body of unknown length: it ends when the connection closes
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def write_chunk(self, data: bytes) -> None:
        if not data:
            return
        if self._chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.wfile.write(data)
        self.wfile.flush()

    def finish_response(self) -> None:
        if self._chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def cut_connection(self) -> None:
        """Drop the connection mid-body, as a proxy that gives up would."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = (data if isinstance(data, str) else wire.dumps(data)).encode("utf-8")
        self.send_response(status)
        merged = {"Content-Type": wire.JSON_CONTENT_TYPE, **(headers or {})}
        for name, value in merged.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def serve(self, response: dict, request: IncomingRequest) -> None:
        """Send a stored response: JSON body, or SSE events paced by their delay_ms."""
        replay = self.server.replay
        if response.get("refuse"):
            self.cut_connection()
            return
        replay.delay(response.get("delay_ms", 0))
        if response.get("hold_ms"):  # a fault that must really wait, whatever the replay speed
            time.sleep(response["hold_ms"] / 1000.0)
        status = response["status"]
        headers = dict(response.get("headers", {}))
        try:
            if "events" not in response:
                body = response.get("body_text", response.get("body"))
                self.send_json(status, body, headers)
                return
            self.start_response(status, headers, streaming=True)
            cut_after = response.get("cut_after")
            for n, event in enumerate(response["events"]):
                if cut_after is not None and n >= cut_after:
                    self.cut_connection()
                    return
                replay.delay(event.get("delay_ms", 0))
                self.write_chunk(wire.encode_event(event, request.compatible).encode("utf-8"))
            if cut_after is not None:
                self.cut_connection()
                return
            self.finish_response()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (e.g. KeyboardInterrupt)

    def send_error_reply(self, status: int, code: str, message: str,
                         headers: dict[str, str] | None = None) -> None:
        """An error the server itself answers, in the shape of the endpoint asked."""
        request_id = wire.new_request_id()
        if "/compatible-mode/" in (self.api_path or getattr(self, "path", "") or ""):
            compat_code, compat_type = OWN_ERRORS.get(code, (code.lower(), "invalid_request_error"))
            body = wire.compat_error(compat_code, message, request_id, compat_type)
        else:
            body = wire.native_error(code, message, request_id)
        self.send_json(status, body, {"x-request-id": request_id, **(headers or {})})

    def send_miss(self, request: IncomingRequest) -> None:
        """No recording answers this request: HTTP 400 with code ReplayMiss (see docs/replay.md
        for why 400: no client retries it, and the code tells it apart from a real 400).

        The message says what happened, in plain Chinese (no JSON paths), then what to do in a
        notebook, where code calling an SDK directly reads only this message; the kit's own
        clients show the advice for where the learner is instead (``helpers/front_end.py``)."""
        replay = self.server.replay
        summary = describe_request(request)
        difference = replay.store.diagnose(request.path, request.body) or plain_difference(
            replay.store.nearest(request.method, request.path, request.stream, request.body))
        replay.log.misses.append(summary)
        message = (f"回放模式下没有这条请求的录制（{summary}）。"
                   + (f"和最接近的录制相比：{difference}。" if difference else "")
                   + "回放只能重现课程里录制过的请求。" + MISS_ADVICE["notebook"])
        self.send_error_reply(MISS_STATUS, "ReplayMiss", message)


def plain_difference(where: str | None) -> str | None:
    """``body.input.messages[1].content`` → 「第 2 条消息不同」; ``body.parameters.seed`` →
    「参数 seed 不同」: where a request differs, said without a JSON path."""
    if not where:
        return None
    found = re.search(r"messages\[(\d+)\]", where)
    if found:
        return f"第 {int(found.group(1)) + 1} 条消息不同"
    names = [n for n in re.split(r"[.\[\]]", where.split("（")[0])
             if n and not n[0].isdigit() and n != "body"]
    return f"参数 {names[-1]} 不同" if names else "请求内容不同"


def describe_request(request: IncomingRequest) -> str:
    """A short Chinese description of a request: endpoint, model, stream, last message."""
    body = request.body if isinstance(request.body, dict) else {}
    parts = [("OpenAI 兼容接口" if request.compatible else "DashScope 原生接口")
             if is_chat(request.path) else request.path.rsplit("/", 2)[-2] + "/"
             + request.path.rsplit("/", 1)[-1]]
    if body.get("model"):
        parts.append(f"模型 {body['model']}")
    parts.append("流式" if request.stream else "非流式")
    messages = wire.request_messages(body, request.compatible)
    if messages and isinstance(messages[-1], dict):
        content = str(messages[-1].get("content", ""))
        parts.append(f"最后一条消息「{content[:30]}{'…' if len(content) > 30 else ''}」")
    return "，".join(parts)
