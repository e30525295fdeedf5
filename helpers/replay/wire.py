"""DashScope wire formats: SSE frames and JSON bodies, byte for byte.

Reference: docs/dashscope-wire.md §1, §3, §4. Used to serialise stored
events on replay and to synthesise authored exchanges.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any, Iterable, Iterator

NATIVE_GENERATION = "/api/v1/services/aigc/text-generation/generation"
NATIVE_EMBEDDING = "/api/v1/services/embeddings/text-embedding/text-embedding"
COMPAT_CHAT = "/compatible-mode/v1/chat/completions"
COMPAT_EMBEDDING = "/compatible-mode/v1/embeddings"

SSE_CONTENT_TYPE = "text/event-stream;charset=UTF-8"
JSON_CONTENT_TYPE = "application/json"


def dumps(data: Any) -> str:
    """Compact JSON with Chinese unescaped, as the live service sends it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def is_compatible(path: str) -> bool:
    return path.startswith("/compatible-mode/")


def request_messages(body: object, compatible: bool) -> list[dict]:
    """The chat messages of a request body, native or compatible (legacy prompt= included)."""
    body = body if isinstance(body, dict) else {}
    if compatible:
        return body.get("messages") or []
    inp = body.get("input") or {}
    if inp.get("messages") is None and "prompt" in inp:  # prompt= form of the legacy SDK
        return [{"role": "user", "content": inp["prompt"]}]
    return inp.get("messages") or []


def encode_event(event: dict, compatible: bool) -> str:
    """One SSE event as text, ending with the blank line that dispatches it.

    A stored event is either {"raw": text} (kept verbatim) or its fields:
    native: id, event, comment (":HTTP_STATUS/200"), data — no space after the colon;
    compatible: data only, with "data: " and a space.
    """
    if "raw" in event:
        return event["raw"]
    data = event["data"]
    payload = data if isinstance(data, str) else dumps(data)
    if compatible:
        return f"data: {payload}\n\n"
    lines = []
    if "id" in event:
        lines.append(f"id:{event['id']}")
    if "event" in event:
        lines.append(f"event:{event['event']}")
    if "comment" in event:
        lines.append(f":{event['comment']}")
    lines.append(f"data:{payload}")
    return "\n".join(lines) + "\n\n"


def parse_events(text: str, compatible: bool) -> list[dict]:
    """Split an SSE body into stored events, structured where that round-trips exactly."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        raw = block + "\n\n"
        event: dict[str, Any] = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                event["comment"] = line[1:]
            elif ":" in line:
                name, _, value = line.partition(":")
                if name == "data":
                    value = value[1:] if compatible and value.startswith(" ") else value
                    try:
                        event["data"] = json.loads(value)
                    except ValueError:
                        event["data"] = value
                else:
                    event[name] = value
        if "data" not in event or encode_event(event, compatible) != raw:
            event = {"raw": raw}
        events.append(event)
    return events


# --- synthesis of authored replies -------------------------------------------------------


def new_request_id() -> str:
    return str(uuid.uuid4())


def native_usage(input_tokens: int, output_tokens: int, reasoning_tokens: int | None = None) -> dict:
    """``output_tokens`` includes the reasoning; thinking calls add its count (§6)."""
    usage = {
        "total_tokens": input_tokens + output_tokens,
        "output_tokens": output_tokens,
        "input_tokens": input_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    if reasoning_tokens is not None:
        usage["output_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return usage


def compat_usage(input_tokens: int, output_tokens: int, reasoning_tokens: int | None = None) -> dict:
    usage = {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    if reasoning_tokens is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return usage


def native_output(text: str, finish_reason: str, message_format: bool,
                  reasoning: str | None = None) -> dict:
    if message_format:
        message = {"content": text, "role": "assistant"}
        if reasoning is not None:  # thinking calls: reasoning_content on every frame (§6)
            message = {"content": text, "reasoning_content": reasoning, "role": "assistant"}
        return {"choices": [{"message": message, "finish_reason": finish_reason}]}
    return {"finish_reason": finish_reason, "text": text}


def native_json(text: str, finish_reason: str, usage: tuple[int, int], request_id: str,
                message_format: bool = True) -> dict:
    return {"output": native_output(text, finish_reason, message_format),
            "usage": native_usage(*usage), "request_id": request_id}


def native_stream(pieces: list[tuple[str, int]], input_tokens: int, finish_reason: str,
                  request_id: str, incremental: bool = True, message_format: bool = True,
                  reasoning: list[tuple[str, int]] | None = None) -> Iterator[dict]:
    """Native SSE events: pieces are (text, tokens); finish_reason is the string "null"
    until the closing frame; usage is cumulative on every frame. With ``reasoning`` (a
    thinking call, §6) its pieces come first as ``reasoning_content`` with ``content: ""``,
    then the answer with ``reasoning_content: ""``; usage counts both as output."""
    thinking = reasoning is not None
    steps = [(p, t, True) for p, t in (reasoning or [])] + [(p, t, False) for p, t in pieces]
    sent_text, sent_reasoning, sent_tokens, thought, n = "", "", 0, 0, 0

    def frame(content: str, why: str | None, finish: str) -> dict:
        usage = native_usage(input_tokens, sent_tokens, thought if thinking else None)
        return {"id": str(n), "event": "result", "comment": "HTTP_STATUS/200",
                "data": {"output": native_output(content, finish, message_format, why),
                         "usage": usage, "request_id": request_id}}

    for piece, tokens, is_reasoning in steps:
        n += 1
        sent_tokens += tokens
        if is_reasoning:
            thought += tokens
            sent_reasoning += piece
            yield frame("" if incremental else sent_text,
                        piece if incremental else sent_reasoning, "null")
            continue
        sent_text += piece
        yield frame(piece if incremental else sent_text,
                    ("" if incremental else sent_reasoning) if thinking else None, "null")
    n += 1
    yield frame("" if incremental else sent_text,
                ("" if incremental else sent_reasoning) if thinking else None, finish_reason)


def compat_json(text: str, finish_reason: str, usage: tuple[int, int], model: str,
                completion_id: str, created: int | None = None) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": text},
                         "finish_reason": finish_reason, "index": 0, "logprobs": None}],
            "object": "chat.completion", "usage": compat_usage(*usage),
            "created": created or int(time.time()), "system_fingerprint": None,
            "model": model, "id": completion_id}


def compat_stream(pieces: list[tuple[str, int]], input_tokens: int, finish_reason: str,
                  model: str, completion_id: str, include_usage: bool,
                  created: int | None = None,
                  reasoning: list[tuple[str, int]] | None = None) -> Iterator[dict]:
    """OpenAI-compatible chunks: a role chunk, content chunks, a closing chunk,
    an optional usage chunk, then data: [DONE]. With ``reasoning`` (§6) the
    ``delta.reasoning_content`` chunks (``content: ""``) come before the answer's."""
    created = created or int(time.time())

    def chunk(delta: dict, finish: str | None) -> dict:
        return {"data": {"choices": [{"delta": delta, "index": 0, "logprobs": None,
                                      "finish_reason": finish}],
                         "object": "chat.completion.chunk", "usage": None, "created": created,
                         "system_fingerprint": None, "model": model, "id": completion_id}}

    thinking = reasoning is not None
    yield chunk({"content": "", "role": "assistant"}
                | ({"reasoning_content": ""} if thinking else {}), None)
    output_tokens = thought = 0
    for piece, tokens in reasoning or []:
        output_tokens += tokens
        thought += tokens
        yield chunk({"content": "", "reasoning_content": piece}, None)
    for piece, tokens in pieces:
        output_tokens += tokens
        yield chunk({"content": piece} | ({"reasoning_content": None} if thinking else {}), None)
    yield chunk({"content": ""}, finish_reason)
    if include_usage:
        usage = compat_usage(input_tokens, output_tokens, thought if thinking else None)
        yield {"data": {"choices": [], "object": "chat.completion.chunk",
                        "usage": usage, "created": created,
                        "system_fingerprint": None, "model": model, "id": completion_id}}
    yield {"data": "[DONE]"}


def native_embedding(vectors: list[list[float]], tokens: int, request_id: str) -> dict:
    return {"output": {"embeddings": [{"embedding": v, "text_index": i}
                                      for i, v in enumerate(vectors)]},
            "usage": {"total_tokens": tokens}, "request_id": request_id}


def compat_embedding(vectors: list[list[float]], tokens: int, model: str,
                     request_id: str) -> dict:
    return {"data": [{"embedding": v, "index": i, "object": "embedding"}
                     for i, v in enumerate(vectors)],
            "model": model, "object": "list",
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}, "id": request_id}


def native_error(code: str, message: str, request_id: str) -> dict:
    return {"code": code, "message": message, "request_id": request_id}


def compat_error(code: str, message: str, request_id: str,
                 error_type: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code},
            "request_id": request_id}


def native_error_event(status: int, code: str, message: str, request_id: str,
                       event_id: int = 1) -> dict:
    """A mid-stream error frame (§1.5): event:error with the status in the comment line."""
    return {"id": str(event_id), "event": "error", "comment": f"HTTP_STATUS/{status}",
            "data": {"request_id": request_id, "code": code, "message": message}}


def is_success(response: dict, compatible: bool) -> bool:
    """A 2xx answer that is complete: a JSON body, or a stream whose last frame closes it
    (native: a finish_reason other than "null"; compatible: data: [DONE]), no error frame."""
    if not 200 <= int(response.get("status", 0)) < 300:
        return False
    events = response.get("events")
    if events is None:
        return "body" in response
    datas = [e.get("data") for e in events]
    if any(e.get("event") == "error" or (isinstance(d, dict) and (d.get("error") or d.get("code")))
           for e, d in zip(events, datas)):
        return False
    if compatible:
        return bool(datas) and datas[-1] == "[DONE]"
    last = datas[-1] if datas else None
    output = last.get("output") if isinstance(last, dict) else None
    if not isinstance(output, dict):
        return False
    choices = output.get("choices") or [output]
    return choices[0].get("finish_reason") not in (None, "null")


def join_events(events: Iterable[dict], compatible: bool) -> str:
    return "".join(encode_event(e, compatible) for e in events)
