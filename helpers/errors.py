"""Lesson 05: one error table and one retry policy for the whole kit.

Every failure becomes an `LLMError`: `str(err)` is a short Chinese message saying what to do;
server text, request id and exception stay on it (`err.explain(verbose=True)`, keys hidden).
How SDK, HTTP and network exceptions are mapped onto it: `helpers/sdk_errors.py`."""
from __future__ import annotations

import random
import time
import traceback
from typing import Any, Callable, NamedTuple, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt

from .front_end import ShownShort, with_miss_advice
from .redaction import redact

T = TypeVar("T")
ErrorInfo = NamedTuple("ErrorInfo", [("kind", str), ("hint", str), ("retryable", bool)])

# --- the table ------------------------------------------------------------------------------
# Short titles per kind; the per-code hint carries the specific fix.
TITLES = {
    "auth": "API Key 无效", "permission": "没有调用权限", "arrearage": "账户欠费", "not_found": "找不到请求的内容",
    "rate_limit": "请求太频繁，被限流", "server": "服务端出错", "content_filter": "内容未通过安全审核",
    "bad_request": "请求参数有误", "timeout": "请求超时", "network": "网络连接失败", "stream_broken": "流式输出中途断开",
    "bad_input": "输入有误", "budget": "超出预算", "unknown": "未预料的错误"}
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
_UNKNOWN = "请用 err.explain(verbose=True) 查看详细信息（或打开详细输出重新运行），再对照 05 号课排查。"

# One row per error (codes, kind, hint, retryable): native and OpenAI-compatible spellings share it.
_ROWS = [
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
    (("ReplayMiss",), "not_found", "", False),  # no hint of ours: the server's Chinese words
]
ERRORS = {code: ErrorInfo(kind, hint, retry) for codes, kind, hint, retry in _ROWS for code in codes}
# Found by the server's message (lower-cased), not its code: thinking models' three 400 InvalidParameter (lesson 03b).
MESSAGE_ROWS = [(("enable_thinking must be set to false", "enable_thinking必须设置为false"), "bad_request", "思考模式只能流式调用：改用 helpers.stream_chat（SDK 里 stream=True、incremental_output=True），或传 enable_thinking=False 关掉思考。", False),
                (("only support stream mode", "only supports stream mode"), "bad_request", "这个模型只支持流式输出：改用 helpers.stream_chat（SDK 里设 stream=True）。", False),
                (("only supports incremental_output set to true",), "bad_request", "这个模型（或思考模式）只支持增量输出：请设 incremental_output=True（helpers.stream_chat 已这样设）。", False)]

# A status a kind does not really have (legacy mid-stream "400", 2.0 "200") stays out of str().
_KIND_STATUS = {"auth": 401, "permission": 403, "not_found": 404, "rate_limit": 429}
# Kinds whose server/exception text beats any hint (which parameter, which request): a 2nd line.
_SHOW_DETAIL = {"bad_request", "not_found", "unknown", "bad_input"}


class LLMError(ShownShort, Exception):
    """A failure with a short Chinese explanation (`str(err)`; a short repr, Markdown in Jupyter).
    kind: one of TITLES' keys; code/status/request_id: what the server said; hint: the Chinese fix;
    detail: the original message, untranslated; retryable/retry_after: the retry decision;
    partial_text: what a broken stream had delivered; original: the exception we mapped from."""

    def __init__(self, kind: str, hint: str, *, code: str | None = None, status: int | None = None,
                 detail: str = "", request_id: str | None = None, retryable: bool | None = None,
                 retry_after: float | None = None, partial_text: str | None = None,
                 original: BaseException | None = None, title: str | None = None) -> None:
        super().__init__(kind, hint)
        self.kind, self.hint, self.code, self.status = kind, hint, code, status
        self.title = title or TITLES.get(kind, kind)
        self.detail, self.request_id, self.retry_after = detail or "", request_id, retry_after
        self.partial_text, self.original = partial_text, original
        self.retryable = (kind in RETRYABLE_KINDS and not partial_text) if retryable is None else retryable
        self.attempts = 1  # call_with_retries raises the final error with the number of tries made

    def __str__(self) -> str:
        tag = [str(self.status)] if self.status and self.status >= 400 and _KIND_STATUS.get(
            self.kind, self.status) == self.status else []
        tag += [self.code] if self.code and self.code != "Unknown" else []
        head = f"✗ {self.title}" + (f"（{' '.join(tag)}）" if tag else "")
        text = f"{head}：{self.hint}"
        if self.retry_after is not None and self.kind == "rate_limit":
            text += f"（服务器建议等待 {self.retry_after:g} 秒）"
        if self.detail and self.kind in _SHOW_DETAIL and self.detail != self.hint:
            line = " ".join(self.detail.split())
            text += "\n  原文：" + (line[:200] + "…" if len(line) > 200 else line)
        if self.code == "ReplayMiss":  # what to do: console or notebook words (front_end.py)
            text = with_miss_advice(text)
        return redact(text)  # a server may echo the key back: never show it

    def _render_traceback_(self) -> list[str]:  # Jupyter, uncaught: no wall of SDK traceback
        return [str(self), "  （详细信息：import sys 后查看 sys.last_value.explain(verbose=True)，用法见第 05 课）"]

    def explain(self, verbose: bool = False) -> str:
        """The short message, or with `verbose` every fact we kept, for a bug report."""
        if not verbose:
            return str(self)
        lines = [str(self), f"  类型：{self.kind}    可重试：{'是' if self.retryable else '否'}"]
        partial = self.partial_text and f"（{len(self.partial_text)} 字）{self.partial_text[:200]}"
        for label, value in (("错误码", self.code), ("HTTP 状态", self.status), ("request_id", self.request_id),
                             ("建议等待（秒）", self.retry_after), ("尝试次数", self.attempts),
                             ("服务器/异常原文", self.detail or None), ("已收到的部分回答", partial or None)):
            if value is not None:
                lines.append(f"  {label}：{value}")
        if self.original is not None:
            tb = traceback.format_exception(type(self.original), self.original, self.original.__traceback__)
            lines.append("  原始异常：\n" + "".join(tb).rstrip())
        return redact("\n".join(lines))


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


# --- where an error comes from: the mapping is in helpers/sdk_errors.py ----------------------
def error_from_response(status_code: int | None, code: str | None, message: str | None,
                        request_id: str | None = None, headers: Any = None) -> LLMError:
    """A server's error reply → LLMError: the code decides first, then the HTTP status."""
    from .sdk_errors import from_response
    return from_response(status_code, code, message, request_id, headers)


def error_from_exception(exc: BaseException, *, partial_text: str | None = None) -> LLMError:
    """Any exception → LLMError. With `partial_text` (what a stream had already delivered) the
    error keeps that text and is no longer retried: a retry would repeat it."""
    from .sdk_errors import from_exception
    return from_exception(exc, partial_text=partial_text)


# --- retries --------------------------------------------------------------------------------
def retry_note(attempt: int, delay: float) -> str:
    """What a UI can show before sleeping: 「第 2 次重试，等待 1.0 秒…」."""
    return f"第 {attempt} 次重试，等待 {delay:.1f} 秒…"


def call_with_retries(fn: Callable[[], T], *, attempts: int = 3, base_delay: float = 0.5, max_delay: float = 8.0,
                      sleep: Callable[[float], None] = time.sleep,
                      on_retry: Callable[[LLMError, float], None] | None = None) -> T:
    """Call `fn`, retrying rate limits, 5xx, timeouts and network errors with backoff: the
    server's Retry-After if given, else base_delay·2^n plus up to 25 % jitter (so parallel
    learners do not retry in lockstep), capped at max_delay. The last failure is raised as an
    LLMError carrying `attempts`."""
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
    # Once text was delivered a retry would print it twice: the caller decides (partial_text).
    retry = retry_if_exception(lambda e: isinstance(e, LLMError) and e.retryable and not e.partial_text)
    # reraise=True: the caller gets our LLMError, not tenacity's RetryError.
    return Retrying(stop=stop_after_attempt(max(1, attempts)), wait=wait, sleep=sleep, reraise=True,
                    retry=retry, before_sleep=before_sleep)(call)
