"""Lesson 05, behind the scenes: how server replies and exceptions become an `LLMError`.

`helpers/errors.py` has what a learner reads (kinds, hints, `LLMError`, retries); this maps
onto it error replies (native or compatible, JSON or SSE-framed), the dashscope and openai
SDK exceptions, and those of httpx, requests, aiohttp and sockets."""
from __future__ import annotations

import email.utils
import json
import re
import sys
import time
from typing import Any, Mapping

from .errors import (_BIG, _BUSY, _DENIED, _KEY, _NO_KEY, _NETWORK, _PARAM, _RATE, _SERVER, _SLOW,
                     _TIMEOUT, _UNKNOWN, ERRORS, MESSAGE_ROWS, ErrorInfo, LLMError, stream_broken)

# Native mode reports a missing model as 400 InvalidParameter "Model not exist."
_MODEL_MISSING = re.compile(r"model\b.{0,80}?\b(not exist|does not exist|not found)|unsupported model", re.I)
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
# When the code is not in the table: the kind (and hint) that the HTTP status implies.
STATUS_FALLBACK: dict[int, ErrorInfo] = {
    400: ErrorInfo("bad_request", _PARAM, False),
    401: ErrorInfo("auth", _KEY, False),
    403: ErrorInfo("permission", _DENIED, False),
    404: ErrorInfo("not_found", "请检查 LLM_MODEL（默认 qwen-plus）和 base URL 是否正确。", False),
    408: ErrorInfo("timeout", _TIMEOUT, True),
    413: ErrorInfo("bad_request", _BIG, False),
    429: ErrorInfo("rate_limit", _RATE, True),
    500: ErrorInfo("server", _SERVER, True),
    502: ErrorInfo("server", "网关出错。请稍后重试；若持续出现，检查代理设置。", True),
    503: ErrorInfo("server", _BUSY, True),
    504: ErrorInfo("server", _SLOW, True),
}
_UNKNOWN_INFO = ErrorInfo("unknown", _UNKNOWN, False)


def _lookup(code: str | None) -> ErrorInfo | None:
    """Exact code, then case-insensitive, then dropping dotted suffixes ("InternalError.Algo.X")."""
    while code:
        info = ERRORS.get(code) or next((v for k, v in ERRORS.items() if k.lower() == code.lower()), None)
        if info:
            return info
        code = code.rpartition(".")[0]
    return None


def retry_after_from(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from retry-after-ms / Retry-After (seconds or an HTTP date), if present."""
    if not headers:
        return None
    low = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = low.get(name)
        if not value:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            pass
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError, IndexError):
            continue
    return None


def from_response(status_code: int | None, code: str | None, message: str | None,
                  request_id: str | None = None, headers: Mapping[str, str] | None = None) -> LLMError:
    """From a legacy GenerationResponse or a raw reply: the code decides first, then the status."""
    info = _lookup(code)
    rule = next((ErrorInfo(*row[1:]) for row in MESSAGE_ROWS  # e.g. lesson 03b's three 400s
                 if any(t in (message or "").lower() for t in row[0])), None)
    if info is None or info.kind == "bad_request":
        info = ERRORS["ModelNotFound"] if _MODEL_MISSING.search(message or "") else rule or info
    if info is None and status_code:
        info = STATUS_FALLBACK.get(status_code) or (
            STATUS_FALLBACK[500] if status_code >= 500 else STATUS_FALLBACK[400] if status_code >= 400 else None)
    info = info or _UNKNOWN_INFO
    hint = info.hint
    if (_lookup(code) is None or not hint) and _CHINESE.search(message or "") and not rule:
        hint = message  # no row, or a row without a hint: the server said it in Chinese itself
    return LLMError(info.kind, hint, code=code or None, status=status_code, detail=message or "",
                    request_id=request_id or None, retryable=info.retryable,
                    retry_after=retry_after_from(headers))


def _body_fields(body: Any) -> tuple[str | None, str | None, str | None]:
    """(code, message, request_id) from a native flat body or an OpenAI-style {"error": {...}}."""
    if not isinstance(body, dict):
        return None, None, None
    inner = body.get("error") if isinstance(body.get("error"), dict) else body
    code = inner.get("code") or body.get("code") or (inner.get("type") if inner is not body else None)
    return (str(code) if code else None), inner.get("message") or body.get("message"), body.get("request_id")


def _from_text(text: str, status: int | None = None, headers: Mapping[str, str] | None = None) -> LLMError | None:
    """A JSON body, or an SSE-framed one (`:HTTP_STATUS/400` + `data:{...}`), if it names an error."""
    bodies = []
    try:
        bodies.append(json.loads(text))
    except ValueError:
        for line in text.splitlines():
            m = re.match(r":HTTP_STATUS/(\d+)|status:\s*(\d+)", line)
            if m:
                status = status or int(m.group(1) or m.group(2))
            elif line.startswith("data:"):
                try:
                    bodies.append(json.loads(line[5:]))
                except ValueError:
                    continue
    for body in bodies:
        code, message, rid = _body_fields(body)
        if code or message:
            rid = rid or (headers or {}).get("x-request-id")
            return from_response(status, code, message, rid, headers)
    return None


# (module, class, kind), first match wins. Looked up in sys.modules: an exception of a class can
# only exist if its module was imported, so nothing here imports (or requires) these packages.
_TRANSPORT = [
    ("httpx_sse", "SSEError", "sse"),
    *[(m, c, k) for m in ("httpx", "httpx2") for c, k in (
        ("TimeoutException", "timeout"), ("RemoteProtocolError", "stream_broken"), ("TransportError", "network"))],
    ("requests.exceptions", "Timeout", "timeout"), ("requests.exceptions", "ChunkedEncodingError", "stream_broken"),
    ("requests.exceptions", "ConnectionError", "network"),
    ("aiohttp", "ServerTimeoutError", "timeout"), ("aiohttp", "ClientPayloadError", "stream_broken"),
    ("aiohttp", "ClientConnectionError", "network"),
    ("asyncio", "TimeoutError", "timeout"), ("socket", "timeout", "timeout"), ("builtins", "TimeoutError", "timeout"),
    ("socket", "gaierror", "network"), ("builtins", "ConnectionError", "network"),
]


def _is(exc: object, module: str, *names: str) -> bool:
    classes = [getattr(sys.modules.get(module), name, None) for name in names]
    return exc is not None and any(isinstance(exc, c) for c in classes if isinstance(c, type))


def _transport(exc: BaseException | None) -> LLMError | None:
    for module, name, kind in _TRANSPORT:
        if not _is(exc, module, name):
            continue
        detail = f"{type(exc).__name__}: {exc}"
        if kind == "network" and exc.args and _is(exc.args[0], "urllib3.exceptions", "ReadTimeoutError"):
            kind = "timeout"  # requests reports a stream that stalls after its headers this way
        if kind == "sse":
            return LLMError("server", "服务器对流式请求返回了非流式内容，多半是代理、网关或回放服务器返回了错误。"
                            "请用 err.explain(verbose=True) 查看原文，或改用非流式调用。", detail=detail,
                            retryable=False, title="流式回复格式不对")
        if kind == "stream_broken" and "without sending a response" not in str(exc):
            return stream_broken(detail=detail)
        if kind == "timeout":
            return LLMError("timeout", _TIMEOUT, detail=detail)
        return LLMError("network", _NETWORK, detail=detail)
    return None


def classify(exc: BaseException) -> LLMError:
    """The LLMError for an exception of the dashscope (legacy or 2.0) or openai SDK, an HTTP or
    network library, or the kit's own budget and price checks."""
    ds2, ds1, oai = "dashscope.v2.errors", "dashscope.common.error", "openai"
    if _is(exc, ds2, "APIConnectionError") or _is(exc, oai, "APIConnectionError"):
        # Both SDKs wrap the httpx error; its class says more (e.g. a cut stream vs a refused connection).
        timeout = _is(exc, ds2, "APITimeoutError") or _is(exc, oai, "APITimeoutError")
        return _transport(exc.__cause__) or LLMError("timeout" if timeout else "network",
                                                     _TIMEOUT if timeout else _NETWORK, detail=str(exc))
    if _is(exc, ds2, "SdkError"):
        return LLMError("unknown", _UNKNOWN, code=exc.code, detail=f"{exc.message}（{exc.solution or ''}）")
    if _is(exc, ds2, "DashScopeError"):
        if exc.code or exc.status_code:
            return from_response(exc.status_code, exc.code, exc.message, exc.request_id, exc.headers)
        return LLMError("unknown", _UNKNOWN, detail=str(exc))
    if _is(exc, ds1, "AuthenticationError") or (_is(exc, oai, "OpenAIError") and "api_key" in str(exc)
                                                and not _is(exc, oai, "APIError")):
        return LLMError("auth", _NO_KEY, detail=str(exc), title="没有找到 API Key")
    if _is(exc, ds1, "RequestFailure"):
        return from_response(exc.http_code, exc.name, exc.message, exc.request_id)
    if _is(exc, ds1, "TimeoutException"):
        return LLMError("timeout", _TIMEOUT, detail=str(exc))
    if _is(exc, ds1, "InputRequired", "ModelRequired", "InvalidInput", "InvalidParameter", "InvalidModel",
           "InputDataRequired"):
        return LLMError("bad_request", _PARAM, detail=f"{type(exc).__name__}: {exc}")
    if _is(exc, oai, "APIError"):
        code, message, rid = _body_fields(exc.body)
        response = getattr(exc, "response", None)
        return from_response(getattr(exc, "status_code", None), code or exc.code, message or exc.message,
                             rid or getattr(exc, "request_id", None),
                             response.headers if response is not None else None)
    if _is(exc, "helpers.meter", "BudgetExceeded"):
        return LLMError("budget", str(exc), retryable=False)
    if _is(exc, "helpers.tokens", "UnknownModelError"):
        return LLMError("bad_input", str(exc), retryable=False)
    if isinstance(exc, json.JSONDecodeError):
        # The legacy SDK chokes on an SSE-framed error body labelled JSON; the body is still in .doc.
        return _from_text(exc.doc or "") or LLMError(
            "unknown", "可能是代理或网关拦截了请求。请检查代理设置，或用 err.explain(verbose=True) 查看原文。",
            title="服务器返回了无法解析的内容",
            detail=(exc.doc or str(exc))[:2000])
    response = getattr(exc, "response", None)  # requests.HTTPError / httpx.HTTPStatusError
    if isinstance(getattr(response, "status_code", None), int) and response.status_code >= 400:
        headers = getattr(response, "headers", None)
        err = _from_text(getattr(response, "text", "") or "", response.status_code, headers)
        return err or from_response(response.status_code, None, str(exc), None, headers)
    return _transport(exc) or LLMError("unknown", _UNKNOWN, detail=f"{type(exc).__name__}: {exc}")


def from_exception(exc: BaseException, *, partial_text: str | None = None) -> LLMError:
    """``errors.error_from_exception``: classify, then account for text a stream delivered."""
    if isinstance(exc, LLMError):
        return exc
    err = classify(exc)
    if partial_text and err.kind in ("network", "timeout", "stream_broken"):
        err = stream_broken(partial_text, detail=err.detail)
    elif partial_text:
        err.partial_text, err.retryable = partial_text, False
    err.original = exc
    err.__cause__ = exc
    return err
