"""Lesson 03: showing a streamed answer as it arrives, in a notebook or in a terminal.

IPython and matplotlib are imported only when asked for, so the console program runs
without Jupyter.
"""
from __future__ import annotations

import os
import sys
from typing import Callable

from .llm import Messages, Reply, stream_chat

# Fonts with Chinese glyphs on Windows, macOS and common Linux desktops, most likely first.
CHINESE_FONTS = ("Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC",
                 "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
                 "WenQuanYi Zen Hei", "SimHei", "Heiti SC", "STHeiti", "Arial Unicode MS")


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
    """Stream to stdout piece by piece (works in a terminal and in a notebook cell).

    Returns the Reply: full text, usage, finish reason and timing. ``write`` replaces
    ``sys.stdout.write`` (tests, or a program that prints elsewhere).
    """
    out = write or sys.stdout.write
    shown = False

    def show(piece: str) -> None:
        nonlocal shown
        out(piece)
        shown = True
        if write is None:
            sys.stdout.flush()  # a terminal shows the piece now, not at the next newline

    try:
        reply = stream_chat(messages, on_text=show, **params)
    except BaseException:
        if shown:  # end the half-printed line, so the error starts on its own line
            out("\n")
        raise
    out("\n")
    if reply.partial:
        out("……[已中断]\n")
    if stats:
        out(stats_line(reply) + "\n")
    return reply


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    return shell is not None and hasattr(shell, "kernel")


def markdown_stream(messages: Messages, **params) -> Reply:
    """Stream into one notebook output that re-renders as Markdown while text arrives.

    Uses a display handle (``display(..., display_id=True)`` then ``update``) instead of
    ``clear_output()``, so the cell does not flicker on a projector. Outside a notebook
    it falls back to print_stream.
    """
    if not _in_notebook():
        return print_stream(messages, **params)
    from IPython.display import Markdown, display

    handle = display(Markdown("▌"), display_id=True)
    text = ""

    def show(piece: str) -> None:
        nonlocal text
        text += piece
        handle.update(Markdown(text + "▌"))

    try:
        reply = stream_chat(messages, on_text=show, **params)
    except BaseException:
        handle.update(Markdown(text))  # drop the cursor; the error is shown below
        raise
    handle.update(Markdown(reply.text + ("\n\n*……[已中断]*" if reply.partial else "")))
    return reply


# Where the CJK fonts of each system live, and how their files are named. matplotlib caches its
# font list the first time it runs and never rescans, so a font installed later is invisible
# to it until added by file (docs/notebook-testing.md, "A font installed is not a font found").
FONT_FOLDERS = ("C:/Windows/Fonts", "/System/Library/Fonts", "/Library/Fonts",
                "~/Library/Fonts", "/usr/share/fonts", "/usr/local/share/fonts",
                "~/.local/share/fonts", "~/.fonts")
FONT_FILES = ("msyh", "pingfang", "hiragino", "notosanscjk", "notosanssc", "sourcehansans",
              "wqy", "simhei", "stheiti", "heiti")


def _add_font_files() -> None:
    from pathlib import Path

    from matplotlib import font_manager

    extra = os.environ.get("LLM_FONT_DIRS", "")
    for folder in [*filter(None, extra.split(os.pathsep)), *FONT_FOLDERS]:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.suffix.lower() in (".ttf", ".ttc", ".otf") and \
                    path.name.lower().replace("-", "").startswith(FONT_FILES):
                try:
                    font_manager.fontManager.addfont(str(path))
                except (OSError, RuntimeError, ValueError):
                    pass  # a font file matplotlib cannot read is simply not used


def chinese_font() -> str | None:
    """The name of a Chinese font matplotlib can use (found by name, else by file), or None."""
    from matplotlib import font_manager

    for attempt in range(2):
        installed = {font.name for font in font_manager.fontManager.ttflist}
        found = [name for name in CHINESE_FONTS if name in installed]
        if found or attempt:
            return found[0] if found else None
        _add_font_files()
    return None


def use_chinese_font() -> bool:
    """Let matplotlib draw Chinese with an installed Chinese font; False if there is none.

    Without one, Chinese labels become empty boxes, so lessons fall back to English labels.
    ``chinese_font()`` says which font is used.
    """
    import matplotlib

    name = chinese_font()
    if name:
        matplotlib.rcParams["font.family"] = "sans-serif"
        matplotlib.rcParams["font.sans-serif"] = [name, *matplotlib.rcParams["font.sans-serif"]]
        matplotlib.rcParams["axes.unicode_minus"] = False  # some Chinese fonts lack the minus sign
    return bool(name)
