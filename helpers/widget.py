"""A chat widget for presenting lesson 06 live in JupyterLab (ipywidgets).

The logic is ``helpers.chatbot.ChatBot`` (history, end detection, errors), which is tested
without a browser; this module only lays it out and shows what ChatBot returns.

Nothing blocks the kernel: there is no input() loop; each Enter or click sends one message
and returns when its answer is complete (the notebook's ■ button stops a long answer, like
Ctrl-C in the console). The answer streams into an HTML widget's value, never into an
``Output`` widget, so it produces no cell output. ipywidgets is imported inside ChatWidget,
so ``import helpers`` (and the console chat) never import it.

    from helpers.widget import ChatWidget
    ChatWidget()            # the last line of a cell shows it
"""
from __future__ import annotations

import html
from typing import Any, Optional

from .chatbot import ASSISTANT, USER, ChatBot, Outcome
from .meter import METER

__all__ = ["ChatBot", "ChatWidget", "Outcome"]

# How each kind of transcript entry looks: (label, CSS).
_STYLES = {
    "user": (USER, "background:#e8f0fe"),
    "answer": (ASSISTANT, "background:#f1f3f4"),
    "partial": (ASSISTANT, "background:#f1f3f4;border-left:3px solid #f9ab00"),
    "farewell": (ASSISTANT, "background:#e6f4ea"),
    "error": ("", "background:#fce8e6;color:#a50e0e"),
    "hint": ("", "color:#5f6368"),
}


def bubble(kind: str, text: str) -> str:
    """One transcript entry as HTML (text escaped, line breaks kept)."""
    label, style = _STYLES[kind]
    return (f'<div style="{style};padding:6px 10px;margin:4px 0;border-radius:6px;'
            f'white-space:pre-wrap">{html.escape(label + text)}</div>')


class ChatWidget:
    """Input box, send / end / reset buttons, a streaming answer area and the usage meter."""

    def __init__(self, bot: Optional[ChatBot] = None, **options: Any) -> None:
        import ipywidgets as w

        self.bot = bot or ChatBot(**options)  # options: system, budget, model, stream, detector
        self.entries: list[tuple[str, str]] = []  # (kind, text) shown in the transcript
        self.transcript = w.HTML(layout=w.Layout(max_height="420px", overflow="auto"))
        self.answer = w.HTML()  # the answer being streamed
        # continuous_update=False: the value arrives on Enter (or when the box loses focus).
        self.input = w.Text(placeholder="输入问题，按回车或点「发送」", continuous_update=False,
                            layout=w.Layout(flex="1"))
        self.send_button = w.Button(description="发送", button_style="primary")
        self.end_button = w.Button(description="结束对话")
        self.reset_button = w.Button(description="重新开始")
        self.meter = w.HTML()
        self.input.observe(lambda change: self.submit(change["new"]), names="value")
        self.send_button.on_click(lambda _: self.submit(self.input.value))
        self.end_button.on_click(lambda _: self.end())
        self.reset_button.on_click(lambda _: self.reset())
        row = w.HBox([self.input, self.send_button, self.end_button, self.reset_button])
        self.box = w.VBox([self.transcript, self.answer, row, self.meter])
        self._refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)

    # -- actions ---------------------------------------------------------------

    def submit(self, text: str) -> Optional[Outcome]:
        """Send one message and stream its answer; empty text (a cleared box) is ignored."""
        if not text.strip():
            return None
        self.input.value = ""  # calls submit("") again, which returns at once
        self._set_enabled(False)
        self.entries.append(("user", text.strip()))
        self._refresh()
        streamed = ""

        def show(piece: str) -> None:
            nonlocal streamed
            streamed += piece
            self.answer.value = bubble("answer", streamed + "▌")

        try:
            outcome = self.bot.send(text, on_text=show)
        finally:
            self.answer.value = ""
            self._set_enabled(not self.bot.ended)
        self.entries.append((outcome.kind, outcome.text))
        self._refresh()
        return outcome

    def end(self) -> Outcome:
        """The end button: farewell, then only 重新开始 stays enabled."""
        outcome = self.bot.end()
        self.entries.append((outcome.kind, outcome.text))
        self._set_enabled(False)
        self._refresh()
        return outcome

    def reset(self) -> None:
        """Clear the conversation and the transcript; the inputs work again."""
        self.bot.reset()
        self.entries.clear()
        self._set_enabled(True)
        self._refresh()

    # -- view ------------------------------------------------------------------

    def text(self) -> str:
        """The transcript as plain text (for checks and for printing in a notebook)."""
        return "\n".join(_STYLES[kind][0] + text for kind, text in self.entries)

    @property
    def enabled(self) -> bool:
        return not self.input.disabled

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.input, self.send_button, self.end_button):
            widget.disabled = not enabled

    def _refresh(self) -> None:
        self.transcript.value = "".join(bubble(k, t) for k, t in self.entries) or bubble(
            "hint", "（还没有对话。输入问题开始；说「再见」或点「结束对话」结束。）")
        self.meter.value = f'<span style="color:#5f6368">{html.escape(METER.summary())}</span>'
