"""Replay machinery: not course material; learners never need to read it.

One server per process, started on first use by ``helpers.setup()`` and reused afterwards.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .server import ReplayServer
from .store import RecordingStore

if TYPE_CHECKING:
    from ..config import Settings

_server: ReplayServer | None = None
_lock = threading.Lock()


def recordings_dir() -> Path:
    from ..config import KIT_ROOT

    return Path(os.environ.get("LLM_RECORDINGS") or KIT_ROOT / "notebooks" / "recordings")


def replay_speed() -> float:
    """LLM_REPLAY_SPEED: 1 = realistic pacing, 2 = twice as fast, 0 = no delays (tests)."""
    try:
        return max(0.0, float(os.environ.get("LLM_REPLAY_SPEED", "1")))
    except ValueError:
        return 1.0


def ensure_server(settings: "Settings") -> ReplayServer:
    """Start the server (or adjust the running one) for this mode."""
    global _server
    with _lock:
        folder = recordings_dir()
        if _server is None or _server.store.folder != folder:
            store = RecordingStore(folder)  # may raise RecordingError: keep the old server then
            if _server is not None:
                _server.stop()
            _server = ReplayServer(store).start()
        _server.speed = replay_speed()
        _server.topic = settings.lesson or "misc"
        _server.upstream = _upstream(settings)
        # Embeddings and rerank: computed for real by a named local method, never recorded
        # (record mode forwards them to DashScope instead).
        from . import local_models

        local_models.install(_server, enabled=settings.mode in ("replay", "author"))

        from .varied import sync  # LLM_REPLAY_VARIED=1: fresh answers instead of recordings

        sync(_server, settings.mode)

        from .finetune_service import attach  # lesson 12: authored files/fine-tunes/deployments

        attach(_server, enabled=settings.mode != "record")  # record mode asks the live service
        return _server


def current_server() -> ReplayServer | None:
    return _server


def _upstream(settings: "Settings"):
    if settings.mode == "record":
        from ..config import REGIONS
        from .record import RecordUpstream

        return RecordUpstream(os.environ.get("LLM_RECORD_UPSTREAM") or REGIONS[settings.region])
    if settings.mode == "author":
        from .author import AuthorUpstream, load_specs

        return AuthorUpstream(load_specs(recordings_dir() / "specs"))
    return None
