"""Record mode: forward a miss to the live service, pass the reply through, save it scrubbed.

Only complete successful answers are saved (HTTP 2xx, a stream that reached its last frame
without an error frame): a 401 or 429 the learner happened to get must not become the
course's answer. ``LLM_RECORD_FAULTS=1`` saves error replies too, for maintainers who
capture real faults on purpose. Every saved exchange, name included, is scrubbed of the
key that made it, key-shaped strings and bearer tokens.
"""
from __future__ import annotations

import os
import re
import time
from typing import Any

from ..redaction import redact, redact_value
from . import wire
from .server import KEPT_RESPONSE_HEADERS, IncomingRequest, Relay

# Request headers that must reach the live service; everything else is left behind.
FORWARDED_HEADERS = ("authorization", "content-type", "accept", "x-dashscope-sse",
                     "x-dashscope-workspace", "x-dashscope-datainspection",
                     "x-dashscope-plugin", "x-accel-buffering")


def scrub(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """Remove key-shaped strings, bearer tokens and known secrets from any JSON value."""
    return redact_value(value, secrets)


class RecordUpstream:
    """Forwards to ``base`` (e.g. https://dashscope.aliyuncs.com) with the caller's key."""

    source = "recorded"

    def __init__(self, base: str, timeout: float = 300.0, keep_faults: bool | None = None):
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.keep_faults = (os.environ.get("LLM_RECORD_FAULTS", "").strip() == "1"
                            if keep_faults is None else keep_faults)

    def keeps(self, exchange: dict, request: IncomingRequest) -> bool:
        """Whether the server saves this exchange (see the module docstring)."""
        return self.keep_faults or wire.is_success(exchange["response"], request.compatible)

    def exchange(self, request: IncomingRequest, relay: Relay) -> dict:
        import requests  # a dashscope dependency

        headers = {k: v for k, v in request.headers.items() if k in FORWARDED_HEADERS}
        headers["accept-encoding"] = "identity"  # pass bytes through exactly as they arrive
        secret = _token(request.headers.get("authorization", ""))
        started = time.monotonic()
        with requests.request(request.method, self.base + request.path, data=request.raw_body,
                              headers=headers, stream=True, timeout=self.timeout) as upstream:
            kept = {k: v for k, v in upstream.headers.items() if k.lower() in KEPT_RESPONSE_HEADERS}
            streaming = "text/event-stream" in upstream.headers.get("content-type", "")
            relay.head(upstream.status_code, kept, streaming)
            raw, stamps = b"", []
            for chunk in upstream.iter_content(chunk_size=None):
                relay.chunk(chunk)
                raw += chunk
                stamps.append((len(raw), time.monotonic()))
            relay.chunk(b"")
        relay._handler.finish_response()
        text = raw.decode("utf-8", errors="replace")
        response: dict[str, Any] = {"status": upstream.status_code, "headers": kept}
        if streaming:
            events = wire.parse_events(text, request.compatible)
            response["events"] = _with_delays(events, text, stamps, started)
        else:
            response["delay_ms"] = int((time.monotonic() - started) * 1000)
            try:
                import json

                response["body"] = json.loads(text)
            except ValueError:
                response["body_text"] = text
        return scrub({"name": _name(request, secret), "source": "recorded",
                      "recorded_at": time.strftime("%Y-%m-%d"),
                      "request": {"method": request.method, "path": request.path,
                                  "stream": request.stream, "body": request.body},
                      "response": response}, (secret,))


def _token(authorization: str) -> str:
    """The key in an Authorization header, whatever the spelling of "Bearer"."""
    return re.sub(r"(?i)^\s*bearer\s+", "", authorization).strip()


def _with_delays(events: list[dict], text: str, stamps: list[tuple[int, float]],
                 started: float) -> list[dict]:
    """Attach to each event the time between its arrival and the previous one's."""
    out, offset, previous = [], 0, started
    encoded = text.encode("utf-8")
    for event in events:
        offset = encoded.find(b"\n\n", offset) + 2
        arrived = next((t for n, t in stamps if n >= offset), previous)
        out.append({"delay_ms": int((arrived - previous) * 1000), **event})
        previous = arrived
    return out


def _name(request: IncomingRequest, secret: str = "") -> str:
    """A short label: the start of the last message, scrubbed before it is cut (a cut key
    would be too short for the patterns to recognise)."""
    messages = wire.request_messages(request.body, request.compatible)
    last = messages[-1].get("content", "") if messages and isinstance(messages[-1], dict) else ""
    return f"recorded {redact(str(last or request.path), (secret,))[:16]}"
