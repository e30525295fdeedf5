"""Thinking models in replay (lesson 03b): the service's own rules, and authored reasoning.

DashScope refuses three kinds of thinking request with 400 InvalidParameter (wire reference
docs/dashscope-wire.md §6); replay and author modes answer them the same way, so a lesson
that shows the error shows what the live service would say:

* ``enable_thinking`` true on a non-streaming call;
* a thinking-only model (QwQ, QVQ) called without streaming;
* a thinking stream on the native API with ``incremental_output`` false.

``rules`` is a server responder (installed before the recordings and the varied responder);
record mode leaves it off, since there the live service answers.
"""
from __future__ import annotations

from . import wire
from .server import IncomingRequest

# Models that only think and only stream (the deep-thinking page's "thinking-only" models).
THINKING_ONLY_PREFIXES = ("qwq-", "qvq-")


def _params(request: IncomingRequest) -> tuple[str, dict]:
    body = request.body if isinstance(request.body, dict) else {}
    params = body if request.compatible else (body.get("parameters") or {})
    return str(body.get("model", "")), params


def thinks(request: IncomingRequest) -> bool:
    """Does this request ask for reasoning: ``enable_thinking`` true, or a thinking-only model."""
    model, params = _params(request)
    return params.get("enable_thinking") is True or model.startswith(THINKING_ONLY_PREFIXES)


def refusal(request: IncomingRequest) -> str | None:
    """The name of the fault (faults.HTTP_FAULTS) the live service answers, or None."""
    if request.path not in (wire.NATIVE_GENERATION, wire.COMPAT_CHAT):
        return None
    model, params = _params(request)
    if model.startswith(THINKING_ONLY_PREFIXES) and not request.stream:
        return "stream_only_model"
    if params.get("enable_thinking") is True and not request.stream:
        return "thinking_not_streamed"
    if thinks(request) and not request.compatible and params.get("incremental_output") is not True:
        return "incremental_required"
    return None


def rules(request: IncomingRequest) -> dict | None:
    """Server responder: the 400 a thinking request gets from the live service, else None."""
    name = refusal(request)
    if name is None:
        return None
    from .faults import HTTP_FAULTS, http_error

    return {**http_error(HTTP_FAULTS[name], request), "delay_ms": 120}


def install(server, enabled: bool) -> None:
    """Put ``rules`` first on the server's responders (once), or take it off (record/live)."""
    server.responders[:] = [r for r in server.responders if r is not rules]
    if enabled:
        server.responders.insert(0, rules)


def budget(params: dict) -> int | None:
    """``thinking_budget`` if the request set one (tokens of reasoning at most)."""
    value = params.get("thinking_budget")
    return value if isinstance(value, int) and value > 0 else None
