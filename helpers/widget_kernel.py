"""Lesson 06's chat widget and the kernel: is a message from the page, and ■ between messages.

Kept apart from helpers/widget.py (the layout) because it leans on ipykernel's internals:
``Kernel.get_parent()`` tells a browser event (a ``comm_msg``) from a cell, and
``saved_sigint_handler`` is the SIGINT handler ipykernel puts back after each message.
Outside a kernel (tests, scripts) every function here does nothing.
"""
from __future__ import annotations

import weakref
from typing import Any

ACTIVE: "weakref.WeakSet[Any]" = weakref.WeakSet()  # widgets that may be streaming


def _kernel() -> Any:
    try:
        from ipykernel.kernelbase import Kernel
    except ImportError:
        return None
    return Kernel.instance() if Kernel.initialized() else None


def from_browser() -> bool:
    """True while the kernel handles a message from the page (a click, an Enter)."""
    kernel = _kernel()
    parent = kernel.get_parent() if kernel is not None else {}
    return (parent or {}).get("header", {}).get("msg_type") == "comm_msg"


def catch_interrupt() -> None:
    """■ while no cell runs: ipykernel ignores SIGINT between messages (it restores its
    ``saved_sigint_handler`` after each one). Ours stops the widgets that are streaming and
    otherwise does what the kernel's own handler did (nothing, by default)."""
    kernel = _kernel()
    previous = getattr(kernel, "saved_sigint_handler", None)
    if kernel is None or getattr(previous, "__name__", "") == "_on_sigint":
        return

    def _on_sigint(signum: int, frame: Any) -> None:
        busy = [ui for ui in list(ACTIVE) if ui.busy]
        for ui in busy:
            ui.stop()
        if not busy and callable(previous):
            previous(signum, frame)

    kernel.saved_sigint_handler = _on_sigint  # the kernel installs it when this message ends
