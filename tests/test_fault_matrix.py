"""Every injected fault against every way the course calls Qwen.

Clients: the legacy SDK (``dashscope.Generation.call``: returns server errors, raises only on
transport failures), the dashscope 2.0 ``Client`` (raises typed exceptions) and the kit's
helpers (``helpers.chat`` / ``helpers.stream_chat``: one short Chinese ``LLMError``). Plus the
OpenAI-compatible endpoint through the openai SDK, to check the compatible wire shapes.

Everything runs on loopback against the replay server, with recordings authored into a temp
folder by this module (so no lesson's recordings are involved). Retry waits are recorded,
not slept; timeouts use a 0.5 s client timeout.
"""
from __future__ import annotations

import functools
import os

import dashscope
import httpx
import pytest
import requests
from dashscope.v2 import errors as v2
from openai import OpenAI

import helpers
from authoring import authored_recordings
from helpers import llm
from helpers.conversation import Conversation
from helpers.errors import (ERRORS, MESSAGE_ROWS, TITLES, LLMError, call_with_retries,
                           error_from_exception)
from helpers.replay.faults import FAULTS, HTTP_FAULTS, STREAM_ERROR, THINKING_FAULTS, inject_fault

QUESTION = "故障演练：请用一句话介绍你自己。"
ANSWER = "我是通义千问，这是一段专门用来演练故障处理的回答，它足够长，能被切成好几段流式输出。"
SYSTEM = "你是一个乐于助人的助手。"
TIMEOUT = 0.5  # client timeout in these tests; the timeout fault holds its answer for 1.5 s
HOLD = 1.5
MESSAGES = [{"role": "user", "content": QUESTION}]


# --- fixtures -------------------------------------------------------------------------------
def author_every_shape() -> None:
    """Each client sends its own body shape; author one answer for each."""
    helpers.chat(MESSAGES)
    helpers.stream_chat(MESSAGES)
    helpers.chat([{"role": "system", "content": SYSTEM}, *MESSAGES])
    helpers.stream_chat([{"role": "system", "content": SYSTEM}, *MESSAGES])
    client = dashscope.Client(max_retries=0)
    client.chat.completions.create(model="qwen-plus", messages=MESSAGES)
    "".join(c.choices[0].delta.content or "" for c in
            client.chat.completions.create(model="qwen-plus", messages=MESSAGES, stream=True))
    oai = OpenAI(max_retries=0)
    oai.chat.completions.create(model="qwen-plus", messages=MESSAGES)
    list(oai.chat.completions.create(model="qwen-plus", messages=MESSAGES, stream=True))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Author the answers this module needs into a temp folder, then replay them."""
    spec = f"- user: {QUESTION}\n  reply: {ANSWER}\n"
    with authored_recordings(tmp_path_factory.mktemp("fault_recordings"), spec,
                             author_every_shape, topic="fault_matrix") as srv:
        assert srv.upstream is None and len(srv.store) >= 5
        yield srv
        # A client that hangs up after an error resets its idle keep-alive connection;
        # the server ignores that. Anything logged is a server bug.
        assert not srv.log.errors, srv.log.errors


@pytest.fixture(autouse=True)
def fast(server, monkeypatch):
    """A short client timeout for the helpers, retry waits recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(helpers.config.current(), "timeout", TIMEOUT)
    monkeypatch.setattr(llm, "call_with_retries", functools.partial(call_with_retries, sleep=waits.append))
    server.clear_faults()
    return waits


def fault(name: str, **options):
    options.setdefault("seconds", HOLD)
    return inject_fault(name, **options)


# --- what each client should show, per fault ------------------------------------------------
# legacy: (status_code, code) it returns; or the exception class it raises (transport failures).
LEGACY = {name: (f.status, f.code) for name, f in HTTP_FAULTS.items()}
LEGACY.update(stream_error=(400, STREAM_ERROR.code),  # the SDK reports any mid-stream error as 400
              stream_cut=requests.exceptions.ChunkedEncodingError,
              timeout=requests.exceptions.ReadTimeout,
              refused=requests.exceptions.ConnectionError)
V2 = {
    "invalid_key": (v2.AuthenticationError, 401), "access_denied": (v2.PermissionDeniedError, 403),
    "arrearage": (v2.PermissionDeniedError, 400), "model_not_found": (v2.BadRequestError, 400),
    "rate_limit": (v2.RateLimitError, 429), "server_error": (v2.InternalServerError, 500),
    "content_filter": (v2.ContentFilterError, 400),
    "stream_error": (v2.RateLimitError, 200),  # the stream had opened with 200
    "stream_cut": (httpx.RemoteProtocolError, None),  # not wrapped by the SDK
    "timeout": (v2.APITimeoutError, None), "refused": (v2.APIConnectionError, None),
    # lesson 03b: the thinking models' three 400 InvalidParameter
    "thinking_not_streamed": (v2.BadRequestError, 400), "stream_only_model": (v2.BadRequestError, 400),
    "incremental_required": (v2.BadRequestError, 400),
}
# helper: (kind, attempts made, requests that reach the server when every attempt fails)
HELPER = {
    "invalid_key": ("auth", 1, 1), "access_denied": ("permission", 1, 1), "arrearage": ("arrearage", 1, 1),
    "model_not_found": ("not_found", 1, 1), "rate_limit": ("rate_limit", 3, 3),
    "server_error": ("server", 3, 3), "content_filter": ("content_filter", 1, 1),
    "stream_error": ("rate_limit", 1, 1), "stream_cut": ("stream_broken", 1, 1),
    "timeout": ("timeout", 3, 3), "refused": ("network", 3, 0),
    "thinking_not_streamed": ("bad_request", 1, 1), "stream_only_model": ("bad_request", 1, 1),
    "incremental_required": ("bad_request", 1, 1),
}
STREAM_ONLY = {"stream_error", "stream_cut"}


def test_the_matrix_covers_every_fault():
    assert set(LEGACY) == set(V2) == set(HELPER) == set(FAULTS)


def legacy_call(stream: bool):
    result = dashscope.Generation.call(model="qwen-plus", messages=MESSAGES, result_format="message",
                                       stream=stream, incremental_output=True if stream else None,
                                       request_timeout=TIMEOUT)
    return list(result) if stream else [result]


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_legacy_sdk(server, name):
    stream = name in STREAM_ONLY
    expected = LEGACY[name]
    with fault(name) as f:
        if isinstance(expected, type):
            with pytest.raises(expected):
                legacy_call(stream)
            return
        responses = legacy_call(stream)
    last = responses[-1]
    assert (last.status_code, last.code) == expected
    assert last.message and last.output is None
    if name == "stream_error":  # the good frames came first
        assert all(r.status_code == 200 for r in responses[:-1]) and len(responses) > 1
    assert f.served == 1 and f.requests == 1


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_dashscope_2_client(server, name):
    cls, status = V2[name]
    stream = name in STREAM_ONLY
    with fault(name) as f:
        client = dashscope.Client(max_retries=0, timeout=TIMEOUT)  # built inside: `refused` moves it
        with pytest.raises(cls) as info:
            result = client.chat.completions.create(model="qwen-plus", messages=MESSAGES, stream=stream)
            if stream:
                list(result)
    if status is not None:
        assert info.value.status_code == status
    assert error_from_exception(info.value).kind == HELPER[name][0]
    assert f.requests == (0 if name == "refused" else 1)


def _chinese_message_ok(err: LLMError, name: str) -> None:
    text = str(err)
    assert text.startswith(f"✗ {TITLES[err.kind]}"), text
    assert "Traceback" not in text
    if name in THINKING_FAULTS:  # one code for three mistakes: the message picks the row
        hints = [hint for texts, _, hint, _ in MESSAGE_ROWS
                 if any(t in HTTP_FAULTS[name].message.lower() for t in texts)]
        assert len(hints) == 1 and hints[0] in text, text
    elif name in HTTP_FAULTS:  # the hint of the error table's row for this code
        # 400 InvalidParameter "Model not exist." is read as the missing-model row.
        code = "ModelNotFound" if name == "model_not_found" else HTTP_FAULTS[name].code
        assert ERRORS[code].hint in text


@pytest.mark.parametrize("name, stream", [
    pytest.param(name, stream, id=f"{name}-{'stream_chat' if stream else 'chat'}")
    for name in sorted(FAULTS) for stream in (False, True)
    if stream or name not in STREAM_ONLY])  # stream faults only hit streamed requests
def test_helper(server, fast, name, stream):
    kind, attempts, requests_seen = HELPER[name]
    conv = Conversation(system=SYSTEM)
    before = conv.to_dict()
    conv.add_user(QUESTION)
    sent = conv.messages
    snapshot = [dict(m) for m in sent]
    pieces: list[str] = []
    with fault(name, times=3) as f:
        with pytest.raises(LLMError) as info:
            if stream:
                helpers.stream_chat(sent, on_text=pieces.append)
            else:
                helpers.chat(sent)
        conv.pop_last_user()  # the caller undoes its own add_user; the helper touched nothing
    err = info.value
    assert err.kind == kind and err.attempts == attempts
    _chinese_message_ok(err, name)
    assert f.requests == requests_seen
    assert len(fast) == attempts - 1  # one wait before each retry
    assert sent == snapshot, "the helper must not change the messages it was given"
    assert conv.to_dict() == before
    if name in STREAM_ONLY:  # text had arrived: kept on the error, never retried
        assert pieces and err.partial_text == "".join(pieces) and not err.retryable
        assert ANSWER.startswith(err.partial_text)
    else:
        assert err.partial_text is None


# --- retries ----------------------------------------------------------------------------------
def test_rate_limit_then_success_retries_once(server, fast):
    with fault("rate_limit") as f:
        reply = helpers.chat(MESSAGES)
    assert reply.text == ANSWER
    assert f.served == 1 and f.requests == 2 and len(fast) == 1


def test_server_errors_twice_then_success(server, fast):
    with fault("server_error", times=2) as f:
        reply = helpers.stream_chat(MESSAGES)
    assert reply.text == ANSWER and f.requests == 3
    assert fast[1] > fast[0]  # exponential backoff


def test_timeout_then_success(server, fast):
    with fault("timeout") as f:
        reply = helpers.chat(MESSAGES)
    assert reply.text == ANSWER and f.served == 1 and f.requests == 2


def test_stream_cut_before_any_text_is_retried(server, fast):
    with fault("stream_cut", after=0) as f:
        reply = helpers.stream_chat(MESSAGES)
    assert reply.text == ANSWER and f.requests == 2


def test_invalid_key_is_sent_exactly_once(server, fast):
    before = server.log.requests
    with fault("invalid_key", times=3) as f, pytest.raises(LLMError) as info:
        helpers.chat(MESSAGES)
    assert server.log.requests - before == 1 and f.served == 1 and info.value.attempts == 1
    assert fast == []


def test_unused_faults_are_disarmed_when_the_block_ends(server):
    with fault("server_error", times=3) as f:
        pass
    assert f.served == 0 and server.faults == []
    assert helpers.chat(MESSAGES).text == ANSWER


def test_dashscope_2_client_retries_rate_limits_itself(server):
    # Its own policy: 3 attempts, honouring Retry-After (0 here, to stay fast).
    with fault("rate_limit", times=2, retry_after=0) as f:
        result = dashscope.Client(timeout=5).chat.completions.create(model="qwen-plus", messages=MESSAGES)
    assert result.choices[0].message.content == ANSWER and f.requests == 3


def test_retry_after_header_is_sent(server):
    with fault("rate_limit", retry_after=1), pytest.raises(v2.RateLimitError) as info:
        dashscope.Client(max_retries=0).chat.completions.create(model="qwen-plus", messages=MESSAGES)
    assert info.value.headers.get("retry-after") == "1"
    assert error_from_exception(info.value).retry_after == 1


def test_broken_stream_keeps_its_text_in_the_conversation(server):
    conv = Conversation()
    conv.add_user(QUESTION)
    with fault("stream_cut", after=2), pytest.raises(LLMError) as info:
        helpers.stream_chat(conv.messages)
    conv.add_assistant(info.value.partial_text, partial=True)
    assert conv.turns[-1].partial and ANSWER.startswith(conv.turns[-1].content)
    assert "回复中断" in conv.to_markdown()


def test_explain_verbose_has_the_facts(server):
    with fault("content_filter"), pytest.raises(LLMError) as info:
        helpers.chat(MESSAGES)
    text = info.value.explain(verbose=True)
    assert "DataInspectionFailed" in text and "request_id" in text and "400" in text


def test_refused_restores_the_addresses(server):
    def addresses():
        return {k: v for k, v in os.environ.items() if "BASE_URL" in k}

    url, env = dashscope.base_http_api_url, addresses()
    with fault("refused") as f:
        assert str(f.port) in dashscope.base_http_api_url and addresses() != env
    assert dashscope.base_http_api_url == url and addresses() == env
    assert helpers.chat(MESSAGES).text == ANSWER


def test_unknown_fault_name_is_refused_in_chinese():
    with pytest.raises(ValueError, match="没有名为"):
        with inject_fault("no_such_fault"):
            pass


# --- the OpenAI-compatible endpoint -----------------------------------------------------------
COMPAT = {name: (f.compat_status or f.status, f.compat_code) for name, f in HTTP_FAULTS.items()}


@pytest.mark.parametrize("name", sorted(COMPAT))
def test_compatible_endpoint_error_shapes(server, name):
    status, code = COMPAT[name]
    with fault(name) as f, pytest.raises(Exception) as info:
        OpenAI(max_retries=0).chat.completions.create(model="qwen-plus", messages=MESSAGES)
    exc = info.value
    assert (exc.status_code, exc.code) == (status, code)
    assert set(exc.body) >= {"message", "type", "code"}  # the OpenAI envelope's inner object
    assert exc.response.json()["request_id"]
    assert error_from_exception(exc).kind == HELPER[name][0]
    assert f.requests == 1


@pytest.mark.parametrize("name", sorted(STREAM_ONLY))
def test_compatible_endpoint_stream_faults(server, name):
    pieces = []
    with fault(name), pytest.raises(Exception) as info:
        for chunk in OpenAI(max_retries=0, timeout=5).chat.completions.create(
                model="qwen-plus", messages=MESSAGES, stream=True):
            pieces.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
    err = error_from_exception(info.value, partial_text="".join(pieces))
    assert err.kind == HELPER[name][0] and ANSWER.startswith(err.partial_text) and err.partial_text
