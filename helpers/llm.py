"""Lessons 01 and 03: one call and one stream through the dashscope SDK, as plain data.

Inside each function is lesson 01's raw call, ``dashscope.Generation.call(...)``, plus what a
real program needs around it: input checks, retries, Chinese errors, usage accounting.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Union

from .config import check_model, current
from .tokens import Usage
from .errors import (LLMError, bad_input, call_with_retries, error_from_exception,
                     error_from_response, stream_broken)

Messages = Union[str, list]


@dataclass
class Reply:
    """What came back: the text and the facts about it."""

    text: str
    finish_reason: str  # "stop", "length" (hit max_tokens), "interrupted" (Ctrl-C / ■)
    usage: dict = field(default_factory=dict)  # input_tokens, output_tokens, total_tokens
    request_id: str | None = None
    model: str = ""
    # Timings vary run to run, so they stay out of repr (and out of stored notebook outputs).
    seconds: float = field(default=0.0, repr=False)  # request sent → last byte
    first_token_seconds: float | None = field(default=None, repr=False)  # streams: → first text
    partial: bool = False  # the text stopped early (interrupted or broken stream)

    def timing(self) -> str:
        """Timing in words, e.g. 首字 0.41 秒 · 总计 1.20 秒."""
        first = f"首字 {self.first_token_seconds:.2f} 秒 · " if self.first_token_seconds else ""
        return f"{first}总计 {self.seconds:.2f} 秒"

    def facts(self) -> str:
        """One Chinese line of what is known about the reply (no timings: they vary)."""
        used = (f"输入 {self.usage['input_tokens']} · 输出 {self.usage['output_tokens']} tokens"
                if {"input_tokens", "output_tokens"} <= set(self.usage) else "用量未知")
        cut = " · ⚠ 回答不完整" if self.partial or self.finish_reason == "length" else ""
        return f"{self.model or '模型未知'} · 结束原因 {self.finish_reason} · {used}{cut}"

    def _repr_markdown_(self) -> str:
        """In a notebook: the answer rendered as Markdown first, then the facts line."""
        return f"{self.text}\n\n<small>{self.facts()}</small>"

    def __repr__(self) -> str:
        text = " ".join(self.text.split())  # one line: no literal \n in a repr
        return f"<Reply 「{text if len(text) <= 30 else text[:30] + '…'}」 · {self.facts()}>"


def as_messages(messages: Messages) -> list[dict]:
    """Accept a plain question or a messages list; refuse bad input before sending anything."""
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    if not isinstance(messages, list) or not messages:
        raise bad_input("messages 应该是一段文字，或 [{'role': ..., 'content': ...}] 这样的列表。")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            raise bad_input(f"第 {i + 1} 条消息需要 role（system/user/assistant）和 content。")
        if not isinstance(m.get("content"), str):
            raise bad_input(f"第 {i + 1} 条消息的 content 必须是字符串，"
                            f"现在是 {type(m.get('content')).__name__}。")
        if not m["content"].strip():
            raise bad_input(f"第 {i + 1} 条消息是空的：请输入内容后再发送。")
    if messages[-1]["role"] != "user":
        raise bad_input("最后一条消息应该是用户（user）的提问。")
    return messages


def _prepare(messages: Messages, model: str | None,
             thinking: bool = False) -> tuple[list[dict], str]:
    from .models import max_input
    from .meter import METER
    from .tokens import count_message_tokens

    settings = current()
    messages = as_messages(messages)
    model = check_model(model or settings.model)
    limit = max_input(model, thinking)  # the service limits the input, not the whole context
    size = count_message_tokens(messages)
    if limit is not None and size > limit:
        raise bad_input(f"对话约 {size} tokens，超过 {model} 的最大输入 {limit} tokens"
                        "（见 helpers/data/models.json）：请删减历史（见 02 课的 token 预算）。")
    METER.check(settings.mode)
    return messages, model


def _finish(reply: Reply) -> Reply:
    from .meter import METER

    METER.record(reply.usage, reply.model, current().mode)
    return reply


def chat(messages: Messages, *, model: str | None = None, **params) -> Reply:
    """Ask once and wait for the whole answer. ``params``: temperature, seed, max_tokens, …"""
    import dashscope

    messages, model = _prepare(messages, model, bool(params.get("enable_thinking")))

    def attempt() -> Reply:
        started = time.perf_counter()
        response = dashscope.Generation.call(model=model, messages=messages,
                                             result_format="message",
                                             request_timeout=current().timeout, **params)
        if response.status_code != 200:  # the SDK returns server errors instead of raising
            raise error_from_response(response.status_code, response.code, response.message,
                                      response.request_id, getattr(response, "headers", None))
        choice = response.output.choices[0]
        return Reply(text=choice.message.content or "", finish_reason=choice.finish_reason,
                     usage=Usage.of(response.usage), request_id=response.request_id,
                     model=model, seconds=time.perf_counter() - started)

    return _finish(call_with_retries(attempt))


def stream_chat(messages: Messages, *, model: str | None = None,
                on_text: Callable[[str], None] | None = None,
                on_reasoning: Callable[[str], None] | None = None, **params) -> Reply:
    """Ask and receive the answer piece by piece; ``on_text`` gets each new piece.

    Ctrl-C (or the notebook's ■ button) stops the stream and keeps what arrived, marked partial.
    A failure after text arrived is raised as a broken stream carrying that text; it is not
    retried, because sending the question again could give a different answer.

    Thinking models (lesson 03b; ``enable_thinking=True``, QwQ): the reasoning streams first,
    apart from the answer; ``on_reasoning`` gets its pieces, and the result is then a
    ``helpers.thinking.ThinkingReply`` whose ``text`` is the answer only and ``reasoning`` the
    rest. ``on_text`` never sees reasoning.
    """
    import dashscope

    messages, model = _prepare(messages, model, bool(params.get("enable_thinking")))
    pieces: list[str] = []
    thoughts: list[str] = []  # reasoning_content pieces, kept apart from the answer

    def attempt() -> Reply:
        started = time.perf_counter()
        first: float | None = None
        first_thought: float | None = None
        finish, usage, request_id = None, {}, None
        responses = dashscope.Generation.call(model=model, messages=messages,
                                              result_format="message", stream=True,
                                              incremental_output=True,
                                              request_timeout=current().timeout, **params)
        try:
            for response in responses:
                if response.status_code != 200:  # e.g. an event:error frame mid-stream
                    raise error_from_response(response.status_code, response.code,
                                              response.message, response.request_id,
                                              getattr(response, "headers", None))
                request_id = response.request_id or request_id
                usage = Usage.of(response.usage or usage)
                choices = (response.output or {}).get("choices") or []
                if not choices:  # a usage-only chunk
                    continue
                message = choices[0].get("message") or {}
                thought = message.get("reasoning_content")
                if thought:  # thinking models: reasoning first, with content ""
                    first_thought = first_thought or time.perf_counter() - started
                    thoughts.append(thought)
                    if on_reasoning:
                        on_reasoning(thought)
                piece = message.get("content")
                if piece:  # None and "" deltas carry no text
                    first = first or time.perf_counter() - started
                    pieces.append(piece)
                    if on_text:
                        on_text(piece)
                if choices[0].get("finish_reason") not in (None, "null"):
                    finish = choices[0]["finish_reason"]
        except KeyboardInterrupt:
            responses.close()  # hang up, so the server stops sending
            finish = "interrupted"
        except LLMError as err:
            if pieces:  # keep what arrived; retrying would repeat it
                err.partial_text, err.retryable = "".join(pieces), False
            elif thoughts:  # reasoning was shown already: a retry would show it again
                err.retryable = False
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes one LLMError
            raise error_from_exception(exc, partial_text="".join(pieces) or None) from exc
        if finish is None:  # the connection closed before the closing frame
            raise stream_broken("".join(pieces) or None, detail="流在最后一帧之前结束")
        facts = dict(text="".join(pieces), finish_reason=finish, usage=usage,
                     request_id=request_id, model=model, seconds=time.perf_counter() - started,
                     first_token_seconds=first, partial=finish == "interrupted")
        if thoughts or params.get("enable_thinking"):
            from .thinking import ThinkingReply

            return ThinkingReply(**facts, reasoning="".join(thoughts),
                                 first_reasoning_seconds=first_thought)
        return Reply(**facts)

    return _finish(call_with_retries(attempt))
