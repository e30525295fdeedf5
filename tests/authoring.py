"""Tests that need their own recordings: author them from a spec, then replay them.

    with authored_recordings(tmp_path, SPEC, send=lambda: helpers.chat(QUESTION)) as server:
        ...  # replay mode, answering from tmp_path; the kit's own state is back afterwards
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import helpers
from helpers.replay import current_server
from helpers.replay.server import ReplayServer


@contextmanager
def authored_recordings(folder: Path, spec: str, send: Callable[[], object],
                        topic: str = "t") -> Iterator[ReplayServer]:
    """Write ``spec`` (YAML), run ``send`` in author mode so the real SDKs record every
    request shape it makes, then switch to replay mode on the files written to ``folder``."""
    (folder / "specs").mkdir(parents=True, exist_ok=True)
    (folder / "specs" / f"{topic}.yaml").write_text(spec, encoding="utf-8")
    saved = dict(os.environ)
    try:
        os.environ.update(LLM_RECORDINGS=str(folder), LLM_MODE="author")
        helpers.setup(topic)
        send()
        os.environ["LLM_MODE"] = "replay"
        helpers.setup(topic)
        server = current_server()
        server.store.reload()  # answer from the files on disk, not what authoring indexed
        yield server
    finally:
        current_server().clear_faults()
        os.environ.clear()  # no SDK addresses or modes left behind for later tests
        os.environ.update(saved)
        helpers.setup()  # back to the kit's own recordings
