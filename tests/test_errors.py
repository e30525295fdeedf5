"""Unit tests for helpers.errors: the table, the mappings from real SDK exceptions, the retry policy.

No network and no sleeping: SDK clients talk to in-process mock transports, `sleep` is injected.
"""
from __future__ import annotations

import json
import re
import socket

import httpx
import httpx_sse
import pytest
import requests

from helpers import errors
from helpers.errors import (
    ERRORS, TITLES, LLMError, bad_input, call_with_retries, error_from_exception,
    error_from_response, format_error, retry_note, stream_broken,
)
from helpers.sdk_errors import STATUS_FALLBACK, retry_after_from

KINDS = {"auth", "permission", "arrearage", "not_found", "rate_limit", "server", "content_filter", "bad_request",
         "timeout", "network", "stream_broken", "bad_input", "budget", "unknown"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_short_chinese(err: LLMError) -> None:
    text = str(err)
    assert CJK.search(text), text
    assert text.startswith("✗ ")
    assert "Traceback" not in text and 'File "' not in text
    assert len(text.splitlines()) <= 2


# --- the table --------------------------------------------------------------------------------
@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_code_maps_to_a_kind_and_a_chinese_hint(code):
    info = ERRORS[code]
    assert info.kind in KINDS and info.kind in TITLES
    if not info.hint:  # a row whose hint is the server's own Chinese words (ReplayMiss)
        err = error_from_response(400, code, "回放模式下没有这条请求的录制。")
        assert err.kind == info.kind and err.hint == "回放模式下没有这条请求的录制。"
        return
    assert CJK.search(info.hint)
    err = error_from_response(400, code, "server text")
    assert err.kind == info.kind and err.hint == info.hint and err.retryable == info.retryable
    assert_short_chinese(err)


def test_every_kind_has_a_title():
    assert set(TITLES) == KINDS


@pytest.mark.parametrize("native, compat", [
    ("InvalidApiKey", "invalid_api_key"), ("Throttling.RateQuota", "limit_requests"),
    ("Throttling.BurstRate", "limit_burst_rate"), ("Throttling.AllocationQuota", "insufficient_quota"),
    ("DataInspectionFailed", "data_inspection_failed"), ("ModelNotFound", "model_not_found"),
    ("InvalidParameter", "invalid_parameter_error"), ("InternalError", "internal_error"),
])
def test_native_and_compatible_spellings_agree(native, compat):
    assert ERRORS[native].kind == ERRORS[compat].kind


@pytest.mark.parametrize("code, kind, retryable", [
    ("InvalidApiKey", "auth", False), ("Throttling", "rate_limit", True), ("Arrearage", "arrearage", False),
    ("AccessDenied.Unpurchased", "permission", False), ("Model.AccessDenied", "permission", False),
    ("AllocationQuota.FreeTierOnly", "permission", False), ("model_not_supported", "not_found", False),
    ("BadRequest.EmptyInput", "bad_request", False), ("InternalError.Algo", "server", True),
    ("InternalError.Timeout", "server", True), ("RequestTimeOut", "server", True),
    ("ModelServiceFailed", "server", True), ("SystemError", "server", True), ("ModelServingError", "server", True),
    ("ModelUnavailable", "server", True), ("DataInspectionFailed", "content_filter", False),
    ("ReplayMiss", "not_found", False),  # whatever its status: no answer was recorded
])
def test_codes_from_the_brief(code, kind, retryable):
    err = error_from_response(None, code, "x")
    assert (err.kind, err.retryable) == (kind, retryable)


@pytest.mark.parametrize("status, kind", [
    (400, "bad_request"), (401, "auth"), (403, "permission"), (404, "not_found"), (408, "timeout"),
    (429, "rate_limit"), (500, "server"), (502, "server"), (503, "server"), (504, "server"),
    (418, "bad_request"), (599, "server"), (200, "unknown"), (None, "unknown"),
])
def test_status_fallback_when_the_code_is_unknown(status, kind):
    for code in (None, "Unknown", "SomethingNew"):
        err = error_from_response(status, code, "body")
        assert err.kind == kind
        assert_short_chinese(err)


def test_status_fallback_table_covers_the_usual_statuses():
    assert {400, 401, 403, 404, 408, 429, 500, 502, 503, 504} <= set(STATUS_FALLBACK)


def test_code_wins_over_status():
    # The legacy SDK reports every mid-stream event:error as status 400.
    err = error_from_response(400, "Throttling.AllocationQuota", "Allocated quota exceeded", "rid")
    assert err.kind == "rate_limit" and err.retryable and err.status == 400
    assert "400" not in str(err).splitlines()[0]  # a made-up status is not shown as if it were real
    assert error_from_response(500, "InvalidApiKey", "x").kind == "auth"


def test_dotted_and_case_variants_fall_back_to_their_family():
    assert error_from_response(400, "Throttling.SomethingNew", "x").kind == "rate_limit"
    assert error_from_response(500, "InternalError.Algo.InvalidParameter", "x").kind == "server"
    assert error_from_response(401, "INVALIDAPIKEY", "x").kind == "auth"


def test_native_missing_model_is_not_found():
    err = error_from_response(400, "InvalidParameter", "Model not exist.")
    assert err.kind == "not_found" and "qwen-plus" in str(err) and "LLM_MODEL" in str(err)
    compat = error_from_response(404, "model_not_found",
                                 "The model `qwen2.5-7b-old` does not exist or you do not have access to it.")
    assert compat.kind == "not_found"


def test_short_message_matches_the_house_style():
    err = error_from_response(401, "InvalidApiKey", "Invalid API-key provided.", "fb53c4ec")
    assert str(err) == ("✗ API Key 无效（401 InvalidApiKey）：请检查 .env 里的 DASHSCOPE_API_KEY 是否完整、"
                        "没有多余空格；Key 要与地址同一地域（LLM_REGION）、同一计费方案（Coding/Token Plan 的 "
                        "sk-sp- Key 只能配它自己的 Base URL）。再运行 00 号课的环境检查，看是否有系统环境变量覆盖了它。")
    assert err.detail == "Invalid API-key provided." and err.request_id == "fb53c4ec"
    assert "fb53c4ec" not in str(err) and format_error(err) == str(err)


def test_hints_name_the_concrete_fix():
    assert "充值" in str(error_from_response(400, "Arrearage", "x"))
    assert "改写" in str(error_from_response(400, "DataInspectionFailed", "x"))
    assert "并发" in str(error_from_response(429, None, "x"))
    assert "HTTPS_PROXY" in str(error_from_exception(httpx.ConnectError("refused")))
    assert "LLM_MODE=replay" in str(error_from_exception(httpx.ConnectError("refused")))
    assert "超时" in str(error_from_exception(httpx.ReadTimeout("slow")))


def test_a_code_without_a_row_shows_the_servers_chinese_message_as_the_hint():
    # e.g. a code DashScope adds after the table was written: the server's own Chinese words.
    message = "这个接口需要先在控制台开通（model=qwen-plus）。"
    err = error_from_response(404, "SomeNewCode", message)
    text = str(err)
    assert err.kind == "not_found" and err.hint == message and not err.retryable
    assert text == f"✗ 找不到请求的内容（404 SomeNewCode）：{message}"  # the message once, not twice
    assert error_from_response(404, "Whatever", "no such thing").hint == STATUS_FALLBACK[404].hint


def test_bad_request_shows_what_the_server_objected_to():
    err = error_from_response(400, "InvalidParameter", "Range of max_tokens should be [1, 32768]")
    assert "Range of max_tokens" in str(err)
    long = error_from_response(400, "InvalidParameter", "x" * 1000 + "\n" + "y" * 10)
    assert len(str(long).splitlines()) == 2 and len(str(long)) < 600


def test_explain_verbose_has_everything():
    try:
        raise httpx.ConnectError("[Errno 111] Connection refused")
    except httpx.ConnectError as exc:
        err = error_from_exception(exc)
    assert err.explain() == str(err)
    text = err.explain(verbose=True)
    assert "Connection refused" in text and "Traceback" in text and "network" in text
    resp = error_from_response(429, "Throttling", "Requests throttling triggered.", "rid-9", {"Retry-After": "4"})
    verbose = resp.explain(verbose=True)
    assert "rid-9" in verbose and "Requests throttling triggered." in verbose and "4" in verbose
    assert "服务器建议等待 4 秒" in str(resp)


@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "3"}, 3.0), ({"retry-after": "0"}, 0.0), ({"retry-after-ms": "1500"}, 1.5),
    (httpx.Headers({"RETRY-AFTER": "2.5"}), 2.5), ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
    ({"Retry-After": "soon"}, None), ({}, None), (None, None),
])
def test_retry_after_parsing(headers, expected):
    assert retry_after_from(headers) == expected


# --- exceptions from the installed SDKs ---------------------------------------------------------
def _v2_client(handler):
    import dashscope

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return dashscope.Client(api_key="sk-test", base_url="http://mock.local/api/v1", http_client=http, max_retries=0)


def _v2_call(handler, stream=False):
    client = _v2_client(handler)
    got = []
    try:
        result = client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "hi"}],
                                                stream=stream)
        for chunk in (result if stream else []):
            got.append(chunk.choices[0].delta.content or "")
    except Exception as exc:  # noqa: BLE001 - the test inspects whatever the SDK raised
        return exc, "".join(got)
    raise AssertionError("the SDK did not raise")


def _json(status, body, headers=None):
    return lambda request: httpx.Response(status, json=body, headers=headers or {})


def _sse(text, status=200, content_type="text/event-stream"):
    return lambda request: httpx.Response(status, headers={"content-type": content_type}, text=text)


@pytest.mark.parametrize("status, body, kind, cls", [
    (401, {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": "r1"},
     "auth", "AuthenticationError"),
    (400, {"code": "InvalidParameter", "message": "Range of max_tokens should be [1, 32768]"},
     "bad_request", "BadRequestError"),
    (400, {"code": "DataInspectionFailed", "message": "Input data may contain inappropriate content."},
     "content_filter", "ContentFilterError"),
    (429, {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded"}, "rate_limit", "RateLimitError"),
    (500, {"code": "InternalError", "message": "An internal error has occured"}, "server", "InternalServerError"),
    (403, {"code": "AccessDenied.Unpurchased", "message": "Access to model denied."},
     "permission", "PermissionDeniedError"),
    (400, {"code": "Arrearage", "message": "Access denied, please make sure your account is in good standing."},
     "arrearage", "PermissionDeniedError"),
    (404, {"code": "ModelNotFound", "message": "Model can not be found."}, "not_found", "NotFoundError"),
    (404, {"code": "ReplayMiss", "message": "没有录制"}, "not_found", "NotFoundError"),
])
def test_dashscope_v2_status_errors(status, body, kind, cls):
    exc, _ = _v2_call(_json(status, body, {"x-request-id": "hdr-rid", "retry-after": "1"}))
    assert type(exc).__name__ == cls
    err = error_from_exception(exc)
    assert err.kind == kind and err.code == body["code"] and err.status == status
    assert err.request_id == body.get("request_id", "hdr-rid")
    assert err.retry_after == 1.0 and err.original is exc and err.detail == body["message"]
    assert_short_chinese(err)


def test_dashscope_v2_mid_stream_error_frame():
    frames = ('id:1\nevent:error\n:HTTP_STATUS/429\ndata:{"request_id":"r2","code":"Throttling.AllocationQuota",'
              '"message":"Allocated quota exceeded, please increase your quota limit."}\n\n')
    exc, _ = _v2_call(_sse(frames), stream=True)
    err = error_from_exception(exc)
    assert type(exc).__name__ == "RateLimitError" and exc.status_code == 200
    assert err.kind == "rate_limit" and err.retryable and err.request_id == "r2"


def test_dashscope_v2_sse_framed_400_labelled_json():
    text = ('id:1\nevent:error\n:HTTP_STATUS/400\ndata:{"code":"InvalidParameter","message":"<400> '
            'InternalError.Algo.InvalidParameter: Range of max_tokens should be [1, 32768]","request_id":"r3"}\n\n')
    exc, _ = _v2_call(_sse(text, 400, "application/json"))
    err = error_from_exception(exc)
    assert err.kind == "bad_request" and "max_tokens" in str(err)


def test_dashscope_v2_json_reply_to_a_stream_request_is_an_sse_error():
    exc, _ = _v2_call(_json(200, {"output": {"text": "hi"}}), stream=True)
    assert isinstance(exc, httpx_sse.SSEError)
    err = error_from_exception(exc)
    assert err.kind == "server" and not err.retryable and "非流式" in str(err)


def test_dashscope_v2_stream_cut_keeps_the_partial_text():
    frame = ('id:1\nevent:result\n:HTTP_STATUS/200\ndata:{"output":{"choices":[{"message":{"content":"你好",'
             '"role":"assistant"},"finish_reason":"null"}]},"usage":{"input_tokens":1,"output_tokens":1,'
             '"total_tokens":2},"request_id":"r4"}\n\n')

    class Cut(httpx.SyncByteStream):
        def __iter__(self):
            yield frame.encode()
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    exc, partial = _v2_call(lambda r: httpx.Response(200, headers={"content-type": "text/event-stream"},
                                                     stream=Cut()), stream=True)
    assert partial == "你好"
    err = error_from_exception(exc, partial_text=partial)
    assert err.kind == "stream_broken" and err.partial_text == "你好" and not err.retryable
    assert "partial_text" in str(err)
    fresh = error_from_exception(exc)  # nothing delivered yet: safe to retry
    assert fresh.kind == "stream_broken" and fresh.retryable


@pytest.mark.parametrize("make, kind", [
    (lambda: httpx.ConnectError("[Errno 111] Connection refused"), "network"),
    (lambda: httpx.ConnectTimeout("timed out"), "timeout"),
])
def test_dashscope_v2_transport_errors(make, kind):
    def handler(request):
        raise make()

    exc, _ = _v2_call(handler)
    assert type(exc).__name__ in ("APIConnectionError", "APITimeoutError")
    err = error_from_exception(exc)
    assert err.kind == kind and err.retryable


def test_dashscope_v2_error_classes_built_directly():
    from dashscope.v2 import errors as v2

    cases = [
        (v2.RateLimitError("quota", code="Throttling.AllocationQuota", status_code=200), "rate_limit"),
        (v2.ContentFilterError("bad", code="DataInspectionFailed", status_code=400), "content_filter"),
        (v2.APIStatusError("weird", status_code=502), "server"),
        (v2.APITimeoutError("request timed out"), "timeout"),
        (v2.APIConnectionError("connection error"), "network"),
        (v2.DashScopeError("malformed SSE payload: 'x'"), "unknown"),
    ]
    for exc, kind in cases:
        assert error_from_exception(exc).kind == kind, exc


def test_legacy_sdk_local_errors():
    from dashscope.common import error as legacy

    no_key = error_from_exception(legacy.AuthenticationError("No api key provided."))
    assert no_key.kind == "auth" and "没有找到 API Key" in str(no_key) and "DASHSCOPE_API_KEY" in str(no_key)
    assert error_from_exception(legacy.InputRequired("prompt or messages is required!")).kind == "bad_request"


def test_legacy_sdk_sse_framed_body_labelled_json():
    doc = ('id:1\nevent:error\n:HTTP_STATUS/400\ndata:{"code":"InvalidParameter","message":"Range of max_tokens '
           'should be [1, 32768]","request_id":"r5"}\n')
    exc = requests.exceptions.JSONDecodeError("Expecting value", doc, 0)
    err = error_from_exception(exc)
    assert (err.kind, err.status, err.code, err.request_id) == ("bad_request", 400, "InvalidParameter", "r5")
    html = error_from_exception(json.JSONDecodeError("Expecting value", "<html>proxy login</html>", 0))
    assert html.kind == "unknown" and "代理" in str(html)


def test_legacy_generation_response_fields():
    # What Generation.call returns instead of raising: status_code / code / message / request_id.
    err = error_from_response(401, "InvalidApiKey", "Invalid API-key provided.", "r6")
    assert err.kind == "auth" and err.request_id == "r6"
    assert error_from_response(500, "Unknown", "<html>502 Bad Gateway</html>").kind == "server"


def _openai_client(handler):
    openai = pytest.importorskip("openai")
    httpx2 = pytest.importorskip("httpx2")
    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return openai.OpenAI(api_key="sk-test", base_url="http://mock.local/compatible-mode/v1",
                         http_client=http, max_retries=0)


def _openai_call(handler):
    client = _openai_client(handler)
    with pytest.raises(Exception) as info:
        client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "hi"}])
    return info.value


@pytest.mark.parametrize("status, code, kind", [
    (401, "invalid_api_key", "auth"), (429, "limit_requests", "rate_limit"), (404, "model_not_found", "not_found"),
    (400, "data_inspection_failed", "content_filter"), (500, "internal_error", "server"),
])
def test_openai_status_errors(status, code, kind):
    httpx2 = pytest.importorskip("httpx2")
    body = {"error": {"message": "msg from server", "type": "invalid_request_error", "param": None, "code": code},
            "request_id": "r7"}
    exc = _openai_call(lambda r: httpx2.Response(status, json=body, headers={"x-request-id": "r7",
                                                                             "retry-after": "2"}))
    err = error_from_exception(exc)
    assert (err.kind, err.code, err.status, err.request_id) == (kind, code, status, "r7")
    assert err.detail == "msg from server" and err.retry_after == 2.0
    assert_short_chinese(err)


def test_openai_transport_and_key_errors():
    openai = pytest.importorskip("openai")
    httpx2 = pytest.importorskip("httpx2")

    def refuse(request):
        raise httpx2.ConnectError("[Errno 111] Connection refused")

    assert error_from_exception(_openai_call(refuse)).kind == "network"
    request = httpx2.Request("POST", "http://mock.local/compatible-mode/v1/chat/completions")
    assert error_from_exception(openai.APITimeoutError(request=request)).kind == "timeout"
    assert error_from_exception(openai.APIConnectionError(request=request)).kind == "network"
    missing = openai.OpenAIError("The api_key client option must be set either by passing api_key to the client")
    assert "没有找到 API Key" in str(error_from_exception(missing))


@pytest.mark.parametrize("exc, kind, retryable", [
    (httpx.ConnectError("refused"), "network", True),
    (httpx.ReadTimeout("read timed out"), "timeout", True),
    (httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
     "stream_broken", True),
    (httpx.RemoteProtocolError("Server disconnected without sending a response."), "network", True),
    (httpx_sse.SSEError("Expected response header Content-Type to contain 'text/event-stream'"), "server", False),
    (requests.exceptions.ConnectionError("refused"), "network", True),
    (requests.exceptions.ReadTimeout("read timed out"), "timeout", True),
    (requests.exceptions.ConnectTimeout("connect timed out"), "timeout", True),
    (requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"), "stream_broken", True),
    (ConnectionRefusedError(111, "Connection refused"), "network", True),
    (ConnectionResetError(104, "Connection reset by peer"), "network", True),
    (socket.timeout("timed out"), "timeout", True),
    (socket.gaierror(-2, "Name or service not known"), "network", True),
    (ValueError("something odd"), "unknown", False),
    (KeyError("output"), "unknown", False),
])
def test_transport_and_builtin_exceptions(exc, kind, retryable):
    err = error_from_exception(exc)
    assert (err.kind, err.retryable) == (kind, retryable)
    assert err.original is exc and err.__cause__ is exc
    assert_short_chinese(err)


def test_raw_http_status_errors():
    request = httpx.Request("POST", "http://mock.local/api/v1/x")
    response = httpx.Response(429, json={"code": "Throttling", "message": "slow down"}, request=request,
                              headers={"Retry-After": "5"})
    err = error_from_exception(httpx.HTTPStatusError("429", request=request, response=response))
    assert (err.kind, err.code, err.retry_after) == ("rate_limit", "Throttling", 5.0)


def test_unknown_shows_the_exception_text_but_no_traceback():
    err = error_from_exception(RuntimeError("boom"))
    assert "RuntimeError: boom" in str(err) and "explain(verbose=True)" in str(err)
    assert_short_chinese(err)


def test_llm_error_passes_through_and_kit_errors():
    original = bad_input("问题不能为空，请先输入内容。")
    assert error_from_exception(original) is original
    assert original.kind == "bad_input" and not original.retryable
    assert str(original).startswith("✗ 输入有误：问题不能为空")
    meter = pytest.importorskip("helpers.meter")
    budget = error_from_exception(meter.BudgetExceeded(0.1, 0.12))
    assert budget.kind == "budget" and not budget.retryable and "预算" in str(budget)


def test_partial_text_is_never_lost():
    err = error_from_exception(httpx.ReadTimeout("slow"), partial_text="半句")
    assert (err.kind, err.partial_text, err.retryable) == ("stream_broken", "半句", False)
    limited = error_from_exception(httpx.HTTPStatusError(
        "x", request=httpx.Request("GET", "http://x"), response=httpx.Response(429)), partial_text="半句")
    assert limited.kind == "rate_limit" and limited.partial_text == "半句" and not limited.retryable
    assert stream_broken().retryable and not stream_broken("abc").retryable
    assert "abc" in stream_broken("abc").explain(verbose=True)


# --- retries -------------------------------------------------------------------------------------
class Script:
    """fn for call_with_retries: raises the scripted errors in order, then returns "ok"."""

    def __init__(self, *failures):
        self.failures, self.calls = list(failures), 0

    def __call__(self):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def test_rate_limit_waits_retry_after():
    sleeps, notes = [], []
    fn = Script(error_from_response(429, "Throttling", "x", headers={"Retry-After": "2.5"}))
    result = call_with_retries(fn, sleep=sleeps.append, on_retry=lambda e, d: notes.append((e.kind, d)))
    assert result == "ok" and fn.calls == 2 and sleeps == [2.5] and notes == [("rate_limit", 2.5)]


def test_retry_after_is_capped():
    sleeps = []
    fn = Script(error_from_response(429, None, "x", headers={"Retry-After": "120"}))
    call_with_retries(fn, sleep=sleeps.append, max_delay=8.0)
    assert sleeps == [8.0]


def test_auth_is_not_retried():
    sleeps = []
    fn = Script(error_from_response(401, "InvalidApiKey", "x"))
    with pytest.raises(LLMError) as info:
        call_with_retries(fn, sleep=sleeps.append)
    assert fn.calls == 1 and sleeps == [] and info.value.kind == "auth" and info.value.attempts == 1


@pytest.mark.parametrize("err", [
    error_from_response(400, "InvalidParameter", "x"), error_from_response(403, "AccessDenied", "x"),
    error_from_response(404, "ModelNotFound", "x"), error_from_response(400, "DataInspectionFailed", "x"),
    error_from_response(404, "ReplayMiss", "x"), error_from_response(400, "Arrearage", "x"),
    bad_input("空"), LLMError("budget", "超出预算"),
])
def test_non_retryable_kinds_run_once(err):
    fn = Script(err)
    with pytest.raises(LLMError):
        call_with_retries(fn, sleep=lambda s: pytest.fail("must not sleep"))
    assert fn.calls == 1


def test_server_error_retried_then_raised_as_llm_error():
    sleeps = []
    fn = Script(*[error_from_response(500, "InternalError", "x") for _ in range(5)])
    with pytest.raises(LLMError) as info:
        call_with_retries(fn, attempts=3, base_delay=0.5, sleep=sleeps.append)
    assert fn.calls == 3 and info.value.kind == "server" and info.value.attempts == 3
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 0.625 and 1.0 <= sleeps[1] <= 1.25  # base·2^n plus up to 25 % jitter


def test_backoff_never_exceeds_max_delay():
    sleeps = []
    fn = Script(*[error_from_response(503, None, "x") for _ in range(6)])
    with pytest.raises(LLMError):
        call_with_retries(fn, attempts=6, base_delay=3.0, max_delay=5.0, sleep=sleeps.append)
    assert len(sleeps) == 5 and 3.0 <= min(sleeps) and max(sleeps) <= 5.0


def test_stream_broken_with_text_is_not_retried():
    fn = Script(stream_broken("已经输出的半句话"))
    with pytest.raises(LLMError) as info:
        call_with_retries(fn, sleep=lambda s: pytest.fail("must not sleep"))
    assert fn.calls == 1 and info.value.partial_text == "已经输出的半句话"
    assert call_with_retries(Script(stream_broken()), sleep=lambda s: None) == "ok"


def test_foreign_exceptions_are_converted_before_deciding():
    sleeps = []
    fn = Script(httpx.ConnectError("refused"), requests.exceptions.ReadTimeout("slow"))
    assert call_with_retries(fn, sleep=sleeps.append) == "ok" and fn.calls == 3 and len(sleeps) == 2
    with pytest.raises(LLMError) as info:
        call_with_retries(Script(ValueError("bug")), sleep=sleeps.append)
    assert info.value.kind == "unknown" and isinstance(info.value.__cause__, ValueError)


def test_keyboard_interrupt_is_not_swallowed():
    def fn():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        call_with_retries(fn, sleep=lambda s: None)


def test_retry_note():
    assert retry_note(2, 1.0) == "第 2 次重试，等待 1.0 秒…"


def test_module_has_no_print_calls():
    source = open(errors.__file__, encoding="utf-8").read()
    assert "print(" not in source


def test_an_uncaught_error_in_a_notebook_shows_the_short_message_not_a_traceback():
    """Run a real kernel the way a learner does: a cell that asks something never recorded."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('import helpers\nhelpers.setup()\nhelpers.chat("一个从没录制过的问题")'),
        nbformat.v4.new_code_cell("import sys\nprint(sys.last_value.explain(verbose=True))"),
    ])
    NotebookClient(nb, kernel_name="python3", timeout=60, allow_errors=True).execute()
    error = nb.cells[0].outputs[-1]
    assert error["output_type"] == "error" and error["ename"] == "LLMError"
    assert len(error["traceback"]) == 2, error["traceback"]
    assert error["traceback"][0].startswith("✗ 找不到请求的内容（ReplayMiss）：回放模式下没有这条请求的录制")
    assert "tenacity" not in "".join(error["traceback"])
    details = nb.cells[1].outputs[0]["text"]
    assert "ReplayMiss" in details and "一个从没录制过的问题" in details
