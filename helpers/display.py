"""Showing a streamed answer as it arrives: in a notebook or in a terminal.

IPython is imported only when a notebook view is asked for, so the console program runs
without Jupyter.
"""
from __future__ import annotations

import sys
from typing import Callable

from .llm import Messages, Reply, stream_chat


def stats_line(reply: Reply) -> str:
    """One line of facts under an answer: timing, tokens, and why it stopped."""
    usage = reply.usage or {}
    parts = [reply.timing(), f"输入 {usage.get('input_tokens', '?')} tokens",
             f"输出 {usage.get('output_tokens', '?')} tokens"]
    if reply.finish_reason == "length":
        parts.append("已达 max_tokens 上限，回答被截断")
    if reply.partial:
        parts.append("已中断，保留了部分回答")
    return "（" + " · ".join(parts) + "）"


def print_stream(messages: Messages, *, stats: bool = True,
                 write: Callable[[str], object] | None = None, **params) -> Reply:
    """Stream to stdout piece by piece (works in a terminal and in a notebook cell)."""
    out = write or sys.stdout.write

    def show(piece: str) -> None:
        out(piece)
        sys.stdout.flush()

    reply = stream_chat(messages, on_text=show, **params)
    out("\n")
    if reply.partial:
        out("……[已中断]\n")
    if stats:
        out(stats_line(reply) + "\n")
    return reply


def markdown_stream(messages: Messages, **params) -> Reply:
    """Stream into one notebook output that re-renders as Markdown while text arrives.

    Uses a display handle (``display(..., display_id=True)`` then ``update``) instead of
    ``clear_output()``, so the cell does not flicker on a projector.
    """
    from IPython.display import Markdown, display

    handle = display(Markdown("▌"), display_id=True)
    text = ""

    def show(piece: str) -> None:
        nonlocal text
        text += piece
        handle.update(Markdown(text + "▌"))

    reply = stream_chat(messages, on_text=show, **params)
    handle.update(Markdown(reply.text + ("\n\n*……[已中断]*" if reply.partial else "")))
    return reply
