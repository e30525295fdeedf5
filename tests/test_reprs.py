"""Issue 22: what a student sees when a notebook cell ends with a Reply or a Conversation —
the content first, in Chinese, short; never a dataclass dump with literal \\n and **."""
from __future__ import annotations

from helpers import Conversation
from helpers.llm import Reply

TEXT = "跑步鞋和板鞋的区别：\n\n1. **鞋底**：跑步鞋有缓震。\n2. **重量**：跑步鞋更轻。"


def test_reply_markdown_is_the_answer_then_one_facts_line():
    reply = Reply(text=TEXT, finish_reason="stop", model="qwen-plus", request_id="rid",
                  usage={"input_tokens": 37, "output_tokens": 25, "total_tokens": 62})
    shown = reply._repr_markdown_()
    assert shown.startswith(TEXT)  # rendered as Markdown: the ** become bold
    facts = "qwen-plus · 结束原因 stop · 输入 37 · 输出 25 tokens"
    assert shown.splitlines()[-1] == f"<small>{facts}</small>"
    assert repr(reply) == ("<Reply 「跑步鞋和板鞋的区别： 1. **鞋底**：跑步鞋有缓震。 2…」 · "
                           "qwen-plus · 结束原因 stop · 输入 37 · 输出 25 tokens>")
    assert "Reply(" not in repr(reply) and len(repr(reply)) < 120


def test_reply_says_when_it_is_incomplete_and_when_usage_is_unknown():
    cut = Reply(text="1.《Python", finish_reason="length", usage={"input_tokens": 3,
                                                                 "output_tokens": 20})
    assert "⚠ 回答不完整" in cut.facts() and "模型未知" in cut.facts()
    interrupted = Reply(text="跑步鞋", finish_reason="interrupted", partial=True)
    assert interrupted.facts().endswith("用量未知 · ⚠ 回答不完整")


def test_conversation_shows_its_transcript():
    conv = Conversation(system="你是导购助手。", budget_tokens=300)
    conv.add_user("有哪些尺码？")
    conv.add_assistant("常见 35 到 45 码。", partial=True)
    assert repr(conv) == "<Conversation 2 条消息，有系统提示，预算 300 tokens>"
    assert conv._repr_markdown_().split("\n\n") == [
        "**用户**：有哪些尺码？", "**助手**：常见 35 到 45 码。（中断）",
        "<small>Conversation 2 条消息，有系统提示，预算 300 tokens</small>"]
    assert repr(Conversation()) == "<Conversation 0 条消息，无系统提示>"
