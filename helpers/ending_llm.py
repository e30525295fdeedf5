"""Lesson 04's ``llm`` strategy: one strict classification call to the model.

The prompt asks for a single label, END or CONTINUE; ``parse_label`` refuses anything else
rather than guess. The recordings of lesson 04 are authored for ``classification_messages``.
"""
from __future__ import annotations

import re


_SYSTEM_PROMPT = (
    "你是一个对话结束判定器。客服对话中，判断用户这句话是否表示想结束对话"
    "（例如道谢后不再提问、说再见、表示没有别的问题了）。"
    "如果用户道谢后又提出新的请求或问题，或者只是在谈论“再见”这个词，都不算结束。"
    "例如「好的我知道了」是 END，「谢谢，再帮我查一下尺码」是 CONTINUE。"
    "只输出一个标签：END（想结束）或 CONTINUE（还要继续），不要输出任何其他内容。"
)
_LABEL = re.compile(r"\b(END|CONTINUE)\b|(结束|继续)", re.ASCII)  # "标签END" still has a word END


def classification_messages(text: str) -> list[dict]:
    """The exact messages sent to the model; recordings are authored for these."""
    return [
        {"role": "system", "content": _SYSTEM_PROMPT},
        {"role": "user", "content": f"用户的话：{text}"},
    ]


def parse_label(reply: str) -> bool:
    """Read END/CONTINUE from a reply; raise ValueError if there is no single label."""
    labels = {m.group(1) or m.group(2) for m in _LABEL.finditer(reply.upper())}
    if len(labels) != 1:
        raise ValueError(f"无法识别的分类结果：{reply!r}")
    return labels.pop() in ("END", "结束")


def llm_classify(text: str) -> bool:
    """Ask the model; any failure (no recording, no network) propagates to the caller."""
    from helpers.llm import chat  # lazy: the rules path must work without it

    reply = chat(classification_messages(text), temperature=0, max_tokens=5)
    return parse_label(reply.text)
