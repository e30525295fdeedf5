"""大模型工程化之路 — the small helper package the lessons import.

The public API, in lesson order; each name comes from the module named on its line. Nothing
here imports Jupyter, so the console program (``python -m helpers.project1``) runs without it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

# lesson 00: configuration and environment checks (helpers.doctor: see the end of this file)
from .config import DEFAULT_MODEL, Settings, mask_key, setup
# lesson 01 / 03: one call, one stream
from .llm import Reply, chat, stream_chat
# lesson 02: history, tokens and cost
from .conversation import DEFAULT_SYSTEM, Conversation
from .tokens import count_message_tokens, count_tokens, estimate_cost
from .meter import METER, UsageMeter
# lesson 03: showing a stream
from .display import markdown_stream, print_stream
# lesson 04: ending the conversation — FAREWELL, EndDetector, is_goodbye (see the end)
# lesson 05: errors
from .errors import LLMError
# lessons 07-08: exercise checks and the four-part prompt (helpers.evals, helpers.graders: below)
from . import exercises, prompts
from .exercises import check
from .prompts import build_prompt

__all__ = [
    "setup", "Settings", "DEFAULT_MODEL", "mask_key", "doctor",
    "chat", "stream_chat", "Reply",
    "Conversation", "DEFAULT_SYSTEM", "count_tokens", "count_message_tokens", "estimate_cost",
    "UsageMeter", "METER",
    "print_stream", "markdown_stream",
    "FAREWELL", "EndDetector", "is_goodbye",
    "LLMError", "inject_fault", "faults",
    "evals", "graders", "prompts", "exercises", "build_prompt", "check",
]


# lesson 05: faults to practise on. The local server that plays them is machinery
# (helpers/replay/faults.py), loaded only when a lesson asks for a fault.
def inject_fault(name: str, **options):  # noqa: ANN201 - a context manager, see faults.py
    """``with helpers.inject_fault("rate_limit"):`` the next request gets that error."""
    from .replay.faults import inject_fault as inject

    return inject(name, **options)


def faults() -> dict[str, str]:
    """The faults ``inject_fault`` knows: name → what the server answers (in Chinese)."""
    from .replay.faults import FAULTS

    return dict(FAULTS)


# Two modules are also programs (python -m helpers.doctor, python -m helpers.ending eval …).
# They load on first use, so running one does not import it twice (once here, once as main).
_PROGRAMS = {"doctor": "doctor", "FAREWELL": "ending", "EndDetector": "ending",
             "is_goodbye": "ending",
             # lessons 07-08: evaluation harness and graders (they load tqdm and jsonschema)
             "evals": "evals", "graders": "graders"}
if TYPE_CHECKING:  # for editors and type checkers
    from . import doctor, evals, graders
    from .ending import FAREWELL, EndDetector, is_goodbye


def __getattr__(name: str):  # noqa: ANN202
    if name not in _PROGRAMS:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    from importlib import import_module

    module = import_module(f".{_PROGRAMS[name]}", __name__)
    return module if name == _PROGRAMS[name] else getattr(module, name)
