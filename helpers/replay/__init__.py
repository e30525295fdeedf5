"""Replay machinery: not course material; learners never need to read it.

One server per process, started on first use by ``helpers.setup()`` and reused afterwards.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .server import ReplayServer, ServerLog
from .store import RecordingStore, safe_topic

if TYPE_CHECKING:
    from ..config import Settings

_server: ReplayServer | None = None
_lock = threading.Lock()


def recordings_dir(create: bool = False) -> Path:
    """LLM_RECORDINGS, else the kit's notebooks/recordings; a missing folder is an error
    (record mode, ``create``, makes it: it is about to write the first file there)."""
    from ..config import KIT_ROOT
    from .store import RecordingError

    chosen = os.environ.get("LLM_RECORDINGS")
    folder = Path(chosen or KIT_ROOT / "notebooks" / "recordings")
    if create and chosen and not folder.exists():
        folder.mkdir(parents=True)
    if not folder.is_dir():
        where = f"LLM_RECORDINGS={chosen}" if chosen else "课程的 notebooks/recordings"
        raise RecordingError(f"录制文件夹 {folder} 不存在（{where}）。请检查路径是否写对，"
                             "或删除 LLM_RECORDINGS 使用课程自带的录制；课程自带的文件夹可用 "
                             "git checkout -- notebooks/recordings 恢复。")
    return folder


def replay_speed() -> float:
    """LLM_REPLAY_SPEED: 1 = realistic pacing, 2 = twice as fast, 0 = no delays (tests)."""
    try:
        return max(0.0, float(os.environ.get("LLM_REPLAY_SPEED", "1")))
    except ValueError:
        return 1.0


def ensure_server(settings: "Settings") -> ReplayServer:
    """Start the server (or adjust the running one) for this mode.

    One server per process, on one port, for the whole session: another recordings folder
    swaps the server's store, so clients built earlier (an ``OpenAI()`` in a previous cell)
    keep their address."""
    global _server
    with _lock:
        folder = recordings_dir(create=settings.mode == "record")
        topic = safe_topic(settings.lesson or "misc")  # raises before anything changes
        if _server is None or _server.store.folder != folder:
            store = RecordingStore(folder)  # may raise RecordingError: keep the old store then
            if _server is None:
                _server = ReplayServer(store).start()
            else:
                _server.store = store
                _server.log = ServerLog()  # counts for these recordings only
        _server.speed = replay_speed()
        _server.strict = os.environ.get("LLM_REPLAY_STRICT", "").strip() == "1"
        _server.topic = topic
        _server.upstream = _upstream(settings)
        # Embeddings and rerank: computed for real by a named local method, never recorded
        # (record mode forwards them to DashScope instead).
        from . import local_models

        local_models.install(_server, enabled=settings.mode in ("replay", "author"))
        from . import thinking  # the live service's refusals of thinking requests (lesson 03b)

        thinking.install(_server, enabled=settings.mode in ("replay", "author"))

        from .varied import sync  # LLM_REPLAY_VARIED=1: fresh answers instead of recordings

        sync(_server, settings.mode)

        from .finetune_service import attach  # lesson 12: authored files/fine-tunes/deployments

        attach(_server, enabled=settings.mode != "record")  # record mode asks the live service
        return _server


LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def bypass_proxy_for_loopback() -> None:
    """Add 127.0.0.1 and localhost to NO_PROXY / no_proxy, keeping the learner's entries.

    requests and httpx (so dashscope, openai and the libraries built on them) send every
    request through HTTPS_PROXY / HTTP_PROXY unless its host is listed there; a proxy cannot
    reach, or must not see, the kit's loopback server."""
    for name in ("NO_PROXY", "no_proxy"):
        entries = [e.strip() for e in os.environ.get(name, "").split(",") if e.strip()]
        missing = [h for h in LOOPBACK_HOSTS if h not in entries]
        if missing or name not in os.environ:
            os.environ[name] = ",".join(entries + missing)


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
