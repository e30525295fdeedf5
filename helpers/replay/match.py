"""Matching by meaning: which recording answers a chat request, and in what shape (issue 17).

A recording answers every chat request the live service would answer with the same content:
the same model, messages, tools and response format, on either protocol (native
``/api/v1/.../generation`` or OpenAI-compatible ``/compatible-mode/v1/chat/completions``).

* Transport parameters never matter: ``stream``, ``stream_options``, ``incremental_output``,
  ``result_format``. The answer is rendered in the shape the request asks for (stream or
  whole, incremental or cumulative, text or message, with or without the usage chunk).
* Sampling parameters (``temperature``, ``top_p``, ``top_k``, ``seed``, penalties,
  ``enable_search``) matter only when the recording pins them: a recording made with
  ``temperature: 1.2`` answers only ``temperature: 1.2``; one made without answers any value.
  The response then carries ``X-Replay-Differs: temperature`` so the kit can say so.
* ``max_tokens`` matters when pinned; otherwise a request's limit that the recorded answer
  fits in (output tokens ≤ limit, not cut by "length") gives the same answer.
* Anything else (``stop``, ``n``, ``enable_thinking``…) must be equal.
* User text is compared after NFKC (full-width ，？！ and letters become half-width) with
  。 as . and whitespace removed: typing forgiveness, for matching only.

A request whose shape equals the recording's gets the recorded bytes unchanged.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from . import wire

TRANSPORT = {"stream", "stream_options", "incremental_output", "result_format"}
SAMPLING = {"temperature", "top_p", "top_k", "seed", "presence_penalty", "frequency_penalty",
            "repetition_penalty", "enable_search"}
LIMITS = {"max_tokens", "max_completion_tokens"}
MEANING = {"tools", "response_format"}
DIFFERS_HEADER = "X-Replay-Differs"
_SPACES = re.compile(r"\s+")


def is_chat(path: str) -> bool:
    return path.endswith("/text-generation/generation") or path == wire.COMPAT_CHAT


def forgiving(text: Any) -> Any:
    """User text as matching sees it: NFKC, 。→., no whitespace. Never shown or sent."""
    if not isinstance(text, str):
        return text
    return _SPACES.sub("", unicodedata.normalize("NFKC", text).replace("。", "."))


def params(path: str, body: Any) -> dict:
    """The request's parameters, one flat dict for both protocols; None values dropped."""
    body = body if isinstance(body, dict) else {}
    if wire.is_compatible(path):
        found = {k: v for k, v in body.items() if k not in ("model", "messages")}
    else:
        found = dict(body.get("parameters") or {})
    return {k: v for k, v in found.items() if v is not None}


def meaning_key(path: str, body: Any) -> str | None:
    """What the answer depends on, the same for both protocols; None for non-chat requests."""
    if not is_chat(path) or not isinstance(body, dict):
        return None
    messages = []
    for m in wire.request_messages(body, wire.is_compatible(path)):
        if not isinstance(m, dict):
            return None
        m = {k: v for k, v in m.items() if v is not None}
        if m.get("role") == "user":
            m["content"] = forgiving(m.get("content"))
        messages.append(m)
    found = params(path, body)
    from .store import canonical

    return canonical({"model": body.get("model"), "messages": messages,
                      **{k: found[k] for k in sorted(MEANING) if k in found}})


def compare(recorded: dict, asked: dict, answer: "Answer | None") -> tuple[bool, list[str], str]:
    """(usable, parameters that differ but do not matter, the parameter that does)."""
    differs = []
    for k in sorted(set(recorded) | set(asked)):
        if k in TRANSPORT or k in MEANING or recorded.get(k) == asked.get(k):
            continue
        if k in SAMPLING and k not in recorded:
            differs.append(k)
        elif k in LIMITS and k not in recorded and answer is not None \
                and isinstance(asked[k], int) and answer.output_tokens <= asked[k] \
                and answer.finish_reason != "length":
            differs.append(k)
        else:
            return False, differs, k
    return True, differs, ""


class Answer:
    """A recorded plain-text chat answer, independent of the shape it was recorded in.
    A thinking model's stream keeps its reasoning pieces apart (``reasoning``, lesson 03b)."""

    def __init__(self, text: str, finish_reason: str, usage: tuple[int, int], request_id: str,
                 pieces: list[tuple[str, int, int]], model: str, created: int | None,
                 delay_ms: int, reasoning: list[tuple[str, int, int]] | None = None):
        self.text, self.finish_reason, self.request_id = text, finish_reason, request_id
        self.input_tokens, self.output_tokens = usage
        self.pieces, self.model, self.created, self.delay_ms = pieces, model, created, delay_ms
        self.reasoning = reasoning

    @classmethod
    def of(cls, exchange: dict) -> "Answer | None":
        """The answer in a recorded 200 response, or None (an error, tool calls)."""
        try:
            return _extract(exchange)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return None


def _extract(exchange: dict) -> Answer | None:
    req, resp = exchange["request"], exchange["response"]
    if resp.get("status") != 200:
        return None
    compatible = wire.is_compatible(req["path"])
    model = str((req.get("body") or {}).get("model", ""))
    if "body" in resp:
        data = resp["body"]
        if compatible:
            choice, usage = data["choices"][0], data["usage"]
            message = choice["message"]
            if set(message) - {"role", "content"} - {k for k, v in message.items() if v is None}:
                return None
            text = message["content"]
            return Answer(text, choice["finish_reason"], (usage["prompt_tokens"],
                          usage["completion_tokens"]), _uuid(data.get("id")), [],
                          data.get("model", model), data.get("created"), resp.get("delay_ms", 0))
        output, usage = data["output"], data["usage"]
        choice = output["choices"][0] if output.get("choices") else output
        message = choice.get("message") or {"content": choice["text"]}
        if set(message) - {"role", "content"}:
            return None
        return Answer(message["content"], choice["finish_reason"],
                      (usage["input_tokens"], usage["output_tokens"]), data["request_id"], [],
                      model, None, resp.get("delay_ms", 0))
    incremental = compatible or bool(params(req["path"], req.get("body")).get("incremental_output"))
    text, pieces, finish, usage, rid, created, sent_tokens = "", [], None, (0, 0), "", None, 0
    thinking, thought, said_thought, reasoning_total = False, [], "", 0
    for event in resp["events"]:
        data = event.get("data")
        if data == "[DONE]":
            continue
        if not isinstance(data, dict) or "raw" in event or event.get("event") == "error":
            return None
        if compatible:
            rid, created, model = _uuid(data.get("id")), data.get("created"), data.get("model", model)
            if data.get("usage"):
                usage = (data["usage"]["prompt_tokens"], data["usage"]["completion_tokens"])
                reasoning_total = int((data["usage"].get("completion_tokens_details") or {})
                                      .get("reasoning_tokens") or 0)
            if not data.get("choices"):
                continue
            choice = data["choices"][0]
            delta = choice.get("delta") or {}
            if set(delta) - {"role", "content", "reasoning_content"}:
                return None
            thinking = thinking or "reasoning_content" in delta
            piece = delta.get("content") or ""
            step = delta.get("reasoning_content") or ""
        else:
            rid = data["request_id"]
            out = data["output"]
            choice = out["choices"][0] if out.get("choices") else out
            message = choice.get("message") or {"content": choice.get("text", "")}
            if set(message) - {"role", "content", "reasoning_content"}:
                return None
            content = message.get("content") or ""
            piece = content if incremental else content[len(text):]
            thinking = thinking or "reasoning_content" in message
            so_far = message.get("reasoning_content") or ""
            step = so_far if incremental else so_far[len(said_thought):]
            usage = (data["usage"]["input_tokens"], data["usage"]["output_tokens"])
        if step:  # reasoning comes before any answer text (§6)
            tokens = max(1, usage[1] - sent_tokens) if not compatible else 1
            sent_tokens = usage[1]
            thought.append((step, tokens, int(event.get("delay_ms", 0))))
            said_thought += step
        if piece:
            tokens = max(1, usage[1] - sent_tokens) if not compatible else 1
            sent_tokens = usage[1]
            pieces.append((piece, tokens, int(event.get("delay_ms", 0))))
            text += piece
        if choice.get("finish_reason") not in (None, "null"):
            finish = choice["finish_reason"]
    if finish is None:
        return None
    if compatible and usage[1] > 0:  # chunks carry no per-piece token counts
        pieces = _share(pieces, usage[1] - reasoning_total if thought else usage[1])
        thought = _share(thought, reasoning_total)
    return Answer(text, finish, usage, rid or wire.new_request_id(), pieces, model, created, 0,
                  reasoning=thought if thinking else None)


def _share(pieces: list[tuple[str, int, int]], total: int) -> list[tuple[str, int, int]]:
    """Spread ``total`` tokens over pieces (at least one each), keeping text and delay."""
    if not pieces:
        return pieces
    share, extra = divmod(max(total, len(pieces)), len(pieces))
    return [(t, share + (1 if n < extra else 0), d) for n, (t, _, d) in enumerate(pieces)]


def _uuid(completion_id: Any) -> str:
    value = str(completion_id or "").removeprefix("chatcmpl-")
    return value if len(value) == 36 else wire.new_request_id()


def render(answer: Answer, path: str, body: Any, stream: bool) -> dict:
    """The stored-response dict that serves ``answer`` in the shape this request asks for."""
    compatible = wire.is_compatible(path)
    asked = params(path, body)
    model = str((body or {}).get("model") or answer.model)
    usage = (answer.input_tokens, answer.output_tokens)
    rid = answer.request_id
    if not stream:
        headers = {"Content-Type": wire.JSON_CONTENT_TYPE, "x-request-id": rid}
        delay = answer.delay_ms or sum(p[2] for p in answer.pieces)
        if compatible:
            data = wire.compat_json(answer.text, answer.finish_reason, usage, model,
                                    f"chatcmpl-{rid}", answer.created)
        else:
            data = wire.native_json(answer.text, answer.finish_reason, usage, rid,
                                    message_format=asked.get("result_format") == "message")
        return {"status": 200, "headers": headers, "delay_ms": delay, "body": data}
    pieces = answer.pieces
    if not pieces:
        from .author import token_pieces

        split, _ = token_pieces(answer.text)
        step = answer.delay_ms // max(1, len(split) + 1)
        pieces = [(text, tokens, step) for text, tokens in split]
    thought = answer.reasoning
    delays = [p[2] for p in (thought or []) + pieces] + [0, 0, 0]
    pairs = [(p[0], p[1]) for p in pieces]
    reasoning = None if thought is None else [(p[0], p[1]) for p in thought]
    if compatible:
        include = bool((asked.get("stream_options") or {}).get("include_usage"))
        events = list(wire.compat_stream(pairs, answer.input_tokens, answer.finish_reason, model,
                                         f"chatcmpl-{rid}", include, answer.created,
                                         reasoning=reasoning))
        delays = [delays[0], 0] + delays[1:]  # the role chunk comes first, with the latency
    else:
        events = list(wire.native_stream(
            pairs, answer.input_tokens, answer.finish_reason, rid,
            incremental=bool(asked.get("incremental_output")),
            message_format=asked.get("result_format") == "message", reasoning=reasoning))
    for event, delay in zip(events, delays):
        event["delay_ms"] = delay
    return {"status": 200, "headers": {"Content-Type": wire.SSE_CONTENT_TYPE, "x-request-id": rid},
            "events": events}
