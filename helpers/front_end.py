"""Lessons 05–06: where this process shows its messages — a notebook (the default) or the
console chat of Project 1 (``python -m helpers.project1`` calls ``set_front_end("console")``).

Only advice differs: a replay miss tells a console user what to type (/reset, Ctrl-D, make chat)
and a notebook user which cell to rerun. The server's own words (what has no recording, how it
differs from the closest one) are the same for both.
"""
from __future__ import annotations

import re

from .redaction import redact

MISS_ADVICE = {
    "notebook": "请照课程里的句子原样输入（全角/半角标点和空格不影响）。要问新问题：在 .env 中写入 "
                "DASHSCOPE_API_KEY，再重新运行本课第一个单元格（helpers.setup()），切换到 live（在线）模式。",
    "console": "请照课程里的句子原样输入（全角/半角标点和空格不影响）；上一个回答被中断过的话，先输入 "
               "/reset 清空对话再问。要问新问题：按 Ctrl-D 退出，在 .env 中写入 DASHSCOPE_API_KEY 后"
               "重新运行 make chat（或 python -m helpers.project1）。",
}
_current = {"name": "notebook"}


def set_front_end(name: str) -> None:
    """"notebook" (the default) or "console"."""
    if name not in MISS_ADVICE:
        raise ValueError(f"front end {name!r}: one of {sorted(MISS_ADVICE)}")
    _current["name"] = name


def front_end() -> str:
    return _current["name"]


def with_miss_advice(message: str) -> str:
    """A replay miss's message with the advice for the front end in use, on its own line.

    The server ends its message with the notebook's advice (code calling an SDK directly reads
    only that message, and such code runs in a notebook); it is replaced here."""
    for advice in MISS_ADVICE.values():
        message = message.replace(advice, "")
    return message.rstrip() + "\n  " + MISS_ADVICE[_current["name"]]


class ShownShort:
    """For the kit's error objects (``LLMError``): a short repr and Markdown in a notebook,
    the message first (``str(obj)``, in Chinese) and never the object's internals."""

    def __repr__(self) -> str:
        ids = " ".join(str(x) for x in (getattr(self, "kind", None), getattr(self, "code", None),
                                        getattr(self, "status", None)) if x)
        return redact(f"<✗ {getattr(self, 'title', type(self).__name__)}（{type(self).__name__} {ids}）>")

    def _repr_markdown_(self) -> str:
        head, _, rest = (re.sub(r"([\\`*_<>\[\]])", r"\\\1", part) for part in str(self).partition("："))
        return f"**{head}**：" + "  \n".join(rest.splitlines())
