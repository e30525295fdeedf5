"""Checks on what the replay machinery reads and writes (lesson 05's recordings).

A recording is validated when its file loads, so a broken file stops ``setup()`` with its name,
line and entry instead of crashing a request later; a recording name must stay a plain file
name inside the recordings folder.
"""
from __future__ import annotations

import re
from typing import Any

SOURCES = ("authored", "recorded")
METHODS = ("GET", "POST")
MAX_DELAY_MS = 120_000  # a recorded pause longer than two minutes is a broken file
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")  # no CR/LF, Latin-1 only


class RecordingError(ValueError):
    """A recording file that cannot be used; the message names the file and line."""


def safe_topic(name: Any) -> str:
    """A recordings file name (lesson or topic) that stays inside the recordings folder."""
    text = str(name).strip() if isinstance(name, str) else ""
    if (not text or text in (".", "..") or ".." in text or any(c in text for c in "/\\:\0")
            or text.startswith(".") or len(text) > 100 or not text.isprintable()):
        raise RecordingError(f"录制名 {name!r} 不能用：它只能是一个文件名（例如 \"01_first_call\"），"
                             "不能包含 /、\\、: 或 ..，录制只写在 recordings 文件夹里。")
    return text


def check_exchange(exchange: Any) -> str | None:
    """Why an exchange cannot be served (in Chinese), or None: checked at load, so a bad
    file stops setup() with its name and line instead of crashing a request later."""
    if not isinstance(exchange, dict):
        return "记录必须是 JSON 对象"
    if exchange.get("source") not in SOURCES:
        return "source 必须是 authored 或 recorded"
    if "name" in exchange and not isinstance(exchange["name"], str):
        return "name 必须是字符串"
    req, resp = exchange.get("request"), exchange.get("response")
    if not isinstance(req, dict) or not {"method", "path"} <= set(req):
        return "request 需要 method 和 path"
    if req["method"] not in METHODS:
        return f"request.method 必须是 {' 或 '.join(METHODS)}"
    if not isinstance(req["path"], str) or not req["path"].startswith("/"):
        return "request.path 必须是以 / 开头的字符串"
    if not isinstance(req.get("stream", False), bool):
        return "request.stream 必须是 true 或 false"
    if not isinstance(resp, dict) or "status" not in resp:
        return "response 需要 status"
    status = resp["status"]
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        return f"response.status 必须是 200–599 的整数，收到 {status!r}"
    if not any(k in resp for k in ("body", "events", "body_text")):
        return "response 需要 body、body_text 或 events"
    problem = _delay_problem(resp, "response")
    if problem:
        return problem
    headers = resp.get("headers", {})
    if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        return "response.headers 必须是字符串到字符串的对象"
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or not _HEADER_VALUE.fullmatch(value):
            return f"response.headers 里的 {name!r} 不是合法的 HTTP 头（名称或值含非法字符）"
    if "body_text" in resp and not isinstance(resp["body_text"], str):
        return "response.body_text 必须是字符串"
    if "cut_after" in resp and (not isinstance(resp["cut_after"], int)
                                or isinstance(resp["cut_after"], bool) or resp["cut_after"] < 0):
        return "response.cut_after 必须是非负整数"
    if "events" in resp:
        events = resp["events"]
        if not isinstance(events, list):
            return "response.events 必须是数组"
        for n, event in enumerate(events):
            where = f"response.events[{n}]"
            if not isinstance(event, dict):
                return f"{where} 必须是对象"
            if "raw" in event:
                if not isinstance(event["raw"], str):
                    return f"{where}.raw 必须是字符串"
            elif "data" not in event:
                return f"{where} 需要 data 或 raw"
            elif not all(isinstance(event.get(k, ""), str) for k in ("id", "event", "comment")):
                return f"{where} 的 id、event、comment 必须是字符串"
            problem = _delay_problem(event, where)
            if problem:
                return problem
    return None


def _delay_problem(item: dict, where: str) -> str | None:
    for key in ("delay_ms", "hold_ms"):
        value = item.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not 0 <= value <= MAX_DELAY_MS:
            return f"{where}.{key} 必须是 0–{MAX_DELAY_MS} 之间的数字，收到 {value!r}"
    return None


