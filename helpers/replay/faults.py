"""Fault injection for lesson 05 and the tests: make the replay server fail on purpose.

    from helpers.replay.faults import inject_fault

    with inject_fault("rate_limit"):             # the next chat request gets 429 Throttling
        helpers.chat("你是谁？")                   # the helper retries, the 2nd try succeeds
    with inject_fault("invalid_key", times=3):   # the next three requests get 401
        ...

Each fault is answered in DashScope's wire shape (docs/dashscope-wire.md §2,
§1): the native flat body ``{"code", "message", "request_id"}`` on ``/api/v1/...`` and the
OpenAI envelope ``{"error": {...}, "request_id"}`` on ``/compatible-mode/v1/...``, chosen per
request. ``times`` faults are armed when the block starts; whatever is left unused is disarmed
when it ends, so a cell that failed early never leaves a trap for the next one.

In live mode (no replay server) the block starts a loopback proxy in front of the live
service and points the SDKs at it: the armed faults are answered there, everything else is
forwarded with the learner's key, as in record mode (and never saved in the course).

Two faults are not answers from the server:
* ``timeout`` holds the answer for ``seconds`` of wall-clock time (whatever LLM_REPLAY_SPEED
  says), longer than the client waits; set a small client timeout first (``settings.timeout``
  or ``LLM_TIMEOUT`` for the helpers, ``timeout=`` for the SDKs).
* ``refused`` points every SDK at a loopback port where nothing listens, for the whole block
  (``times`` does not apply); the addresses are restored afterwards.
"""
from __future__ import annotations

import copy
import os
import socket
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, NamedTuple

from . import current_server, wire
from .server import IncomingRequest, ReplayServer
from .store import request_key


class HttpFault(NamedTuple):
    """An error answered with an HTTP status: native spelling, then the compatible one."""

    status: int
    code: str
    message: str
    compat_code: str
    compat_type: str
    compat_message: str
    compat_status: int | None = None  # when the OpenAI-compatible endpoint answers differently


# Codes and messages from the wire reference §2.1. [UNVERIFIED] the compatible-mode code/type
# of 403 AccessDenied and 400 Arrearage: no capture, they follow the documented pattern.
HTTP_FAULTS: dict[str, HttpFault] = {
    "invalid_key": HttpFault(
        401, "InvalidApiKey", "Invalid API-key provided.",
        "invalid_api_key", "invalid_request_error",
        "Incorrect API key provided. For details, see: "
        "https://help.aliyun.com/zh/model-studio/error-code#apikey-error"),
    "access_denied": HttpFault(
        403, "AccessDenied", "Access denied.",
        "access_denied", "invalid_request_error", "Access denied."),
    "arrearage": HttpFault(
        400, "Arrearage", "Access denied, please make sure your account is in good standing.",
        "Arrearage", "Arrearage",
        "Access denied, please make sure your account is in good standing. For details, see: "
        "https://help.aliyun.com/zh/model-studio/error-code#overdue-payment"),
    # A misspelled name on the native API: 400 InvalidParameter "Model not exist." (what the
    # dashscope SDK's own regression test and public captures show). The error-code page's
    # 404 ModelNotFound / model_not_found is the OpenAI-compatible endpoint's answer.
    "model_not_found": HttpFault(
        400, "InvalidParameter", "Model not exist.",
        "model_not_found", "invalid_request_error",
        "The model `{model}` does not exist or you do not have access to it.", 404),
    "rate_limit": HttpFault(
        429, "Throttling", "Requests throttling triggered.",
        "limit_requests", "limit_requests", "Requests rate limit exceeded, please try again later."),
    "server_error": HttpFault(
        500, "InternalError",
        "An internal error has occured, please try again later or contact service support.",
        "internal_error", "internal_error",
        "An internal error has occured, please try again later or contact service support."),
    "content_filter": HttpFault(
        400, "DataInspectionFailed", "Input data may contain inappropriate content.",
        "data_inspection_failed", "data_inspection_failed",
        "Input data may contain inappropriate content."),
    # Thinking models (lesson 03b, wire reference §6): three 400 InvalidParameter answers.
    "thinking_not_streamed": HttpFault(
        400, "InvalidParameter",
        "parameter.enable_thinking must be set to false for non-streaming calls",
        "invalid_parameter_error", "invalid_request_error",
        "parameter.enable_thinking must be set to false for non-streaming calls"),
    "stream_only_model": HttpFault(
        400, "InvalidParameter",
        "This model only support stream mode, please enable the stream parameter to access "
        "the model. ",
        "invalid_parameter_error", "invalid_request_error",
        "This model only support stream mode, please enable the stream parameter to access "
        "the model. "),
    "incremental_required": HttpFault(
        400, "InvalidParameter",
        "<400> InternalError.Algo.InvalidParameter: This model only supports incremental_output "
        "set to True.",
        "invalid_parameter_error", "invalid_request_error",
        "<400> InternalError.Algo.InvalidParameter: This model only supports incremental_output "
        "set to True."),
}
THINKING_FAULTS = ("thinking_not_streamed", "stream_only_model", "incremental_required")
# The frame seen in live captures of a stream that failed after it had started (§1.5).
STREAM_ERROR = HttpFault(
    429, "Throttling.AllocationQuota", "Allocated quota exceeded, please increase your quota limit.",
    "insufficient_quota", "insufficient_quota",
    "Allocated quota exceeded, please increase your quota limit.")

# name → what a learner sees in lesson 05's table.
FAULTS: dict[str, str] = {
    "invalid_key": "401 InvalidApiKey：Key 无效",
    "access_denied": "403 AccessDenied：无权调用",
    "arrearage": "400 Arrearage：账户欠费",
    "model_not_found": "400 InvalidParameter「Model not exist.」：模型不存在",
    "rate_limit": "429 Throttling：限流（带 Retry-After）",
    "server_error": "500 InternalError：服务端错误",
    "content_filter": "400 DataInspectionFailed：内容审核未通过",
    "thinking_not_streamed": "400 InvalidParameter：思考模式用了非流式调用",
    "stream_only_model": "400 InvalidParameter：只支持流式的模型用了非流式调用",
    "incremental_required": "400 InvalidParameter：思考模型要求 incremental_output=True",
    "stream_error": "流式输出中途收到 event:error 帧",
    "stream_cut": "流式输出中途断开，没有最后一帧",
    "timeout": "服务器迟迟不回答，超过客户端的超时",
    "refused": "连接被拒绝（地址上没有服务在监听）",
}
STREAM_FAULTS = ("stream_error", "stream_cut")
# Stand-in text when no recording answers the request (a stream fault needs some good frames).
FALLBACK_TEXT = "好的，我来回答这个问题。首先，需要说明的是，"


def is_chat(request: IncomingRequest) -> bool:
    """Chat requests on either protocol (native text/multimodal generation, compatible chat)."""
    return request.path.endswith("/generation") or request.path.endswith("/chat/completions")


@dataclass
class FaultHandle:
    """What ``with inject_fault(...) as fault`` gives: how much of the fault was used."""

    name: str
    times: int
    server: ReplayServer | None
    requests_before: int = 0
    _armed: list[dict] = field(default_factory=list, repr=False)
    port: int | None = None  # refused: the closed port the SDKs were pointed at
    _unused: int | None = field(default=None, repr=False)  # set when the block ends

    @property
    def served(self) -> int:
        """How many requests got the fault (refused: not counted, always 0)."""
        if self._unused is not None:
            return len(self._armed) - self._unused
        if self.server is None:
            return 0
        return len(self._armed) - self._waiting()

    def _waiting(self) -> int:
        assert self.server is not None
        with self.server._lock:
            return sum(any(r is armed for _, r in self.server.faults) for armed in self._armed)

    @property
    def requests(self) -> int:
        """Requests that reached the replay server since the block started."""
        return 0 if self.server is None else self.server.log.requests - self.requests_before


# --- building responses ---------------------------------------------------------------------
def _model(request: IncomingRequest) -> str:
    body = request.body if isinstance(request.body, dict) else {}
    return str(body.get("model", ""))


def http_error(fault: HttpFault, request: IncomingRequest, retry_after: float | None = None) -> dict:
    """A stored-response dict for one HTTP error, shaped for the request's protocol."""
    request_id = wire.new_request_id()
    if request.compatible:
        body = wire.compat_error(fault.compat_code, fault.compat_message.format(model=_model(request)),
                                 request_id, fault.compat_type)
    else:
        body = wire.native_error(fault.code, fault.message, request_id)
    headers = {"Content-Type": wire.JSON_CONTENT_TYPE, "x-request-id": request_id}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    status = (fault.compat_status or fault.status) if request.compatible else fault.status
    return {"status": status, "headers": headers, "body": body}


def _recorded(server: ReplayServer, request: IncomingRequest) -> dict | None:
    """The response the recordings would give this request next, without using it up."""
    store = server.store
    key = request_key(request.method, request.path, request.stream, request.body)
    with store._lock:
        found = store._by_key.get(key)
        if not found:
            return None
        return copy.deepcopy(found[store._turn.get(key, 0) % len(found)]["response"])


def _good_stream(server: ReplayServer, request: IncomingRequest, text: str | None) -> tuple[list[dict], str]:
    """Events of a normal streamed answer (the recorded one if any) and its request id."""
    recorded = None if text is not None else _recorded(server, request)
    if recorded and recorded.get("status") == 200 and recorded.get("events"):
        events = [e for e in recorded["events"] if "raw" not in e]
        return events, _request_id(events, request.compatible)
    from .author import token_pieces

    pieces, _ = token_pieces(text or FALLBACK_TEXT)
    request_id = wire.new_request_id()
    if request.compatible:
        events = list(wire.compat_stream(pieces, 20, "stop", _model(request), f"chatcmpl-{request_id}",
                                         include_usage=False))
    else:
        events = list(wire.native_stream(pieces, 20, "stop", request_id))
    return events, request_id


def _request_id(events: list[dict], compatible: bool) -> str:
    """The request id a stream's frames carry: native request_id; compatible mode has only
    the chatcmpl- id in its chunks, so the uuid inside it (or a new one) is used."""
    for event in events:
        data = event.get("data")
        if not isinstance(data, dict):
            continue
        if not compatible and data.get("request_id"):
            return str(data["request_id"])
        if compatible and isinstance(data.get("id"), str):
            found = data["id"].removeprefix("chatcmpl-")
            try:
                return str(uuid.UUID(found))
            except ValueError:
                break
    return wire.new_request_id()




def _closing_index(events: list[dict]) -> int:
    """Index of the frame that carries the finish_reason (the closing one)."""
    for n, event in enumerate(events):
        data = event.get("data")
        choices = ((data.get("output") or {}).get("choices") if "output" in data else data.get("choices")
                   ) if isinstance(data, dict) else None
        if choices and choices[0].get("finish_reason") not in (None, "null"):
            return n
    return len(events)


def _good_count(events: list[dict], after: int, compatible: bool) -> int:
    """How many leading events carry `after` pieces of text (compatible: plus the role chunk),
    always stopping before the closing frame."""
    return max(0, min(after + (1 if compatible else 0), _closing_index(events)))


def stream_response(name: str, server: ReplayServer, request: IncomingRequest, *, after: int,
                    text: str | None, fault: HttpFault) -> dict:
    events, request_id = _good_stream(server, request, text)
    keep = _good_count(events, after, request.compatible)
    headers = {"Content-Type": wire.SSE_CONTENT_TYPE, "x-request-id": request_id}
    if name == "stream_cut":
        # All frames are listed; the server sends `keep` of them and drops the connection.
        return {"status": 200, "headers": headers, "events": events, "cut_after": keep}
    if request.compatible:  # no documented shape; OpenAI's is an error object as the data
        error = {"data": wire.compat_error(fault.compat_code, fault.compat_message, request_id,
                                           fault.compat_type)}
    else:
        error = wire.native_error_event(fault.status, fault.code, fault.message, request_id,
                                        event_id=keep + 1)
    return {"status": 200, "headers": headers, "events": events[:keep] + [error]}


def held_response(server: ReplayServer, request: IncomingRequest, seconds: float) -> dict:
    """The normal answer (if recorded), sent only after `seconds`; else a server-side timeout."""
    response = _recorded(server, request) or http_error(
        HttpFault(500, "RequestTimeOut", "Request timed out, please try again later.",
                  "RequestTimeOut", "internal_error", "Request timed out, please try again later."),
        request)
    response.pop("delay_ms", None)
    return {**response, "hold_ms": seconds * 1000.0}


# --- the context manager --------------------------------------------------------------------
def _check_name(name: str) -> None:
    if name not in FAULTS:
        raise ValueError(f"没有名为 {name!r} 的故障。可用的有：{'、'.join(FAULTS)}")


def _default_hold() -> float:
    from ..config import current

    return current().timeout + 1.0


@contextmanager
def _pointed_at(host: str) -> Iterator[None]:
    """Send every SDK to `host` for the duration of the block, then restore the addresses."""
    import dashscope

    names = ("DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_BASE_URL", "OPENAI_BASE_URL", "NO_PROXY",
             "no_proxy")
    saved_env = {n: os.environ.get(n) for n in names}
    from . import bypass_proxy_for_loopback

    bypass_proxy_for_loopback()  # a learner's HTTPS_PROXY must not see loopback traffic
    saved_attr = dashscope.base_http_api_url
    dashscope.base_http_api_url = host + "/api/v1"  # legacy SDK: read at every call
    os.environ.update(DASHSCOPE_HTTP_BASE_URL=host + "/api/v1", DASHSCOPE_BASE_URL=host + "/api/v1",
                      OPENAI_BASE_URL=host + "/compatible-mode/v1")  # clients built in the block
    try:
        yield
    finally:
        dashscope.base_http_api_url = saved_attr
        for n, v in saved_env.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


@contextmanager
def _refused() -> Iterator[int]:
    """A loopback port that is bound but not listening: connections to it are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # keeps the port ours; without listen() the kernel refuses
    port = sock.getsockname()[1]
    try:
        with _pointed_at(f"http://127.0.0.1:{port}"):
            yield port
    finally:
        sock.close()


class _PassThrough:
    """Live mode: forward what no fault takes to the live service, never answer from a file."""

    source = "recorded"

    def __init__(self, base: str):
        from .record import RecordUpstream

        self.base = base
        self._record = RecordUpstream(base)

    def prefer(self, request: IncomingRequest, recorded: int) -> bool:
        return True  # always ask the live service

    def keeps(self, exchange: dict, request: IncomingRequest) -> bool:
        return False  # the learner's prompts and answers are never written anywhere

    def exchange(self, request: IncomingRequest, relay) -> dict:  # noqa: ANN001
        return self._record.exchange(request, relay)


_live_proxy: ReplayServer | None = None


def _proxy_for_live() -> ReplayServer:
    """A loopback server in front of the live service (live mode has no replay server).

    Its recordings go to a throwaway temp folder (scrubbed, as in record mode) and are never
    served back."""
    global _live_proxy
    import atexit
    import shutil
    import tempfile

    from ..config import REGIONS, current
    from .store import RecordingStore

    base = os.environ.get("LLM_RECORD_UPSTREAM") or REGIONS[current().region]
    if _live_proxy is None:
        folder = tempfile.mkdtemp(prefix="llm-faults-")  # stays empty: keeps() saves nothing
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _live_proxy = ReplayServer(RecordingStore(folder), speed=1.0, topic="live-faults").start()
    if getattr(_live_proxy.upstream, "base", None) != base:
        _live_proxy.upstream = _PassThrough(base)
    return _live_proxy


@contextmanager
def _fault_server(server: ReplayServer | None) -> Iterator[ReplayServer]:
    """The server that will answer with faults, and the SDKs pointed at it."""
    from ..config import current

    if server is not None:
        yield server
        return
    if current().mode != "live" and current_server() is not None:
        yield current_server()
        return
    proxy = _proxy_for_live()
    with _pointed_at(proxy.base):
        yield proxy


@contextmanager
def inject_fault(name: str, *, times: int = 1, after: int = 3, retry_after: float | None = 1,
                 seconds: float | None = None, text: str | None = None,
                 when: Callable[[IncomingRequest], bool] | None = None,
                 server: ReplayServer | None = None) -> Iterator[FaultHandle]:
    """Make the next ``times`` chat requests fail with the named fault (see FAULTS).

    after: stream faults, how many pieces of text arrive before the error / the cut.
    retry_after: rate_limit, seconds in the Retry-After header (None: no header).
    seconds: timeout, how long the server holds the answer (default: the kit's timeout + 1 s).
    text: stream faults, the text of the good frames (default: the recorded answer).
    when: which requests are hit (default: chat requests; stream faults: streamed chat requests).
    """
    _check_name(name)
    if not isinstance(times, int) or times < 1:
        raise ValueError(f"times 必须是正整数，收到 {times!r}")
    if name == "refused":
        with _refused() as port:
            handle = FaultHandle(name, times, server or current_server(), port=port)
            if handle.server is not None:
                handle.requests_before = handle.server.log.requests
            yield handle
        return
    with _fault_server(server) as srv:
        with _armed(srv, name, times=times, after=after, retry_after=retry_after, seconds=seconds,
                    text=text, when=when) as handle:
            yield handle


@contextmanager
def _armed(server: ReplayServer, name: str, *, times: int, after: int, retry_after: float | None,
           seconds: float | None, text: str | None,
           when: Callable[[IncomingRequest], bool] | None) -> Iterator[FaultHandle]:
    base = when or ((lambda r: is_chat(r) and r.stream) if name in STREAM_FAULTS else is_chat)
    hold = seconds if seconds is not None else (_default_hold() if name == "timeout" else 0.0)

    def arm() -> dict:
        # The body depends on the request (protocol, model, recording), so the slot is filled
        # when a request takes it; `matches` runs under the server's fault lock.
        slot: dict = {}

        def matches(request: IncomingRequest) -> bool:
            if not base(request):
                return False
            if name in HTTP_FAULTS:
                slot.update(http_error(HTTP_FAULTS[name], request,
                                       retry_after if name == "rate_limit" else None))
            elif name in STREAM_FAULTS:
                slot.update(stream_response(name, server, request, after=after, text=text,
                                            fault=STREAM_ERROR))
            else:
                slot.update(held_response(server, request, hold))
            return True

        server.push_fault(slot, when=matches)
        return slot

    handle = FaultHandle(name, times, server, requests_before=server.log.requests)
    handle._armed = [arm() for _ in range(times)]
    try:
        yield handle
    finally:
        handle._unused = handle._waiting()
        with server._lock:
            server.faults[:] = [(w, r) for w, r in server.faults
                                if not any(r is armed for armed in handle._armed)]
