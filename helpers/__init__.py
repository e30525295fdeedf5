"""大模型工程化之路 — the small helper package the lessons import.

The public API, and the module (in lesson order) where each name lives. Modules load on
first use, so ``import helpers`` is instant and the console program never loads Jupyter.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    # lesson 00: configuration and environment checks
    "setup": "config", "Settings": "config", "DEFAULT_MODEL": "config", "mask_key": "config",
    "doctor": None,  # the module itself: helpers.doctor.report(), helpers.doctor.check_key()…
    # lesson 01 / 03: one call, one stream
    "chat": "llm", "stream_chat": "llm", "Reply": "llm",
    # lesson 02: history, tokens and cost
    "Conversation": "conversation", "DEFAULT_SYSTEM": "conversation",
    "count_tokens": "tokens", "count_message_tokens": "tokens", "estimate_cost": "tokens",
    "UsageMeter": "tokens", "METER": "tokens",
    # lesson 03: showing a stream
    "print_stream": "display", "markdown_stream": "display",
    # lesson 04: ending the conversation
    "FAREWELL": "ending", "EndDetector": "ending", "is_goodbye": "ending",
    # lesson 05: errors, and faults to practise on in replay mode
    "LLMError": "errors", "inject_fault": "replay.faults",
    # lessons 07-08: evaluation harness, graders, the four-part prompt, exercise checks
    "evals": None, "graders": None, "prompts": None, "exercises": None,
    "build_prompt": "prompts", "check": "exercises",
}
__all__ = list(_EXPORTS)

if TYPE_CHECKING:  # for editors and type checkers; at run time names load on first use
    from .config import DEFAULT_MODEL, Settings, mask_key, setup
    from .conversation import DEFAULT_SYSTEM, Conversation
    from .display import markdown_stream, print_stream
    from . import doctor, evals, exercises, graders, prompts
    from .exercises import check
    from .prompts import build_prompt
    from .ending import FAREWELL, EndDetector, is_goodbye
    from .errors import LLMError
    from .replay.faults import inject_fault
    from .llm import Reply, chat, stream_chat
    from .tokens import METER, UsageMeter, count_message_tokens, count_tokens, estimate_cost


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    module = _EXPORTS[name]
    value = import_module(f".{module or name}", __name__)
    return value if module is None else getattr(value, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
