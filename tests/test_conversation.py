"""Tests for helpers.conversation.Conversation."""
from __future__ import annotations

import json

import pytest

from helpers.conversation import Conversation, Turn
from helpers.tokens import count_message_tokens

SYSTEM = "你是一位耐心的中文助教，回答要简洁。"


def make_conversation(pairs: int, budget: int | None = None, pending_user: bool = True) -> Conversation:
    """`pairs` finished exchanges of varying length, then optionally an unanswered question."""
    conv = Conversation(system=SYSTEM, budget_tokens=budget)
    for i in range(pairs):
        conv.add_user(f"第 {i} 个问题：" + "请解释一下这个概念。" * (1 + i % 3))
        conv.add_assistant(f"第 {i} 个回答：" + "这是一个比较长的解释。" * (2 + i % 5))
    if pending_user:
        conv.add_user("最后一个问题：能再举个例子吗？")
    return conv


def assert_is_whole_pair_suffix(conv: Conversation, sent: list[dict[str, str]]) -> None:
    """The request is system + an unbroken tail of the history that starts with a user turn."""
    assert sent[0] == {"role": "system", "content": SYSTEM}
    body = sent[1:]
    full = conv.messages[1:]
    assert body == full[len(full) - len(body):]
    assert body and body[0]["role"] == "user"


# -- building the history ------------------------------------------------------


def test_roles_alternate_starting_with_user():
    conv = Conversation()
    with pytest.raises(ValueError):
        conv.add_assistant("我先说话")
    conv.add_user("你好")
    with pytest.raises(ValueError):
        conv.add_user("你好？")
    conv.add_assistant("你好！")
    with pytest.raises(ValueError):
        conv.add_assistant("还有我")
    assert len(conv) == 2


def test_content_must_be_text():
    with pytest.raises(TypeError):
        Conversation().add_user(None)  # type: ignore[arg-type]


def test_partial_reply_is_marked_but_messages_stay_plain():
    conv = Conversation(system=SYSTEM)
    conv.add_user("讲个故事")
    conv.add_assistant("从前有座山，山里", partial=True)
    assert conv.turns[-1] == Turn("assistant", "从前有座山，山里", partial=True)
    for message in conv.messages + conv.messages_for_request():
        assert set(message) == {"role", "content"}


def test_pop_last_user_restores_previous_state():
    conv = make_conversation(3, pending_user=False)
    before = conv.to_json()
    conv.add_user("这个请求会失败")
    assert conv.pop_last_user() == "这个请求会失败"
    assert conv.to_json() == before
    with pytest.raises(ValueError):
        conv.pop_last_user()  # last turn is an assistant reply
    with pytest.raises(ValueError):
        Conversation().pop_last_user()


def test_reset_keeps_system_prompt():
    conv = make_conversation(2, budget=500)
    conv.reset()
    assert len(conv) == 0 and conv.turns == ()
    assert conv.messages == [{"role": "system", "content": SYSTEM}]
    assert conv.budget_tokens == 500


def test_messages_with_and_without_system():
    conv = Conversation()
    conv.add_user("你好")
    assert conv.messages == [{"role": "user", "content": "你好"}]
    conv = Conversation(system=SYSTEM)
    conv.add_user("你好")
    assert conv.messages[0] == {"role": "system", "content": SYSTEM}
    assert len(conv.messages) == 2 and len(conv) == 1


def test_turns_are_read_only():
    conv = make_conversation(1)
    assert isinstance(conv.turns, tuple)


@pytest.mark.parametrize("bad", [0, -5, 1.5, "100"])
def test_budget_must_be_positive_int(bad):
    with pytest.raises(ValueError):
        Conversation(budget_tokens=bad)


# -- messages_for_request ------------------------------------------------------------


def test_no_budget_sends_everything():
    conv = make_conversation(10)
    assert conv.messages_for_request() == conv.messages


def test_budget_larger_than_history_sends_everything():
    conv = make_conversation(3, budget=100_000)
    assert conv.messages_for_request() == conv.messages


@pytest.mark.parametrize("pending_user", [True, False])
@pytest.mark.parametrize("budget", range(60, 900, 41))
def test_budget_invariants(budget, pending_user):
    conv = make_conversation(12, budget=budget, pending_user=pending_user)
    sent = conv.messages_for_request()
    assert_is_whole_pair_suffix(conv, sent)
    newest = 1 if pending_user else 2
    floor = count_message_tokens(sent[:1] + conv.messages[-newest:])
    if floor <= budget:  # staying within budget is possible, so it must happen
        assert count_message_tokens(sent) <= budget
    else:  # only the newest unit is sent
        assert sent[1:] == conv.messages[-newest:]
    # Greedy: the next older pair would not have fitted.
    full = conv.messages[1:]
    dropped = len(full) - len(sent[1:])
    if dropped:
        assert dropped % 2 == 0
        bigger = sent[:1] + full[dropped - 2:]
        assert count_message_tokens(bigger) > budget


def test_newest_user_message_kept_even_if_alone_over_budget():
    conv = make_conversation(4, budget=30, pending_user=False)
    long_question = "请详细说明。" * 50
    conv.add_user(long_question)
    sent = conv.messages_for_request()
    assert sent == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": long_question}]
    assert count_message_tokens(sent) > 30


def test_last_pair_kept_when_history_ends_with_reply():
    conv = make_conversation(4, budget=10, pending_user=False)
    assert conv.messages_for_request() == conv.messages[:1] + conv.messages[-2:]


def test_budget_without_system_prompt():
    conv = Conversation(budget_tokens=80)
    for i in range(10):
        conv.add_user(f"问题 {i}：这是什么意思？")
        conv.add_assistant(f"回答 {i}：意思是这样的，请看下面的说明。")
    conv.add_user("最后一问")
    sent = conv.messages_for_request()
    assert sent[0]["role"] == "user" and sent[-1]["content"] == "最后一问"
    assert count_message_tokens(sent) <= 80 and len(sent) % 2 == 1


def test_empty_conversation_request():
    assert Conversation(system=SYSTEM, budget_tokens=50).messages_for_request() == [
        {"role": "system", "content": SYSTEM}
    ]


# -- export / import -------------------------------------------------------------


def test_json_round_trip_preserves_everything():
    conv = make_conversation(2, budget=777, pending_user=False)
    conv.add_user("继续")
    conv.add_assistant("好的，接下来", partial=True)
    text = conv.to_json()
    assert "你是一位耐心的中文助教" in text and "\\u" not in text  # Chinese left readable
    data = json.loads(text)
    assert data["system"] == SYSTEM and data["budget_tokens"] == 777
    assert [t["partial"] for t in data["turns"]][-2:] == [False, True]
    again = Conversation.from_json(text)
    assert again.turns == conv.turns and again.system == SYSTEM and again.budget_tokens == 777
    assert again.to_json() == text


def test_from_json_validates_roles():
    good = json.loads(make_conversation(1).to_json())
    for bad_turns in (
        [{"role": "system", "content": "x"}],
        [{"role": "tool", "content": "x"}],
        [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        [{"role": "assistant", "content": "a"}],
    ):
        with pytest.raises(ValueError):
            Conversation.from_json(json.dumps({**good, "turns": bad_turns}))


def test_markdown_export():
    conv = make_conversation(1, pending_user=False)
    conv.add_user("再说一遍")
    conv.add_assistant("好的，", partial=True)
    md = conv.to_markdown()
    assert md.startswith("# 对话记录")
    assert "## 系统提示" in md and SYSTEM in md
    assert "## 1. 用户" in md and "## 2. 助手" in md
    assert "## 4. 助手（回复中断，内容不完整）" in md
    assert md.count("回复中断") == 1


def test_save_and_load(tmp_path):
    conv = make_conversation(2, budget=300)
    json_path = conv.save(tmp_path / "chat.json")
    assert Conversation.load(json_path).to_json() == conv.to_json()
    assert "你是一位" in json_path.read_text(encoding="utf-8")

    md_path = conv.save(tmp_path / "chat.md")
    assert md_path.read_text(encoding="utf-8").startswith("# 对话记录")
    with pytest.raises(ValueError, match="json"):
        Conversation.load(md_path)
    with pytest.raises(ValueError):
        conv.save(tmp_path / "chat.txt")
