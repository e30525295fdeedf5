"""The chat widget's logic (helpers.chatbot.ChatBot) and its layout (helpers.widget.ChatWidget),
without a browser: replay mode answers from notebooks/recordings/06_project1_chat.json."""
from __future__ import annotations

import subprocess
import sys

import pytest

import helpers
import helpers.chatbot as chat_module
from helpers.ending import FAREWELL, EndDetector
from helpers.errors import stream_broken
from helpers.llm import Reply

Q1, A1 = "我想买一双鞋，有什么建议吗？请20字以内回答我", "先想好用途，再选合脚、舒适透气的款式。"
Q2, A2 = "有哪些尺码呢？请20字以内回答我", "常见35到45码，建议按脚长选或到店试穿。"
NOT_RECORDED = "你们店晚上几点关门？"


@pytest.fixture(autouse=True)
def replay():
    settings = helpers.setup("06_project1_chat")
    assert settings.mode == "replay"


@pytest.fixture
def ui():
    pytest.importorskip("ipywidgets")
    from helpers.widget import ChatWidget

    return ChatWidget()


def no_model(text: str) -> bool:
    raise AssertionError(f"the end detector asked the model about {text!r}")


# -- the logic -------------------------------------------------------------------------------


def test_send_course_turn_appends_answer():
    from helpers.widget import ChatBot

    bot = ChatBot()
    pieces: list[str] = []
    outcome = bot.send(Q1, on_text=pieces.append)
    assert (outcome.kind, outcome.text) == ("answer", A1)
    assert len(pieces) > 1 and "".join(pieces) == A1  # it streamed
    assert [(t.role, t.content) for t in bot.conversation.turns] == [("user", Q1), ("assistant", A1)]
    assert bot.send(Q2).text == A2  # the second request carried the first turn


def test_goodbye_gives_farewell_without_model_call():
    bot = chat_module.ChatBot(detector=EndDetector("hybrid", classify=no_model))
    calls = len(helpers.METER.calls)
    outcome = bot.send("好的我知道了")
    assert (outcome.kind, outcome.text) == ("farewell", FAREWELL)
    assert bot.ended and len(helpers.METER.calls) == calls
    assert bot.send(Q1).kind == "hint"  # nothing is sent after the end


def test_reset_clears_history_and_reopens():
    bot = chat_module.ChatBot()
    bot.send(Q1)
    bot.send("再见")
    bot.reset()
    assert len(bot.conversation) == 0 and not bot.ended
    assert bot.conversation.system == helpers.conversation.DEFAULT_SYSTEM
    assert bot.send(Q1).text == A1


def test_failed_request_explains_and_keeps_history():
    bot = chat_module.ChatBot()
    bot.send(Q1)
    outcome = bot.send(NOT_RECORDED)
    assert outcome.kind == "error" and outcome.text.startswith("✗ 找不到请求的内容（ReplayMiss）：回放模式下没有这条请求的录制")
    assert [t.content for t in bot.conversation.turns] == [Q1, A1]
    assert bot.send(Q2).text == A2  # the history is exactly what the recording expects


def test_empty_text_is_a_hint():
    bot = chat_module.ChatBot()
    assert bot.send("  ").kind == "hint" and len(bot.conversation) == 0


def test_broken_stream_keeps_partial_text_and_says_so(monkeypatch):
    def broken(messages, *, model=None, on_text=None, **params):
        on_text("先想好")
        raise stream_broken("先想好", detail="connection reset")

    monkeypatch.setattr(chat_module, "stream_chat", broken)
    bot = chat_module.ChatBot()
    outcome = bot.send(Q1, on_text=lambda piece: None)
    assert outcome.kind == "error" and "不完整" in outcome.text
    last = bot.conversation.turns[-1]
    assert (last.role, last.content, last.partial) == ("assistant", "先想好", True)


def test_interrupted_stream_is_kept_as_partial(monkeypatch):
    def interrupted(messages, *, model=None, on_text=None, **params):
        on_text("先想好")
        return Reply(text="先想好", finish_reason="interrupted", partial=True)

    monkeypatch.setattr(chat_module, "stream_chat", interrupted)
    bot = chat_module.ChatBot()
    assert bot.send(Q1, on_text=lambda piece: None).kind == "partial"
    assert bot.conversation.turns[-1].partial


def test_ctrl_c_before_any_text_takes_the_question_back(monkeypatch):
    def cancelled(messages, **params):
        raise KeyboardInterrupt

    monkeypatch.setattr(chat_module, "stream_chat", cancelled)
    bot = chat_module.ChatBot()
    assert bot.send(Q1).kind == "hint" and len(bot.conversation) == 0


def test_no_stream_delivers_one_piece():
    bot = chat_module.ChatBot(stream=False)
    pieces: list[str] = []
    assert bot.send(Q1, on_text=pieces.append).text == A1 and pieces == [A1]


# -- the widget ------------------------------------------------------------------------------


def test_widget_streams_into_answer_area_without_printing(ui, capsys):
    calls = len(helpers.METER.calls)
    updates: list[str] = []
    ui.answer.observe(lambda change: updates.append(change["new"]), names="value")
    ui.input.value = Q1  # what Enter in the box does
    assert ui.input.value == ""  # cleared for the next question
    assert sum("▌" in u for u in updates) > 1 and ui.answer.value == ""
    assert ui.text() == f"你：{Q1}\n助手：{A1}"
    assert "这个聊天窗口：1 次调用" in ui.meter.value  # its own calls, not the notebook's
    assert capsys.readouterr().out == ""


def test_widget_enter_from_browser_clears_the_box(ui, monkeypatch):
    # set_state is what an update message from the browser calls (value arrives on Enter);
    # the cleared value must be synced back even though that update is still being handled.
    synced: list[str] = []
    monkeypatch.setattr(ui.input, "send_state", lambda key=None: synced.append(key))
    ui.input.set_state({"value": Q1})
    assert ui.entries[-1] == ("answer", A1)
    assert ui.input.value == "" and "value" in synced


def test_widget_send_button(ui):
    ui.input.value = ""
    ui.send_button.click()  # empty: ignored
    assert ui.entries == []
    ui.submit(Q1)
    assert ui.entries[-1] == ("answer", A1)


def test_widget_goodbye_disables_inputs_then_reset(ui):
    ui.submit(Q1)
    outcome = ui.submit("好的我知道了")
    assert outcome.text == FAREWELL and ui.entries[-1] == ("farewell", FAREWELL)
    assert ui.input.disabled and ui.send_button.disabled and ui.end_button.disabled
    assert not ui.reset_button.disabled
    ui.reset_button.click()
    assert ui.enabled and ui.entries == [] and len(ui.bot.conversation) == 0
    assert "还没有对话" in ui.transcript.value


def test_widget_end_button(ui):
    ui.submit(Q1)
    ui.end_button.click()
    assert ui.entries[-1] == ("farewell", FAREWELL) and not ui.enabled
    assert ui.bot.conversation.turns[-1].content == A1  # no goodbye typed, none stored


def test_widget_error_shown_history_intact(ui):
    ui.submit(Q1)
    ui.submit(NOT_RECORDED)
    kind, text = ui.entries[-1]
    assert kind == "error" and "没有这条请求的录制" in text
    assert "没有这条请求的录制" in ui.transcript.value
    assert [t.content for t in ui.bot.conversation.turns] == [Q1, A1]
    assert ui.enabled
    assert ui.submit(Q2).text == A2


def test_widget_escapes_html(ui):
    ui.entries.append(("user", "<b>x</b>"))
    ui._refresh()
    assert "&lt;b&gt;" in ui.transcript.value


def test_helpers_chat_is_the_lesson_01_function_after_importing_project_1():
    # One name, one thing: the Project 1 program is helpers.project1, helpers.chat the call.
    import helpers.project1  # noqa: F401

    assert helpers.chat is helpers.llm.chat
    messages = [{"role": "system", "content": helpers.conversation.DEFAULT_SYSTEM},
                {"role": "user", "content": Q1}]
    assert helpers.chat(messages).text == A1  # still the lesson-01 call (recorded by --no-stream)


def test_import_helpers_does_not_import_ipywidgets():
    code = ("import sys, helpers, helpers.project1, helpers.widget; "
            "print(any(m.split('.')[0] in ('ipywidgets', 'IPython') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
