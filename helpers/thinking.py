"""Lesson 03b: thinking models — the reasoning streamed apart from the answer, one renderer.

``helpers.stream_chat(..., enable_thinking=True, on_reasoning=...)`` hands the reasoning
(``reasoning_content``) and the answer (``content``) to two callbacks and returns a
``ThinkingReply``: ``text`` is the answer only — the one thing a conversation keeps — and
``reasoning`` the rest. ``ThinkingView`` shows both parts: in a notebook the reasoning dimmed
under a 思考过程 heading that folds away once the answer starts; in a terminal dimmed (or
hidden, a single 「思考中」 line instead) above a separator. Display code only here: the
returned data never depends on how it was shown.
"""
from __future__ import annotations

import html
import sys
import time
from dataclasses import dataclass, field
from typing import Optional, TextIO

from .llm import Messages, Reply, stream_chat

HEADING = "思考过程"
DIM, RESET = "\033[2m", "\033[0m"
INTERRUPTED = "（模型还在思考时被中断了：没有回答，思考内容不会保存，对话历史没有变化。）"


@dataclass(repr=False)
class ThinkingReply(Reply):
    """A Reply from a thinking call: ``text`` is the answer, ``reasoning`` the thinking."""

    reasoning: str = ""
    first_reasoning_seconds: Optional[float] = field(default=None, repr=False)

    def timing(self) -> str:
        """E.g. 思考首字 0.62 秒 · 回答首字 7.10 秒 · 总计 8.00 秒."""
        parts = []
        if self.first_reasoning_seconds is not None:
            parts.append(f"思考首字 {self.first_reasoning_seconds:.2f} 秒")
        if self.first_token_seconds is not None:
            parts.append(f"回答首字 {self.first_token_seconds:.2f} 秒")
        return " · ".join(parts + [f"总计 {self.seconds:.2f} 秒"])

    def __repr__(self) -> str:
        state = "（被中断）" if self.partial else ""
        return (f"<思考回答{state}：思考 {len(self.reasoning)} 字，回答 {len(self.text)} 字；"
                f"{self.usage!r}>")

    def _repr_markdown_(self) -> str:
        folded = (f"<details><summary>{HEADING}（{len(self.reasoning)} 字）</summary>\n\n"
                  f"{html.escape(self.reasoning)}\n\n</details>\n\n" if self.reasoning else "")
        return f"{folded}{self.text or '（没有回答）'}\n\n*{self.usage!r}*"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where rich display updates work)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return bool(shell) and type(shell).__name__ == "ZMQInteractiveShell"


class ThinkingView:
    """One renderer for both parts: pass ``view.reasoning`` as ``on_reasoning`` and
    ``view.answer`` as ``on_text``, then call ``view.close(reply)``.

    notebook=None picks the notebook display inside Jupyter, the console elsewhere.
    show_reasoning=False hides the reasoning (one 「思考中」 line stands for it).
    label: printed before the answer (the console chat's 「助手：」).
    """

    def __init__(self, *, show_reasoning: bool = True, notebook: Optional[bool] = None,
                 label: str = "", out: Optional[TextIO] = None, refresh: float = 0.15) -> None:
        self.show_reasoning, self.label = show_reasoning, label
        self.notebook = in_notebook() if notebook is None else notebook
        self.out = out or sys.stdout
        self.thought: list[str] = []
        self.said: list[str] = []
        self.refresh, self._drawn_at, self._handle = refresh, 0.0, None
        self.dim = not self.notebook and getattr(self.out, "isatty", lambda: False)()

    # -- callbacks ---------------------------------------------------------------------
    def reasoning(self, piece: str) -> None:
        self.thought.append(piece)
        if self.notebook:
            return self._draw()
        if not self.show_reasoning:
            if len(self.thought) == 1:
                self._write("（思考中……输入 /think 可显示思考过程）\n")
            return
        if len(self.thought) == 1:  # dim from here to the end of the reasoning
            self._write((DIM if self.dim else "") + f"【{HEADING}】\n")
        self._write(piece)

    def answer(self, piece: str) -> None:
        first = not self.said
        self.said.append(piece)
        if self.notebook:
            return self._draw(force=first)
        if first and self.thought and self.show_reasoning:
            self._write("\n—— 回答 ——" + (RESET if self.dim else "") + "\n")
        self._write((self.label if first else "") + piece)

    def close(self, reply: Optional[Reply] = None) -> None:
        """The last frame: answer complete (or interrupted), timings for both parts."""
        if self.notebook:
            self._draw(force=True)
        elif self.said:
            self._write("\n")
        elif self.thought and self.show_reasoning:  # stopped while thinking
            self._write((RESET if self.dim else "") + "\n")
        if reply is None:
            return
        if reply.partial and not reply.text and self.thought:
            self._write(INTERRUPTED + "\n")
        elif isinstance(reply, ThinkingReply):
            self._write(self._dimmed(f"（{reply.timing()}）") + "\n")

    # -- output --------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def _dimmed(self, text: str) -> str:
        return f"{DIM}{text}{RESET}" if self.dim else text

    def html(self) -> str:
        """The notebook frame: reasoning dimmed under 思考过程 (folded once the answer
        starts), then the answer in full size. Large type and strong contrast: a projector."""
        box = ("<div style='font-size:1.1em;line-height:1.7'>"
               "{thought}<div style='white-space:pre-wrap;margin-top:.4em'>{said}</div></div>")
        thought = ""
        if self.thought:
            body = html.escape("".join(self.thought)) if self.show_reasoning else "（已隐藏）"
            state = "" if self.said else " open"
            thought = (f"<details{state}><summary style='color:#555'>{HEADING}"
                       f"（{len(''.join(self.thought))} 字{'，点开查看' if self.said else ''}）"
                       "</summary><div style='color:#666;border-left:4px solid #bbb;"
                       f"padding-left:.8em;white-space:pre-wrap'>{body}</div></details>")
        return box.format(thought=thought, said=html.escape("".join(self.said)))

    def text(self) -> str:
        """The same frame as plain text (the notebook's text/plain fallback)."""
        lines = [f"【{HEADING}】{len(''.join(self.thought))} 字"] if self.thought else []
        return "\n".join(lines + ["".join(self.said)])

    def _draw(self, force: bool = False) -> None:
        from IPython.display import display

        now = time.monotonic()
        if not force and now - self._drawn_at < self.refresh:
            return
        self._drawn_at = now
        bundle = {"text/html": self.html(), "text/plain": self.text()}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)


def stream_thinking(messages: Messages, *, model: Optional[str] = None,
                    show_reasoning: bool = True, notebook: Optional[bool] = None,
                    **params) -> Reply:
    """Ask a thinking model and show both parts as they arrive; returns the ThinkingReply.
    ``enable_thinking`` defaults to True; ``thinking_budget=N`` caps the reasoning."""
    params.setdefault("enable_thinking", True)
    view = ThinkingView(show_reasoning=show_reasoning, notebook=notebook)
    reply = stream_chat(messages, model=model, on_text=view.answer,
                        on_reasoning=view.reasoning, **params)
    view.close(reply)
    return reply

