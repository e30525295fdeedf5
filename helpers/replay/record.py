"""Record mode: forward a miss to the live service, pass the reply through, save it scrubbed."""
from __future__ import annotations

import time
from typing import Any

from ..redaction import redact_value
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

    def __init__(self, base: str, timeout: float = 300.0):
        self.base = base.rstrip("/")
        self.timeout = timeout

    def exchange(self, request: IncomingRequest, relay: Relay) -> dict:
        import requests  # a dashscope dependency

        headers = {k: v for k, v in request.headers.items() if k in FORWARDED_HEADERS}
        headers["accept-encoding"] = "identity"  # pass bytes through exactly as they arrive
        secret = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
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
        body = request.body
        return {"name": _name(request), "source": "recorded",
                "recorded_at": time.strftime("%Y-%m-%d"),
                "request": {"method": request.method, "path": request.path,
                            "stream": request.stream, "body": scrub(body, (secret,))},
                "response": scrub(response, (secret,))}


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


def _name(request: IncomingRequest) -> str:
    messages = wire.request_messages(request.body, request.compatible)
    last = str(messages[-1].get("content", ""))[:16] if messages else request.path
    return f"recorded {last}"
