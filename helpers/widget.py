"""A chat widget for presenting lesson 06 live in JupyterLab (ipywidgets).

The logic is ``helpers.chatbot.ChatBot`` (history, end detection, errors), which is tested
without a browser; this module only lays it out and shows what ChatBot returns.

Nothing blocks the kernel: there is no input() loop. A message typed in the browser streams
its answer in a background thread, so the kernel stays free to hear the widget's own
「■ 停止」 button and the toolbar's ■ (a kernel interrupt); either stops the answer, which
stays in the transcript and the history marked as interrupted, as Ctrl-C does in the
console. Called from a cell (``ui.submit(...)``, ``ui.input.value = ...``) it runs to the
end before returning, so a cell can print the result. The answer streams into an HTML
widget's value, never into an ``Output`` widget, so it produces no cell output.
ipywidgets is imported inside ChatWidget, so ``import helpers`` never imports it.

    from helpers.widget import ChatWidget
    ChatWidget()            # the last line of a cell shows it
"""
from __future__ import annotations

import contextvars
import html
import threading
from typing import Any, Optional

from .chatbot import ASSISTANT, USER, ChatBot, Outcome
from .meter import METER, UsageMeter
from .widget_kernel import ACTIVE, catch_interrupt, from_browser

__all__ = ["ChatBot", "ChatWidget", "Outcome"]

PARTIAL_MARK = "（已中断：回答不完整，已按中断保留在历史中）"
PLACEHOLDER = ("【聊天小部件】运行这个单元格后，这里会出现输入框和按钮"
               "（需要在 JupyterLab 或 Jupyter Notebook 中打开）。")
# How each kind of transcript entry looks: (label, CSS). A thinking model's reasoning
# (stream_chat's reasoning parts, when helpers.llm offers them) gets its own kind here.
_STYLES = {
    "user": (USER, "background:#e8f0fe"),
    "answer": (ASSISTANT, "background:#f1f3f4"),
    "partial": (ASSISTANT, "background:#f1f3f4;border-left:3px solid #f9ab00"),
    "farewell": (ASSISTANT, "background:#e6f4ea"),
    "error": ("", "background:#fce8e6;color:#a50e0e"),
    "hint": ("", "color:#5f6368"),
    "reasoning": ("思考：", "color:#5f6368;font-size:90%;border-left:3px solid #dadce0"),
}
# A flex column in reverse starts scrolled to its end and stays there as it grows: the
# newest message is always in view. The height fits 1280×800 at 125% zoom (640 CSS px).
_BOX = ("display:flex;flex-direction:column-reverse;overflow-y:auto;"
        "max-height:min(420px,45vh)")


def bubble(kind: str, text: str) -> str:
    """One transcript entry as HTML (text escaped, line breaks kept, long words wrapped)."""
    label, style = _STYLES[kind]
    mark = PARTIAL_MARK if kind == "partial" else ""
    return (f'<div class="llm-chat-{kind}" style="{style};padding:6px 10px;margin:4px 0;'
            f'border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere">'
            f'{html.escape(label + text)}<b style="color:#b06000">{mark}</b></div>')


class ChatWidget:
    """Input box, send / stop / end / reset buttons, the transcript and this chat's usage."""

    def __init__(self, bot: Optional[ChatBot] = None, **options: Any) -> None:
        import ipywidgets as w

        self.bot = bot or ChatBot(**options)  # options: system, budget, model, stream, detector
        self.entries: list[tuple[str, str]] = []  # (kind, text) shown in the transcript
        self.usage = UsageMeter()  # the calls this widget made (not the whole notebook's)
        self.transcript = w.HTML()
        self.transcript.add_class("llm-chat-transcript")
        self.answer = w.HTML()  # the answer being streamed
        # continuous_update=False: the value arrives on Enter (or when the box loses focus).
        self.input = w.Text(placeholder="输入问题，按回车或点「发送」", continuous_update=False,
                            layout=w.Layout(flex="1"))
        self.send_button = w.Button(description="发送", button_style="primary")
        self.stop_button = w.Button(description="■ 停止", disabled=True,
                                    tooltip="停止这条回答（已收到的部分保留并标记为中断）")
        self.end_button = w.Button(description="结束对话")
        self.reset_button = w.Button(description="重新开始")
        self.meter = w.HTML()
        self._stop = threading.Event()
        self._worker: Optional[threading.Thread] = None
        self.input.observe(lambda change: self._on_submit(change["new"]), names="value")
        self.send_button.on_click(lambda _: self._on_submit(self.input.value))
        self.stop_button.on_click(lambda _: self.stop())
        self.end_button.on_click(lambda _: self.end())
        self.reset_button.on_click(lambda _: self.reset())
        buttons = [self.send_button, self.stop_button, self.end_button, self.reset_button]
        row = w.HBox([self.input, *buttons], layout=w.Layout(flex_flow="row wrap"))
        self.box = w.VBox([self.transcript, self.answer, row, self.meter])
        self._refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.box._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):  # what shows where the widget cannot render
            bundle["text/plain"] = PLACEHOLDER
        return bundle

    def __repr__(self) -> str:
        return f"<ChatWidget：{len(self.entries)} 条消息>"

    # -- actions ---------------------------------------------------------------

    def submit(self, text: str) -> Optional[Outcome]:
        """Send one message and stream its answer to the end; empty text is ignored."""
        if not text.strip() or self.busy:
            return None
        self.input.value = ""  # calls _on_submit("") again, which returns at once
        self._stop.clear()
        self._set_enabled(False, streaming=True)
        self.entries.append(("user", text.strip()))
        self._refresh()
        streamed, before = "", len(METER.calls)

        def show(piece: str) -> None:
            nonlocal streamed
            if self._stop.is_set():  # inside stream_chat: it hangs up and keeps the text
                raise KeyboardInterrupt
            streamed += piece
            self.answer.value = bubble("answer", streamed + "▌")

        try:
            outcome = self.bot.send(text, on_text=show)
        finally:
            self.usage.calls.extend(METER.calls[before:])
            self.answer.value = ""
            self._set_enabled(not self.bot.ended)
        self.entries.append((outcome.kind, outcome.text))
        self._refresh()
        return outcome

    def stop(self) -> None:
        """The 「■ 停止」 button (and ■ in the toolbar): stop the answer being streamed."""
        self._stop.set()

    def wait(self, timeout: Optional[float] = None) -> None:
        """Wait for an answer streaming in the background (for scripts and tests)."""
        if self._worker is not None:
            self._worker.join(timeout)

    def end(self) -> Outcome:
        """The end button: farewell, then only 重新开始 stays enabled."""
        outcome = self.bot.end()
        self.entries.append((outcome.kind, outcome.text))
        self._set_enabled(False)
        self._refresh()
        return outcome

    def reset(self) -> None:
        """Clear the conversation and the transcript; the inputs work again."""
        self.stop()
        self.wait(30)
        self.bot.reset()
        self.entries.clear()
        self.usage = UsageMeter()
        self._set_enabled(True)
        self._refresh()

    def _on_submit(self, text: str) -> None:
        """Enter or 发送: from the browser in a background thread, from a cell right away."""
        if not text.strip() or self.busy:
            return
        if not from_browser():
            self.submit(text)
            return
        ACTIVE.add(self)
        catch_interrupt()
        # The copied context keeps the kernel's parent message, so updates reach the page.
        run = contextvars.copy_context().run
        self._worker = threading.Thread(target=run, args=(self.submit, text), daemon=True)
        self._worker.start()

    # -- view ------------------------------------------------------------------

    def text(self) -> str:
        """The transcript as plain text (for checks and for printing in a notebook)."""
        return "\n".join(_STYLES[kind][0] + text + (PARTIAL_MARK if kind == "partial" else "")
                         for kind, text in self.entries)

    @property
    def enabled(self) -> bool:
        return not self.input.disabled

    @property
    def busy(self) -> bool:
        """An answer is streaming (the stop button is enabled only then)."""
        return not self.stop_button.disabled

    def _set_enabled(self, enabled: bool, streaming: bool = False) -> None:
        for widget in (self.input, self.send_button, self.end_button):
            widget.disabled = not enabled
        self.stop_button.disabled = not streaming

    def _refresh(self) -> None:
        entries = "".join(bubble(k, t) for k, t in self.entries) or bubble(
            "hint", "（还没有对话。输入问题开始；说「再见」或点「结束对话」结束。）")
        self.transcript.value = f'<div style="{_BOX}"><div>{entries}</div></div>'
        summary = self.usage.summary().replace("本次会话", "这个聊天窗口", 1)
        self.meter.value = f'<span style="color:#5f6368">{html.escape(summary)}</span>'
