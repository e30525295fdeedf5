"""Lesson 06, Project 1: the logic of the multi-turn chat, apart from any keyboard or screen.

``ChatBot`` assembles the earlier lessons: history (02, Conversation), streaming (03,
stream_chat), end detection (04, EndDetector) and error handling (05, LLMError). It never
reads input and never prints: the console program (helpers/project1.py) and the notebook
widget (helpers/widget.py) are two shells around it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from .conversation import DEFAULT_SYSTEM, Conversation
from .ending import FAREWELL, EndDetector
from .errors import LLMError
from .llm import Reply, chat, stream_chat

USER, ASSISTANT = "你：", "助手："
EMPTY_HINT = "（请输入内容后再按回车；输入 /help 查看命令）"


@dataclass
class Outcome:
    """What one user message led to. The console prints it; the widget shows it."""

    kind: str  # "answer", "partial" (stopped early), "farewell", "error" or "hint"
    text: str  # the answer, FAREWELL, or a Chinese message for the user
    reply: Optional[Reply] = None


class ChatBot:
    """History + end detection + model calls; no input() and no print()."""

    def __init__(self, system: Optional[str] = DEFAULT_SYSTEM, budget: Optional[int] = None,
                 model: Optional[str] = None, stream: bool = True,
                 detector: Optional[EndDetector] = None, thinking: bool = False) -> None:
        if thinking and not stream:  # the service refuses it (lesson 03b)
            raise ValueError("思考模式只能流式输出：去掉 --no-stream（或 stream=False），"
                             "或者不开思考模式。")
        self.conversation = Conversation(system, budget)  # lesson 02
        self.detector = detector or EndDetector("hybrid")  # lesson 04: model only when unsure
        self.model, self.stream = model, stream
        self.thinking = thinking  # lesson 03b: enable_thinking on every model call
        self.show_reasoning = True  # the console's /think toggles it; never kept in history
        self._on_reasoning: Optional[Callable[[str], None]] = None
        self.ended = False

    def send(self, text: str, on_text: Optional[Callable[[str], None]] = None,
             on_reasoning: Optional[Callable[[str], None]] = None) -> Outcome:
        """One user message in, one Outcome out; ``on_text`` gets the answer as it arrives,
        ``on_reasoning`` a thinking model's reasoning (shown, never kept in the history)."""
        text = text.strip()
        if not text:
            return Outcome("hint", EMPTY_HINT)
        if self.ended:
            return Outcome("hint", "对话已经结束；输入 /reset 开始新的对话。")
        if self.detector.decide(text).ends:  # a clear goodbye costs no model call
            self.conversation.add_user(text)
            return self.end()
        self.conversation.add_user(text)
        try:
            self._on_reasoning = on_reasoning  # read by _ask (whose signature lessons override)
            reply = self._ask(on_text)
        except LLMError as err:
            return self._failed(err)
        except KeyboardInterrupt:  # Ctrl-C before the answer started
            self.conversation.pop_last_user()
            return Outcome("hint", "（已取消这次提问）")
        if reply.partial and not reply.text:
            self.conversation.pop_last_user()
            if getattr(reply, "reasoning", ""):  # stopped while the model was thinking
                return Outcome("hint", "（模型还在思考时被中断了：思考内容不保存，"
                                       "这次提问已撤回，对话历史没有变化）", reply)
            return Outcome("hint", "（回答还没开始就被中断了，这次提问已撤回）")
        # Only the answer joins the history, never the reasoning (the deep-thinking docs' advice).
        self.conversation.add_assistant(reply.text, partial=reply.partial)
        return Outcome("partial" if reply.partial else "answer", reply.text, reply)

    def _ask(self, on_text: Optional[Callable[[str], None]]) -> Reply:
        """Lesson 03: stream by default; --no-stream waits and delivers the answer at once."""
        messages = self.conversation.messages_for_request()  # history within the token budget
        if self.stream:
            thinking = {"enable_thinking": True} if self.thinking else {}  # lesson 03b
            return stream_chat(messages, model=self.model, on_text=on_text,
                               on_reasoning=self._on_reasoning, **thinking)
        reply = chat(messages, model=self.model)
        if on_text:
            on_text(reply.text)
        return reply

    def _failed(self, err: LLMError) -> Outcome:
        """Lesson 05: show the Chinese message; the history stays ready for the next question."""
        if err.partial_text:  # a broken stream: keep what arrived, marked, and say so
            self.conversation.add_assistant(err.partial_text, partial=True)
            return Outcome("error", f"{err}\n（上面这段回答不完整，已标记为中断并保留在历史中；"
                                    "可以接着提问，或输入 /reset 重新开始。）")
        self.conversation.pop_last_user()  # the question was not answered: take it back
        return Outcome("error", str(err))

    def end(self) -> Outcome:
        """Say goodbye (also the widget's end button); the farewell joins the history."""
        turns = self.conversation.turns
        if turns and turns[-1].role == "user":
            self.conversation.add_assistant(FAREWELL)
        self.ended = True
        return Outcome("farewell", FAREWELL)

    def reset(self) -> None:
        """Forget the conversation (system prompt and budget stay) and start again."""
        self.conversation.reset()
        self.ended = False
