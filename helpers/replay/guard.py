"""What the replay server refuses before it looks at recordings (lessons 00 and 05).

The server listens on 127.0.0.1, which every process of the machine (and every web page the
learner's browser shows) can reach. So it answers only requests that

* carry the per-process secret as the first path segment (``setup()`` puts it into the SDKs'
  base URLs: ``http://127.0.0.1:PORT/<secret>/api/v1``), compared in constant time;
* name the server itself in ``Host`` (``127.0.0.1:PORT`` or ``localhost:PORT``), which a page
  that rebinds its own domain name to 127.0.0.1 cannot send;
* carry no ``Origin`` header: SDKs never send one, browsers always do on a cross-site POST.

And it answers a malformed request with a DashScope-shaped 400, never by dropping the
connection: a dropped connection looks like a network failure to the learner.
"""
from __future__ import annotations

import hmac
import secrets
from typing import Any

from . import wire

# One secret per process: a second kernel or console program gets its own server and secret.
PROCESS_SECRET = secrets.token_urlsafe(18)
MAX_BODY = 8 * 1024 * 1024  # far above any chat or embedding request (10 texts × 8k tokens)
MAX_DEPTH = 64  # JSON nesting; DashScope's own bodies stay under 10
STATUS_PATH = "/__replay__/status"


def split_secret(path: str, secret: str) -> str | None:
    """The API path after the secret segment, or None when the secret is missing or wrong."""
    if not path.startswith("/"):
        return None
    first, slash, rest = path[1:].partition("/")
    if not slash or not hmac.compare_digest(first.encode(), secret.encode()):
        return None
    return "/" + rest


def host_ok(host: str | None, port: int) -> bool:
    return (host or "").strip().lower() in (f"127.0.0.1:{port}", f"localhost:{port}")


def content_length(value: str | None) -> int | None:
    """Parsed Content-Length (0 when absent), or None when it is not a plain number."""
    if value is None or value.strip() == "":
        return 0
    value = value.strip()
    if not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def depth(value: Any) -> int:
    """Nesting depth of a JSON value, computed without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            todo.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            todo.extend((v, level + 1) for v in item)
    return deepest


def _messages_problem(messages: Any, where: str) -> str | None:
    if not isinstance(messages, list):
        return f"{where} 必须是数组（JSON list），收到 {type(messages).__name__}"
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"{where}[{i}] 必须是对象，例如 {{\"role\": \"user\", \"content\": \"你好\"}}"
        if "role" in message and not isinstance(message["role"], str):
            return f"{where}[{i}].role 必须是字符串"
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            return f"{where}[{i}].content 必须是字符串或数组"
    return None


def shape_problem(path: str, body: Any) -> str | None:
    """Why a parsed JSON body cannot be a request to ``path``, in Chinese; None if it can."""
    if body is None:
        return None
    if depth(body) > MAX_DEPTH:
        return f"请求体嵌套超过 {MAX_DEPTH} 层"
    if not isinstance(body, dict):
        return "请求体必须是 JSON 对象"
    if "model" in body and not isinstance(body["model"], str):
        return "model 必须是字符串"
    if wire.is_compatible(path):
        if "messages" in body:
            problem = _messages_problem(body["messages"], "messages")
            if problem:
                return problem
        if "stream" in body and not isinstance(body["stream"], bool):
            return "stream 必须是 true 或 false"
        if body.get("stream_options") is not None and not isinstance(body["stream_options"], dict):
            return "stream_options 必须是对象"
        if path.endswith("/embeddings") and "input" in body \
                and not isinstance(body["input"], (str, list)):
            return "input 必须是字符串或字符串数组"
        return None
    if "parameters" in body and not isinstance(body["parameters"], dict):
        return "parameters 必须是对象"
    if "input" in body:
        inp = body["input"]
        if not isinstance(inp, dict):
            return "input 必须是对象，例如 {\"messages\": [...]}"
        if "messages" in inp and inp["messages"] is not None:
            problem = _messages_problem(inp["messages"], "input.messages")
            if problem:
                return problem
        if "prompt" in inp and not isinstance(inp["prompt"], (str, type(None))):
            return "input.prompt 必须是字符串"
        if "texts" in inp and not isinstance(inp["texts"], (str, list)):
            return "input.texts 必须是字符串数组"
    return None
