"""One error table and one retry policy for the whole kit.

Every failure ends up as an `LLMError` whose `str()` is a short Simplified-Chinese message that
says what to do; the original server text, request id and exception stay on the object
(`err.explain(verbose=True)` shows them).
"""
from __future__ import annotations

import email.utils
import json
import random
import re
import sys
import time
import traceback
from typing import Any, Callable, Iterable, Mapping, NamedTuple, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt

T = TypeVar("T")


class ErrorInfo(NamedTuple):
    kind: str
    hint: str
    retryable: bool


# --- the table ------------------------------------------------------------------------------
# Short titles per kind; the per-code hint carries the specific fix.
TITLES = {
    "auth": "API Key 无效", "permission": "没有调用权限", "arrearage": "账户欠费",
    "not_found": "找不到模型或接口", "rate_limit": "请求太频繁，被限流", "server": "服务端出错",
    "content_filter": "内容未通过安全审核", "bad_request": "请求参数有误", "timeout": "请求超时",
    "network": "网络连接失败", "replay_miss": "回放里没有这条请求的录制",
    "stream_broken": "流式输出中途断开", "bad_input": "输入有误", "budget": "超出预算",
    "unknown": "未预料的错误",
}
# Only these kinds can succeed on a second try, and only while no text was delivered yet.
RETRYABLE_KINDS = frozenset({"rate_limit", "server", "timeout", "network", "stream_broken"})

_KEY = ("请检查 .env 里的 DASHSCOPE_API_KEY 是否完整、没有多余空格；Key 要与地址同一地域（LLM_REGION）、"
        "同一计费方案（Coding/Token Plan 的 sk-sp- Key 只能配它自己的 Base URL）。"
        "再运行 00 号课的环境检查，看是否有系统环境变量覆盖了它。")
_NO_KEY = "请在 .env 里写入 DASHSCOPE_API_KEY=sk-…（步骤见 00 号课）；不想用 Key 也可以不设它，课程会以回放模式运行。"
_RATE = "请等几秒再试（本工具会自动重试），或降低并发；经常出现的话，到百炼控制台查看该模型的限流额度。"
_TPM = "每分钟 Token 用量超出了分配额度。请等一分钟再试，或缩短输入、降低并发；需要更高额度请到百炼控制台申请。"
_BURST = "请求量增长太快，触发了突发限流。请放慢速度、逐步增加并发后再试。"
_DENIED = "这个 Key 无权调用该模型或接口。请到百炼控制台确认已开通该模型、Key 所在业务空间有权限，或换回默认模型 qwen-plus。"
_MODEL = ("模型名不存在或已下线。请检查 .env 里的 LLM_MODEL 拼写（课程默认 qwen-plus）；"
          "已下线的模型请换成 helpers/data/models.json 里写明的替代模型。")
_PARAM = "请按下面的原文检查参数（例如 max_tokens 的范围、messages 的格式）。"
_FILTER = "输入或输出触发了内容审核。请换一种说法改写问题后再试；这不是程序错误，重试没有用。"
_SERVER = "服务端临时出错。请稍后重试（本工具会自动重试）；一直失败就记下 request_id 联系阿里云支持。"
_SLOW = "服务端处理超时。请稍后重试，或缩短输入、调小 max_tokens；长回答建议用流式输出。"
_BUSY = "模型服务暂时不可用（维护或负载过高）。请稍后重试，或临时换一个模型。"
_BIG = "请求体太大。请缩短输入或拆成几次发送。"
_TIMEOUT = "请检查网络或代理（HTTP_PROXY/HTTPS_PROXY）是否通畅；回答很长时把超时调大（如 timeout=120），或改用流式输出。"
_NETWORK = "请检查网络和代理变量 HTTP_PROXY/HTTPS_PROXY；离线学习可以用回放模式（删除 .env 里的 Key，或设置 LLM_MODE=replay）。"
_REPLAY = ("回放模式只能回答录制过的请求；要问新问题，请在 .env 设置 DASHSCOPE_API_KEY 切换到 live 模式，"
           "或用 LLM_MODE=record 录制。")
_UNKNOWN = "请用 err.explain(verbose=True) 查看详细信息（或打开详细输出重新运行），再对照 05 号课排查。"


def _table(groups: Iterable[tuple[tuple[str, ...], str, str, bool]]) -> dict[str, ErrorInfo]:
    return {code: ErrorInfo(kind, hint, retry) for codes, kind, hint, retry in groups for code in codes}


# One row per error: native and OpenAI-compatible spellings share the row.
ERRORS: dict[str, ErrorInfo] = _table([
    (("InvalidApiKey", "invalid_api_key"), "auth", _KEY, False),
    (("Throttling", "Throttling.RateQuota", "LimitRequests", "limit_requests"), "rate_limit", _RATE, True),
    (("Throttling.BurstRate", "limit_burst_rate"), "rate_limit", _BURST, True),
    (("Throttling.AllocationQuota", "insufficient_quota"), "rate_limit", _TPM, True),
    (("DataInspectionFailed", "data_inspection_failed"), "content_filter", _FILTER, False),
    (("Arrearage",), "arrearage", "阿里云账户已欠费。请先到阿里云控制台充值，恢复后再运行；不想花钱可以用回放模式（LLM_MODE=replay）。", False),
    (("AccessDenied", "access_denied"), "permission", _DENIED, False),
    (("AccessDenied.Unpurchased",), "permission", "还没有开通这个模型。请到百炼控制台开通，或把 .env 里的 LLM_MODEL 换成已开通的模型（默认 qwen-plus）。", False),
    (("Model.AccessDenied",), "permission", "Key 所在的业务空间无权调用此模型。请在百炼控制台给业务空间授权，或换回 qwen-plus。", False),
    (("AllocationQuota.FreeTierOnly",), "permission", "免费额度已用完，且账户开启了「仅使用免费额度」。请到百炼控制台关闭该选项（之后会计费），或改用回放模式。", False),
    (("ModelNotFound", "model_not_found", "Model.NotExist"), "not_found", _MODEL, False),
    (("model_not_supported",), "not_found", "这个模型不支持 OpenAI 兼容接口。请换一个模型（默认 qwen-plus），或改用 dashscope 原生接口。", False),
    (("InvalidParameter", "invalid_parameter_error", "invalid_parameter", "UnsupportedOperation"), "bad_request", _PARAM, False),
    (("BadRequest.EmptyInput",), "bad_request", "输入为空。请先写好要问的内容（messages 不能为空）。", False),
    (("BadRequest.EmptyParameters",), "bad_request", "请求缺少 parameters。请检查调用代码是否完整。", False),
    (("BadRequest.EmptyModel",), "bad_request", "没有指定模型。请在 .env 设置 LLM_MODEL，或调用时传入 model='qwen-plus'。", False),
    (("BadRequest.TooLarge",), "bad_request", _BIG, False),
    (("InvalidURL",), "bad_request", "请求里的网址无效。请检查调用地址（base URL）和输入中的文件/图片链接。", False),
    (("InternalError", "internal_error", "InternalError.Algo"), "server", _SERVER, True),
    (("InternalError.Timeout", "RequestTimeOut"), "server", _SLOW, True),
    (("ModelServiceFailed", "SystemError", "ModelServingError", "ModelUnavailable", "ServiceUnavailable"), "server", _BUSY, True),
    (("GatewayTimeout",), "server", _SLOW, True),
    (("ReplayMiss",), "replay_miss", _REPLAY, False),
])

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
# The statuses a kind really has; a different one (legacy mid-stream "400", 2.0 mid-stream "200")
# was made up by the SDK and is left out of the short message.
_KIND_STATUS = {"auth": 401, "permission": 403, "not_found": 404, "rate_limit": 429}
# Native mode reports a missing model as 400 InvalidParameter "Model not exist."
_MODEL_MISSING = re.compile(r"model\b.{0,80}?\b(not exist|does not exist|not found)|unsupported model", re.I)
# Kinds whose server/exception text says what is wrong better than any hint (which parameter,
# which recording is missing), so the short message shows it as a second line.
_SHOW_DETAIL = {"bad_request", "not_found", "replay_miss", "unknown", "bad_input"}


class LLMError(Exception):
    """A failure with a short Chinese explanation (`str(err)`) and everything else as attributes.

    kind: one of TITLES' keys; code/status/request_id: what the server said; hint: the Chinese fix;
    detail: the original message, untranslated; retryable/retry_after: the retry decision;
    partial_text: what a broken stream had delivered; original: the exception we mapped from.
    """

    def __init__(self, kind: str, hint: str, *, code: str | None = None, status: int | None = None,
                 detail: str = "", request_id: str | None = None, retryable: bool | None = None,
                 retry_after: float | None = None, partial_text: str | None = None,
                 original: BaseException | None = None, title: str | None = None) -> None:
        super().__init__(kind, hint)
        self.kind, self.hint, self.code, self.status = kind, hint, code, status
        self.title = title or TITLES.get(kind, kind)
        self.detail, self.request_id, self.retry_after = detail or "", request_id, retry_after
        self.partial_text, self.original = partial_text, original
        if retryable is None:
            retryable = kind in RETRYABLE_KINDS and not partial_text
        self.retryable = retryable
        self.attempts = 1  # call_with_retries raises the final error with the number of tries made

    def __str__(self) -> str:
        tag = [str(self.status)] if self.status and self.status >= 400 and _KIND_STATUS.get(
            self.kind, self.status) == self.status else []
        tag += [self.code] if self.code and self.code != "Unknown" else []
        head = f"✗ {self.title}" + (f"（{' '.join(tag)}）" if tag else "")
        text = f"{head}：{self.hint}"
        if self.retry_after is not None and self.kind == "rate_limit":
            text += f"（服务器建议等待 {self.retry_after:g} 秒）"
        if self.detail and self.kind in _SHOW_DETAIL:
            line = " ".join(self.detail.split())
            text += "\n  原文：" + (line[:200] + "…" if len(line) > 200 else line)
        return text

    def __repr__(self) -> str:
        return f"LLMError(kind={self.kind!r}, code={self.code!r}, status={self.status!r})"

    def _render_traceback_(self) -> list[str]:
        """What Jupyter shows for an uncaught LLMError: the short message, not a wall of
        traceback through the SDK and the retry library (IPython calls this hook)."""
        return [str(self), "  （详细信息：import sys 后查看 sys.last_value.explain(verbose=True)，用法见第 05 课）"]

    def explain(self, verbose: bool = False) -> str:
        """The short message, or with `verbose` every fact we kept, for a bug report."""
        if not verbose:
            return str(self)
        lines = [str(self), f"  类型：{self.kind}    可重试：{'是' if self.retryable else '否'}"]
        for label, value in (("错误码", self.code), ("HTTP 状态", self.status), ("request_id", self.request_id),
                             ("建议等待（秒）", self.retry_after), ("尝试次数", self.attempts)):
            if value is not None:
                lines.append(f"  {label}：{value}")
        if self.detail:
            lines.append(f"  服务器/异常原文：{self.detail}")
        if self.partial_text:
            lines.append(f"  已收到的部分回答（{len(self.partial_text)} 字）：{self.partial_text[:200]}")
        if self.original is not None:
            tb = traceback.format_exception(type(self.original), self.original, self.original.__traceback__)
            lines.append("  原始异常：\n" + "".join(tb).rstrip())
        return "\n".join(lines)


def format_error(err: BaseException) -> str:
    """The short Chinese message for any exception."""
    return str(error_from_exception(err))


def bad_input(hint: str) -> LLMError:
    """The kit's own input checks (empty question, wrong type…); `hint` is the Chinese fix."""
    return LLMError("bad_input", hint, retryable=False)


def stream_broken(partial_text: str | None = None, detail: str = "",
                  original: BaseException | None = None) -> LLMError:
    """A stream that was cut (or ended without its final frame); the text received so far is kept."""
    hint = ("已收到的部分回答保存在 err.partial_text 里；请检查网络后重新提问。" if partial_text
            else "还没收到任何内容连接就断了。请检查网络或代理后重试。")
    return LLMError("stream_broken", hint, detail=detail, partial_text=partial_text or None, original=original)


# --- from a response ------------------------------------------------------------------------
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


def error_from_response(status_code: int | None, code: str | None, message: str | None,
                        request_id: str | None = None, headers: Mapping[str, str] | None = None) -> LLMError:
    """From a legacy GenerationResponse or a raw reply: the code decides first, then the status."""
    info = _lookup(code)
    if info is None or info.kind == "bad_request":
        if _MODEL_MISSING.search(message or ""):
            info = ERRORS["ModelNotFound"]
    if info is None and status_code:
        info = STATUS_FALLBACK.get(status_code) or (
            STATUS_FALLBACK[500] if status_code >= 500 else STATUS_FALLBACK[400] if status_code >= 400 else None)
    info = info or _UNKNOWN_INFO
    return LLMError(info.kind, info.hint, code=code or None, status=status_code, detail=message or "",
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
            return error_from_response(status, code, message, rid, headers)
    return None


# --- from an exception ----------------------------------------------------------------------
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


def _cls(module: str, name: str) -> type | None:
    mod = sys.modules.get(module)
    obj = getattr(mod, name, None) if mod else None
    return obj if isinstance(obj, type) else None


def _is(exc: BaseException | None, module: str, *names: str) -> bool:
    return exc is not None and any(isinstance(exc, c) for c in (_cls(module, n) for n in names) if c)


def _transport(exc: BaseException | None) -> LLMError | None:
    for module, name, kind in _TRANSPORT:
        if not _is(exc, module, name):
            continue
        detail = f"{type(exc).__name__}: {exc}"
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


def _classify(exc: BaseException) -> LLMError:
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
            return error_from_response(exc.status_code, exc.code, exc.message, exc.request_id, exc.headers)
        return LLMError("unknown", _UNKNOWN, detail=str(exc))
    if _is(exc, ds1, "AuthenticationError") or (_is(exc, oai, "OpenAIError") and "api_key" in str(exc)
                                                and not _is(exc, oai, "APIError")):
        return LLMError("auth", _NO_KEY, detail=str(exc), title="没有找到 API Key")
    if _is(exc, ds1, "RequestFailure"):
        return error_from_response(exc.http_code, exc.name, exc.message, exc.request_id)
    if _is(exc, ds1, "TimeoutException"):
        return LLMError("timeout", _TIMEOUT, detail=str(exc))
    if _is(exc, ds1, "InputRequired", "ModelRequired", "InvalidInput", "InvalidParameter", "InvalidModel",
           "InputDataRequired"):
        return LLMError("bad_request", _PARAM, detail=f"{type(exc).__name__}: {exc}")
    if _is(exc, oai, "APIError"):
        code, message, rid = _body_fields(exc.body)
        response = getattr(exc, "response", None)
        return error_from_response(getattr(exc, "status_code", None), code or exc.code, message or exc.message,
                                   rid or getattr(exc, "request_id", None),
                                   response.headers if response is not None else None)
    if _is(exc, "helpers.tokens", "BudgetExceeded"):
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
        return err or error_from_response(response.status_code, None, str(exc), None, headers)
    return _transport(exc) or LLMError("unknown", _UNKNOWN, detail=f"{type(exc).__name__}: {exc}")


def error_from_exception(exc: BaseException, *, partial_text: str | None = None) -> LLMError:
    """Map any exception to an LLMError.

    `partial_text` is the text a stream had already delivered: a transport failure then becomes
    stream_broken, and any error keeps the text and is no longer retried (that would repeat it).
    """
    if isinstance(exc, LLMError):
        return exc
    err = _classify(exc)
    if partial_text and err.kind in ("network", "timeout", "stream_broken"):
        err = stream_broken(partial_text, detail=err.detail)
    elif partial_text:
        err.partial_text, err.retryable = partial_text, False
    err.original = exc
    err.__cause__ = exc
    return err


# --- retries --------------------------------------------------------------------------------
def _should_retry(err: BaseException) -> bool:
    # Once text was delivered a retry would print it twice; the caller decides (and keeps partial_text).
    return isinstance(err, LLMError) and err.retryable and not err.partial_text


def retry_note(attempt: int, delay: float) -> str:
    """What a UI can show before sleeping: 「第 2 次重试，等待 1.0 秒…」."""
    return f"第 {attempt} 次重试，等待 {delay:.1f} 秒…"


def call_with_retries(fn: Callable[[], T], *, attempts: int = 3, base_delay: float = 0.5, max_delay: float = 8.0,
                      sleep: Callable[[float], None] = time.sleep,
                      on_retry: Callable[[LLMError, float], None] | None = None) -> T:
    """Call `fn`, retrying rate limits, 5xx, timeouts and network errors with backoff.

    The wait is the server's Retry-After when it gave one, else base_delay·2^n plus up to 25 %
    jitter (so parallel learners do not retry in lockstep); both capped at max_delay. The final
    failure is raised as an LLMError carrying `attempts`.
    """
    tries = 0

    def call() -> T:
        nonlocal tries
        tries += 1
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - every failure becomes an LLMError before deciding
            err = error_from_exception(exc)
            err.attempts = tries
            if err is exc:
                raise
            raise err from exc

    def wait(state: Any) -> float:
        err = state.outcome.exception()
        if err.retry_after is not None:
            return min(err.retry_after, max_delay)
        delay = base_delay * 2 ** (state.attempt_number - 1)
        return min(delay + random.uniform(0, delay / 4), max_delay)

    def before_sleep(state: Any) -> None:
        if on_retry is not None:
            on_retry(state.outcome.exception(), state.next_action.sleep)

    # reraise=True: the caller gets our LLMError, not tenacity's RetryError.
    return Retrying(stop=stop_after_attempt(max(1, attempts)), wait=wait, sleep=sleep, reraise=True,
                    retry=retry_if_exception(_should_retry), before_sleep=before_sleep)(call)
