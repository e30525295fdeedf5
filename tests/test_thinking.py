"""Thinking models (lesson 03b): reasoning streamed apart from the answer, over real HTTP.

Authored thinking streams (a spec with ``reasoning``) are replayed to the real dashscope and
openai SDKs in both wire shapes; the renderer, the chat's history, the meter and the error
table are checked on what arrives.
"""
from __future__ import annotations

import io
import json
import os
from dataclasses import replace

import dashscope
import pytest
from openai import BadRequestError, OpenAI

import helpers
from authoring import authored_recordings
from helpers import tokens
from helpers.chatbot import ChatBot
from helpers.errors import MESSAGE_ROWS, LLMError, error_from_exception, error_from_response
from helpers.meter import UsageMeter
from helpers.replay.faults import HTTP_FAULTS, THINKING_FAULTS
from helpers.thinking import HEADING, INTERRUPTED, ThinkingReply, ThinkingView
from helpers.tokens import Usage, count_tokens

QUESTION = "测试：三双袜子每双 39 元，满 100 元减 10 元，一共多少钱？"
REASONING = ("先算原价：三双袜子，每双 39 元，39 × 3 = 117 元。117 元满 100 元，可以减 10 元，"
             "117 − 10 = 107 元。再检查一遍：39 × 3 是 117，没错；减 10 得 107。")
ANSWER = "一共 107 元（39 × 3 = 117，满 100 减 10）。"
SPEC = f"- user: {QUESTION}\n  reasoning: {REASONING}\n  reply: {ANSWER}\n"
MESSAGES = [{"role": "user", "content": QUESTION}]


def author_shapes() -> None:
    helpers.stream_chat(QUESTION, enable_thinking=True)  # native; compatible is rendered from it
    helpers.stream_chat(QUESTION, enable_thinking=True, thinking_budget=10)
    ChatBot(thinking=True).send(QUESTION)  # with the kit's system prompt


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with authored_recordings(tmp_path_factory.mktemp("thinking"), SPEC, author_shapes,
                             topic="thinking") as srv:
        yield srv
        assert not srv.log.errors, srv.log.errors


def compatible_parts(**extra) -> tuple[list[tuple[str, str]], object]:
    stream = OpenAI().chat.completions.create(model="qwen-plus", messages=MESSAGES, stream=True,
                                              stream_options={"include_usage": True},
                                              extra_body={"enable_thinking": True, **extra})
    parts, usage = [], None
    for chunk in stream:
        if not chunk.choices:
            usage = chunk.usage
            continue
        delta = chunk.choices[0].delta
        if getattr(delta, "reasoning_content", None):
            parts.append(("思考", delta.reasoning_content))
        if delta.content:
            parts.append(("回答", delta.content))
    return parts, usage


def test_the_authored_native_wire_shape(server):
    """Reasoning first as reasoning_content with content "", then the answer; usage counts
    the reasoning inside output_tokens (docs/dashscope-wire.md §1.7)."""
    exchanges = json.loads(server.store.files[0].read_text(encoding="utf-8"))["exchanges"]
    native = next(e for e in exchanges if e["request"]["stream"]
                  and "thinking_budget" not in e["request"]["body"]["parameters"]
                  and e["request"]["body"]["input"]["messages"][0]["role"] == "user")
    assert native["source"] == "authored"
    frames = [e["data"] for e in native["response"]["events"]]
    first = frames[0]["output"]["choices"][0]["message"]
    assert first["content"] == "" and first["reasoning_content"]
    last = frames[-1]
    assert last["output"]["choices"][0]["finish_reason"] == "stop"
    usage = last["usage"]
    assert usage["output_tokens_details"]["reasoning_tokens"] == count_tokens(REASONING)
    assert usage["output_tokens"] == count_tokens(REASONING) + count_tokens(ANSWER)
    delays = [e["delay_ms"] for e in native["response"]["events"]]
    assert delays[0] >= 300 and sum(delays) > 2000  # a real wait before any reasoning, then more


def test_native_stream_gives_reasoning_and_answer_apart(server):
    thought, said = [], []
    reply = helpers.stream_chat(QUESTION, enable_thinking=True, on_reasoning=thought.append,
                                on_text=said.append)
    assert isinstance(reply, ThinkingReply)
    assert "".join(thought) == reply.reasoning == REASONING
    assert "".join(said) == reply.text == ANSWER
    assert reply.usage.reasoning_tokens == count_tokens(REASONING)
    assert reply.first_reasoning_seconds is not None and reply.first_token_seconds is not None
    assert reply.first_reasoning_seconds <= reply.first_token_seconds
    assert "思考首字" in reply.timing() and "回答首字" in reply.timing()


def test_compatible_stream_gives_reasoning_before_the_answer(server):
    parts, usage = compatible_parts()
    kinds = [k for k, _ in parts]
    assert kinds.index("回答") == kinds.count("思考")  # every reasoning piece came first
    assert "".join(t for k, t in parts if k == "思考") == REASONING
    assert "".join(t for k, t in parts if k == "回答") == ANSWER
    assert usage.completion_tokens_details.reasoning_tokens == count_tokens(REASONING)
    assert usage.completion_tokens == count_tokens(REASONING) + count_tokens(ANSWER)


def test_thinking_budget_caps_the_reasoning(server):
    _, usage = compatible_parts(thinking_budget=10)
    assert 0 < usage.completion_tokens_details.reasoning_tokens <= 10
    capped = helpers.stream_chat(QUESTION, enable_thinking=True, thinking_budget=10)
    assert capped.usage.reasoning_tokens <= 10 and capped.text == ANSWER


def test_one_renderer_console(server):
    out = io.StringIO()
    view = ThinkingView(notebook=False, out=out, label="助手：")
    reply = helpers.stream_chat(QUESTION, enable_thinking=True, on_reasoning=view.reasoning,
                                on_text=view.answer)
    view.close(reply)
    text = out.getvalue()
    assert text.index(f"【{HEADING}】") < text.index(REASONING) < text.index("—— 回答 ——") \
        < text.index("助手：" + ANSWER)
    assert "思考首字" in text and "回答首字" in text
    hidden = io.StringIO()
    view = ThinkingView(notebook=False, out=hidden, show_reasoning=False, label="助手：")
    helpers.stream_chat(QUESTION, enable_thinking=True, on_reasoning=view.reasoning,
                        on_text=view.answer)
    assert REASONING[:10] not in hidden.getvalue() and "助手：" + ANSWER in hidden.getvalue()
    assert hidden.getvalue().count("思考中") == 1


def test_one_renderer_notebook_frame(server):
    view = ThinkingView(notebook=True, refresh=3600)
    view._draw = lambda force=False: None  # no kernel here: check the frame it would show
    for piece in ("先算<原价>", "，再减"):
        view.reasoning(piece)
    assert "<details open>" in view.html() and "&lt;原价&gt;" in view.html()
    view.answer("一共 107 元")
    frame = view.html()
    assert "<details open>" not in frame and HEADING in frame  # folded once the answer starts
    assert frame.index(HEADING) < frame.index("一共 107 元")
    assert view.text().endswith("一共 107 元")


def test_history_and_saved_file_hold_no_reasoning(server, tmp_path):
    bot = ChatBot(thinking=True)
    thought: list[str] = []
    outcome = bot.send(QUESTION, on_reasoning=thought.append)
    assert outcome.kind == "answer" and outcome.text == ANSWER and "".join(thought) == REASONING
    assert [m["content"] for m in bot.conversation.messages][1:] == [QUESTION, ANSWER]
    saved = bot.conversation.save(tmp_path / "chat.json").read_text(encoding="utf-8")
    assert ANSWER in saved and "reasoning" not in saved and REASONING[:12] not in saved


def test_interrupt_during_reasoning_keeps_nothing_and_says_so(server):
    bot = ChatBot(thinking=True)
    before = bot.conversation.to_dict()
    seen: list[str] = []

    def stop_after_three(piece: str) -> None:  # what Ctrl-C / ■ does, mid-reasoning
        seen.append(piece)
        if len(seen) == 3:
            raise KeyboardInterrupt

    said: list[str] = []
    outcome = bot.send(QUESTION, on_text=said.append, on_reasoning=stop_after_three)
    assert len(seen) == 3 and not said
    assert outcome.kind == "hint" and "思考" in outcome.text and "历史没有变化" in outcome.text
    assert bot.conversation.to_dict() == before
    out = io.StringIO()
    view = ThinkingView(notebook=False, out=out)
    for piece in seen:
        view.reasoning(piece)
    view.close(outcome.reply)
    assert INTERRUPTED in out.getvalue()


def test_meter_counts_reasoning_tokens_in_cost(server, monkeypatch):
    reply = helpers.stream_chat(QUESTION, enable_thinking=True)
    meter = UsageMeter()
    call = meter.record(reply.usage, "qwen-plus", "live")
    price = tokens.price_for("qwen-plus")
    thought, answer = count_tokens(REASONING), count_tokens(ANSWER)
    expected = (reply.usage["input_tokens"] * price.input_per_1k
                + (thought + answer) * price.output_per_1k) / 1000
    assert call.reasoning_tokens == thought and call.output_tokens == thought + answer
    assert round(call.cost, 12) == round(expected, 12)
    answer_only = {**reply.usage, "output_tokens": answer, "output_tokens_details": {}}
    assert call.cost > tokens.estimate_cost(answer_only, "qwen-plus")
    assert f"其中思考 {thought}" in meter.summary()
    # With a checked thinking-mode output price, the whole output of a thinking call uses it.
    monkeypatch.setitem(tokens.PRICES, "qwen-plus",
                        replace(price, thinking_output_per_1k=price.output_per_1k * 4))
    dearer = tokens.estimate_cost(reply.usage, "qwen-plus")
    assert round(dearer - expected, 12) == round(
        (thought + answer) * price.output_per_1k * 3 / 1000, 12)
    assert tokens.estimate_cost(answer_only, "qwen-plus") < expected  # no reasoning: no change


@pytest.mark.parametrize("name", THINKING_FAULTS)
@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream_chat"])
def test_each_thinking_400_maps_to_its_chinese_fix(server, name, stream):
    bot = ChatBot(thinking=True)
    bot.conversation.add_user("先问一句")
    bot.conversation.add_assistant("先答一句")
    before = bot.conversation.to_dict()
    with helpers.inject_fault(name, times=2):
        with pytest.raises(LLMError) as info:
            (helpers.stream_chat if stream else helpers.chat)(QUESTION)
        outcome = bot.send(QUESTION)
    fix = next(hint for texts, _, hint, _ in MESSAGE_ROWS
               if any(t in HTTP_FAULTS[name].message.lower() for t in texts))
    for err_text in (str(info.value), outcome.text):
        assert err_text.startswith("✗ 请求参数有误（400 InvalidParameter）：" + fix)
        assert "Traceback" not in err_text
    assert not info.value.retryable and outcome.kind == "error"
    assert bot.conversation.to_dict() == before  # the history is intact


def test_the_service_rules_are_replayed_on_both_protocols(server):
    """Not injected: what the live service answers these requests, both SDKs."""
    with pytest.raises(LLMError) as info:
        helpers.chat(QUESTION, enable_thinking=True)
    assert info.value.hint == MESSAGE_ROWS[0][2]
    with pytest.raises(BadRequestError) as compat:
        OpenAI(max_retries=0).chat.completions.create(
            model="qwen-plus", messages=MESSAGES, extra_body={"enable_thinking": True})
    assert error_from_exception(compat.value).hint == MESSAGE_ROWS[0][2]
    with pytest.raises(BadRequestError) as only:
        OpenAI(max_retries=0).chat.completions.create(model="qwq-32b", messages=MESSAGES)
    assert error_from_exception(only.value).hint == MESSAGE_ROWS[1][2]
    # The dashscope SDK turns incremental_output=False into True itself (and joins the text),
    # so only a raw request meets the third rule.
    import requests

    settings = helpers.config.current()
    raw = requests.post(settings.base_url + "/services/aigc/text-generation/generation",
                        headers={"X-DashScope-SSE": "enable", "Authorization": "Bearer x"},
                        json={"model": "qwen-plus", "input": {"messages": MESSAGES},
                              "parameters": {"enable_thinking": True, "result_format": "message",
                                             "incremental_output": False}}, timeout=10)
    body = raw.json()
    assert raw.status_code == 400
    err = error_from_response(400, body["code"], body["message"])
    assert err.hint == MESSAGE_ROWS[2][2]


def test_the_chinese_spelling_of_the_first_400_maps_too():
    text = "parameter.enable_thinking必须设置为false才能进行非流式调用"  # spring-ai-alibaba#867
    err = error_from_response(400, "invalid_parameter_error", text)
    assert err.hint == MESSAGE_ROWS[0][2] and err.kind == "bad_request"


def test_usage_has_a_short_chinese_repr():
    native = Usage.of({"input_tokens": 12, "output_tokens": 30, "total_tokens": 42,
                       "output_tokens_details": {"reasoning_tokens": 20}})
    assert repr(native) == "用量：输入 12 tokens · 输出 30 tokens（其中思考 20）"
    assert native._repr_markdown_().startswith("**用量**")
    compat = Usage.of({"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12})
    assert compat["input_tokens"] == 5 and compat.reasoning_tokens == 0
    assert repr(compat) == "用量：输入 5 tokens · 输出 7 tokens"
    assert dict(native)["output_tokens"] == 30  # still a dict for every existing caller


def test_varied_replay_thinks_too():
    os.environ.update(LLM_REPLAY_VARIED="1", LLM_REPLAY_VARIED_SEED="3")
    try:
        helpers.setup("varied_thinking")
        reply = helpers.stream_chat("随便一个问题？", enable_thinking=True, thinking_budget=30)
        assert reply.reasoning and reply.text and 0 < reply.usage.reasoning_tokens <= 30
        assert reply.reasoning not in reply.text
        with pytest.raises(LLMError) as info:
            helpers.chat("随便一个问题？", enable_thinking=True)
        assert info.value.hint == MESSAGE_ROWS[0][2]
    finally:
        for name in ("LLM_REPLAY_VARIED", "LLM_REPLAY_VARIED_SEED"):
            os.environ.pop(name, None)
        helpers.setup()
