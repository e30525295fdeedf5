"""Authoring: turn readable specs (request → reply text) into wire-exact exchanges.

We have no network to DashScope, so the kit's first recordings are written by hand. A spec
says what the model answers; the real SDK sends the request (run a notebook or script with
``LLM_MODE=author``); this upstream answers it in DashScope's exact wire format, with token
usage from the Qwen tokenizer, and the server saves the exchange marked ``source: authored``.
So every stored request body is exactly what the SDK sent, never typed by hand.

Spec files live in ``notebooks/recordings/specs/*.yaml``; each entry:

    - user: 我想买一双鞋，有什么建议吗？请20字以内回答我   # last user message (exact), or
      user_regex: ^请判断                                    # a regular expression on it
      system_contains: 导购                                  # optional
      turns: 1                                               # optional: user messages in the request
      api: native | compatible                               # optional
      reply: 推荐舒适透气的运动鞋。                          # or replies: [..] for repeated asks
      ttfb_ms: 400                                           # optional latency of the first byte
      reasoning: 先算单价……                                   # thinking models (lesson 03b):
                                                             # streamed first when the request
                                                             # asks for thinking; or reasonings: [..]
      thinking: true                                         # optional: only thinking requests
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from . import wire
from .server import IncomingRequest, Relay

AUTHORED_NOTE = "authored from a spec, not captured from the live service"


@dataclass
class Spec:
    replies: list[str]
    origin: str
    user: str | None = None
    user_regex: str | None = None
    system_contains: str | None = None
    turns: int | None = None
    api: str | None = None
    ttfb_ms: int = 380
    name: str | None = None
    model: str | None = None
    error: dict | None = None  # {status, code, message}: answer with this error instead
    reasonings: list[str] | None = None  # thinking requests: reasoning streamed before replies[i]
    thinking: bool | None = None  # True/False: only requests that do / do not ask for thinking

    def matches(self, messages: list[dict], api: str, model: str = "") -> bool:
        users = [m for m in messages if m.get("role") == "user"]
        last = str(users[-1].get("content", "")).strip() if users else ""
        system = next((str(m.get("content", "")) for m in messages if m.get("role") == "system"), "")
        return ((self.user is None or self.user.strip() == last)
                and (self.user_regex is None or re.search(self.user_regex, last) is not None)
                and (self.system_contains is None or self.system_contains in system)
                and (self.turns is None or self.turns == len(users))
                and (self.api is None or self.api == api)
                and (self.model is None or self.model == model))


class SpecError(ValueError):
    pass


def load_specs(folder: Path) -> list[Spec]:
    import yaml  # PyYAML ships with dashscope

    specs: list[Spec] = []
    for path in sorted(Path(folder).glob("*.yaml")):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for i, entry in enumerate(entries):
            replies = entry.pop("replies", None) or [entry.pop("reply", "")]
            if "reasoning" in entry:
                entry["reasonings"] = [str(entry.pop("reasoning")).rstrip("\n")]
            if not all(isinstance(r, str) for r in replies) or not (replies[0] or "error" in entry):
                raise SpecError(f"{path.name} 第 {i + 1} 条：需要 reply 或 replies")
            specs.append(Spec(replies=[r.rstrip("\n") for r in replies],
                              origin=f"{path.name}#{i + 1}", **entry))
    return specs


# --- token pieces ------------------------------------------------------------------------


def _tokenizer():
    from ..tokens import _tokenizer

    return _tokenizer()


def token_pieces(text: str, limit: int | None = None) -> tuple[list[tuple[str, int]], bool]:
    """Split text into stream pieces of 1–4 tokens each, never inside a UTF-8 character.

    Returns (pieces as (text, tokens), truncated) where truncated means ``limit`` tokens cut it.
    """
    tokenizer = _tokenizer()
    ids = tokenizer.encode(text)
    truncated = limit is not None and len(ids) > limit
    if truncated:
        ids = ids[:limit]
    pieces, buf, count = [], b"", 0
    for n, token in enumerate(ids):
        # The tiktoken Encoding inside dashscope's QwenTokenizer gives each token's bytes.
        buf += tokenizer._tokenizer.decode_single_token_bytes(token)
        count += 1
        want = 1 + (n * 7 + 3) % 4  # deterministic 1..4 tokens, like the live service's chunks
        try:
            piece = buf.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if count >= want:
            pieces.append((piece, count))
            buf, count = b"", 0
    if buf:
        pieces.append((buf.decode("utf-8", errors="ignore"), count))
    return pieces, truncated


def _pace(pieces: list, ttfb_ms: int, seed: str) -> list[int]:
    """Realistic gaps: the first byte after ttfb_ms, then ~35–75 ms per piece."""
    h = hashlib.sha256(seed.encode()).digest()
    return [ttfb_ms] + [35 + h[i % len(h)] % 41 for i in range(len(pieces))]


# --- the upstream ------------------------------------------------------------------------


class AuthorUpstream:
    """Answers misses from specs; the server saves what it returns."""

    source = "authored"

    def __init__(self, specs: list[Spec]):
        self.specs = specs
        self._asked: dict[str, int] = {}

    def prefer(self, request: IncomingRequest, recorded: int) -> bool:
        """Author another answer when a spec holds more replies than are recorded."""
        spec, messages = self._spec_for(request)
        return spec is not None and recorded < len(spec.replies)

    def _spec_for(self, request: IncomingRequest) -> tuple[Spec | None, list[dict]]:
        body = request.body if isinstance(request.body, dict) else {}
        messages = wire.request_messages(body, request.compatible)
        api = "compatible" if request.compatible else "native"
        model = str(body.get("model", ""))
        from .thinking import thinks

        asks = thinks(request)
        return next((s for s in self.specs if s.matches(messages, api, model)
                     and s.thinking in (None, asks)), None), messages

    def exchange(self, request: IncomingRequest, relay: Relay) -> dict:
        body = request.body if isinstance(request.body, dict) else {}
        if request.path in (wire.NATIVE_EMBEDDING, wire.COMPAT_EMBEDDING):
            response, name = self._embedding(request, body), "embedding"
        else:
            response, name = self._chat(request, body)
        return {"name": name, "source": "authored", "note": AUTHORED_NOTE,
                "request": {"method": request.method, "path": request.path,
                            "stream": request.stream, "body": request.body},
                "response": response}

    def _chat(self, request: IncomingRequest, body: dict) -> tuple[dict, str]:
        compatible = request.compatible
        spec, messages = self._spec_for(request)
        if spec is None:
            last = messages[-1].get("content", "") if messages else ""
            raise SpecError(f"没有匹配的 spec：最后一条消息「{last}」")
        if spec.error:
            return self._error(request, spec.error), f"{spec.origin} error {spec.error['code']}"
        key = spec.origin + wire.dumps(messages)
        turn = self._asked.get(key, 0)
        self._asked[key] = turn + 1
        reply = spec.replies[turn % len(spec.replies)]

        from ..tokens import count_message_tokens

        params = body if compatible else (body.get("parameters") or {})
        pieces, truncated = token_pieces(reply, params.get("max_tokens"))
        finish = "length" if truncated else "stop"
        text = "".join(p for p, _ in pieces)
        reasoning = self._reasoning(spec, request, params, turn)
        usage = (count_message_tokens(messages),
                 sum(n for _, n in pieces) + sum(n for _, n in reasoning or []))
        request_id = wire.new_request_id()
        gaps = _pace((reasoning or []) + pieces, spec.ttfb_ms, key + str(turn))
        model = body.get("model", "")
        headers = {"x-request-id": request_id}
        name = f"{spec.origin} {text[:16]}"
        if not request.stream:
            headers["Content-Type"] = wire.JSON_CONTENT_TYPE
            if compatible:
                out = wire.compat_json(text, finish, usage, model, f"chatcmpl-{request_id}")
            else:
                out = wire.native_json(text, finish, usage, request_id,
                                       params.get("result_format") == "message")
            return {"status": 200, "headers": headers, "delay_ms": sum(gaps), "body": out}, name
        headers["Content-Type"] = wire.SSE_CONTENT_TYPE
        if compatible:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            events: Iterator[dict] = wire.compat_stream(pieces, usage[0], finish, model,
                                                        f"chatcmpl-{request_id}", include_usage,
                                                        reasoning=reasoning)
        else:
            events = wire.native_stream(pieces, usage[0], finish, request_id,
                                        incremental=bool(params.get("incremental_output")),
                                        message_format=params.get("result_format") == "message",
                                        reasoning=reasoning)
        stored = []
        for n, event in enumerate(events):
            stored.append({"delay_ms": gaps[n] if n < len(gaps) else 0, **event})
        return {"status": 200, "headers": headers, "events": stored}, name

    @staticmethod
    def _reasoning(spec: Spec, request: IncomingRequest, params: dict,
                   turn: int) -> list[tuple[str, int]] | None:
        """Reasoning pieces for a thinking request (cut at thinking_budget), else None."""
        from .thinking import budget, thinks

        if not thinks(request):
            return None
        if not spec.reasonings:
            raise SpecError(f"{spec.origin}：这是思考模式的请求，spec 需要 reasoning")
        text = spec.reasonings[turn % len(spec.reasonings)]
        return token_pieces(text, budget(params))[0]

    def _error(self, request: IncomingRequest, error: dict) -> dict:
        request_id = wire.new_request_id()
        status, code, message = int(error["status"]), error["code"], error["message"]
        body = (wire.compat_error(error.get("compat_code", code), message, request_id)
                if request.compatible else wire.native_error(code, message, request_id))
        return {"status": status, "delay_ms": 150, "body": body,
                "headers": {"Content-Type": wire.JSON_CONTENT_TYPE, "x-request-id": request_id}}

    def _embedding(self, request: IncomingRequest, body: dict) -> dict:
        from ..tokens import count_tokens

        request_id = wire.new_request_id()
        if request.compatible:
            texts = body.get("input", [])
            texts = [texts] if isinstance(texts, str) else texts
            dim = int(body.get("dimensions") or 1024)
        else:
            texts = (body.get("input") or {}).get("texts", [])
            dim = int((body.get("parameters") or {}).get("dimension") or 1024)
        from .local_models import embed_texts  # real vectors, never made up

        vectors = embed_texts(texts, dim)
        tokens = sum(count_tokens(t) for t in texts)
        out = (wire.compat_embedding(vectors, tokens, body.get("model", ""), request_id)
               if request.compatible else wire.native_embedding(vectors, tokens, request_id))
        return {"status": 200, "delay_ms": 120,
                "headers": {"Content-Type": wire.JSON_CONTENT_TYPE, "x-request-id": request_id},
                "body": out}
