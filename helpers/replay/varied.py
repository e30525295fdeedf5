"""Varied replay (CI): every chat request gets a new, well-formed answer of changing text and length.

With ``LLM_REPLAY_VARIED=1`` in replay mode, this responder answers before the recordings:
native and OpenAI-compatible, whole and streamed, in the exact wire format of authored
exchanges, with usage recomputed by the Qwen tokenizer. A request with
``response_format={"type": "json_object"}`` gets a valid JSON object whose keys are the
quoted keys the prompt mentions (a plausible shape, random values). So a lesson that runs to
the end under it does not depend on what the recorded answers happened to say — which is
what "true in live mode" needs. ``LLM_REPLAY_VARIED_SEED`` makes a run repeatable.
Embeddings and other endpoints pass through to the recordings.
"""
from __future__ import annotations

import json
import os
import random
import re
import threading

from . import wire
from .author import _pace, token_pieces
from .server import IncomingRequest, ReplayServer

CLAUSES = ["好的", "这款鞋采用网面透气设计", "建议您选大半码", "目前有黑色和白色两种颜色",
           "价格以门店当天标价为准", "我先帮您确认一下库存", "会员可以享受九折优惠",
           "抱歉，这个问题我无法确定", "运动鞋一般三到六个月需要更换鞋垫", "支持七天无理由退换",
           "让我们一步一步算", "总共是 {n} 元", "大约需要 {n} 天送达", "第一步先算单价",
           "如果还有其他问题，欢迎随时咨询", "答案：{n}", "Sure, here is a short answer"]
NUMERIC_KEYS = re.compile(r"count|qty|quantity|price|total|size|num|amount|age|days|尺码|数量")


def enabled() -> bool:
    return os.environ.get("LLM_REPLAY_VARIED", "").strip() not in ("", "0", "false", "no")


class VariedResponder:
    """A server responder (``ReplayServer.responders``) that invents a fresh answer."""

    def __init__(self, seed: int | None = None):
        self.rng = random.Random(seed)
        self._lock = threading.Lock()

    def text(self) -> str:
        with self._lock:
            count = self.rng.randint(1, 7)
            parts = [self.rng.choice(CLAUSES).format(n=self.rng.randint(1, 2000))
                     for _ in range(count)]
            return "，".join(parts) + self.rng.choice(["。", "！", "", "？"])

    def json_text(self, prompt: str) -> str:
        keys = list(dict.fromkeys(re.findall(r'"([A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff]*)"\s*:',
                                             prompt))) or ["answer"]
        with self._lock:
            data = {k: (self.rng.randint(0, 500) if NUMERIC_KEYS.search(k.lower())
                        else self.rng.choice(CLAUSES).format(n=self.rng.randint(1, 99)))
                    for k in keys if self.rng.random() > 0.15}  # now and then a key is missing
        return json.dumps(data, ensure_ascii=False)

    def __call__(self, request: IncomingRequest) -> dict | None:
        if request.path not in (wire.NATIVE_GENERATION, wire.COMPAT_CHAT):
            return None
        body = request.body if isinstance(request.body, dict) else {}
        params = body if request.compatible else (body.get("parameters") or {})
        messages = wire.request_messages(body, request.compatible)
        json_mode = (params.get("response_format") or {}).get("type") == "json_object"
        prompt = "\n".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
        text = self.json_text(prompt) if json_mode else self.text()
        from .thinking import thinks

        reasoning = " ".join(self.text() for _ in range(3)) if thinks(request) else None
        return respond(request, body, params, messages, text, self.rng.randint(60, 400),
                       reasoning)


def respond(request: IncomingRequest, body: dict, params: dict, messages: list, text: str,
            ttfb_ms: int, reasoning: str | None = None) -> dict:
    """A 200 response carrying ``text`` (after ``reasoning``, for a thinking request) in the
    request's own wire format."""
    from ..tokens import count_message_tokens
    from .thinking import budget

    pieces, truncated = token_pieces(text, params.get("max_tokens"))
    finish = "length" if truncated else "stop"
    text = "".join(p for p, _ in pieces)
    thought = token_pieces(reasoning, budget(params))[0] if reasoning is not None else None
    usage = (count_message_tokens(messages),
             sum(n for _, n in pieces) + sum(n for _, n in thought or []))
    request_id, model = wire.new_request_id(), body.get("model", "")
    gaps = _pace((thought or []) + pieces, ttfb_ms, request_id)
    headers = {"x-request-id": request_id}
    if not request.stream:
        headers["Content-Type"] = wire.JSON_CONTENT_TYPE
        out = (wire.compat_json(text, finish, usage, model, f"chatcmpl-{request_id}")
               if request.compatible else
               wire.native_json(text, finish, usage, request_id,
                                params.get("result_format") == "message"))
        return {"status": 200, "headers": headers, "delay_ms": sum(gaps), "body": out}
    headers["Content-Type"] = wire.SSE_CONTENT_TYPE
    if request.compatible:
        include = bool((body.get("stream_options") or {}).get("include_usage"))
        events = wire.compat_stream(pieces, usage[0], finish, model, f"chatcmpl-{request_id}",
                                    include, reasoning=thought)
    else:
        events = wire.native_stream(pieces, usage[0], finish, request_id,
                                    incremental=bool(params.get("incremental_output")),
                                    message_format=params.get("result_format") == "message",
                                    reasoning=thought)
    stored = [{"delay_ms": gaps[n] if n < len(gaps) else 0, **e} for n, e in enumerate(events)]
    return {"status": 200, "headers": headers, "events": stored}


def sync(server: ReplayServer, mode: str) -> None:
    """Register the responder in replay mode when LLM_REPLAY_VARIED is set; remove it otherwise."""
    server.responders[:] = [r for r in server.responders if not isinstance(r, VariedResponder)]
    if mode == "replay" and enabled():
        seed = os.environ.get("LLM_REPLAY_VARIED_SEED")
        server.responders.append(VariedResponder(int(seed) if seed else None))
