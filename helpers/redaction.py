"""Keeping keys out of sight (lesson 00): the one place that hides secrets.

Every text a learner or a file can see passes through ``redact()`` first: error messages,
the status line, the doctor's report, exported conversations, recordings. It hides

* the key the kit was configured with (and any run of 12 or more of its characters, so a
  server that echoes part of a key does not leak it either), registered by ``setup()``;
* anything shaped like a DashScope key (``sk-…``);
* the token after ``Bearer`` in any spelling (``bearer``, ``BEARER``).

``mask_key()`` is the one way the kit shows a key on purpose: ``sk-ab…9f3c``.
"""
from __future__ import annotations

import re
from typing import Any

MASK = "***"
# A DashScope key: sk- then letters, digits, - or _ (sp- keys of the Coding plan included).
KEY_SHAPED = re.compile(r"sk-[A-Za-z0-9_\-]{8,}")
BEARER = re.compile(r"(?i)\b(bearer)(\s+)[^\s\"',;]{4,}")
# A run this long of a known secret is hidden wherever it appears.
SECRET_RUN = 12
# Placeholders the kit itself hands to SDKs in replay mode: not secrets.
NOT_SECRETS = {"replay-mode-no-key-needed"}

_secrets: set[str] = set()


def remember_secret(value: str | None) -> None:
    """Hide ``value`` from now on in everything ``redact()`` sees (setup() calls this)."""
    if value and value.strip() and value.strip() not in NOT_SECRETS:
        _secrets.add(value.strip())


def forget_secrets() -> None:
    """For tests: start again with no remembered secrets."""
    _secrets.clear()


def mask_key(key: str | None) -> str:
    """Show enough of a key to recognise it, never enough to use it: ``sk-ab…9f3c``."""
    if not key or key.strip() in NOT_SECRETS:
        return "未设置"
    key = key.strip()
    if len(key) < 12:
        return "*" * len(key)
    return f"{key[:5]}…{key[-4:]}"


def _secret_spans(text: str, secret: str) -> list[tuple[int, int]]:
    """Where any SECRET_RUN characters of ``secret`` occur in ``text``."""
    if len(secret) < SECRET_RUN:
        found, start, spans = text.find(secret), 0, []
        while found >= 0:
            spans.append((found, found + len(secret)))
            start = found + 1
            found = text.find(secret, start)
        return spans
    spans = []
    for i in range(len(secret) - SECRET_RUN + 1):
        window = secret[i:i + SECRET_RUN]
        found = text.find(window)
        while found >= 0:
            spans.append((found, found + SECRET_RUN))
            found = text.find(window, found + 1)
    return spans


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every remembered secret, key-shaped string and bearer token hidden."""
    if not isinstance(text, str) or not text:
        return text
    # Key-shaped strings first, so the result does not depend on which keys were remembered.
    text = KEY_SHAPED.sub("sk-" + MASK, text)
    spans: list[tuple[int, int]] = []
    for secret in (*_secrets, *(s.strip() for s in extra_secrets if s and s.strip())):
        if secret not in NOT_SECRETS:
            spans.extend(_secret_spans(text, secret))
    if spans:
        spans.sort()
        merged = [list(spans[0])]
        for start, end in spans[1:]:
            if start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        pieces, last = [], 0
        for start, end in merged:
            pieces += [text[last:start], MASK]
            last = end
        text = "".join(pieces) + text[last:]
    return BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def redact_value(value: Any, extra_secrets: tuple[str, ...] = ()) -> Any:
    """The same for any JSON value: strings, and dictionary keys as well as values."""
    if isinstance(value, str):
        return redact(value, extra_secrets)
    if isinstance(value, list):
        return [redact_value(v, extra_secrets) for v in value]
    if isinstance(value, dict):
        return {redact(str(k), extra_secrets) if isinstance(k, str) else k:
                redact_value(v, extra_secrets) for k, v in value.items()}
    return value
