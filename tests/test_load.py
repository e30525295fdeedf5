"""Many learners' threads at once: the replay server keeps every stream to its own client.

20 concurrent streaming clients, each with its own authored conversation (bench/bench_load.py
does the same with 50 and reports timings; here only correctness is asserted).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import helpers

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_load.py"


@pytest.fixture(scope="module")
def load():
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_load", None)


@pytest.fixture
def conversations(load, tmp_path, monkeypatch):
    monkeypatch.setenv("LLM_RECORDINGS", str(tmp_path))  # prepare() sets it too; undone below
    try:
        yield load.prepare(tmp_path, 20)
    finally:
        monkeypatch.undo()
        helpers.setup()  # back to the course's recordings


def test_20_raw_streaming_clients(load, conversations):
    result = load.run_http(conversations)
    assert result.errors == [] and result.crosstalk == [] and result.ok
    assert result.events >= 20 * 10


def test_20_threads_of_stream_chat(load, conversations):
    result = load.run_helpers(conversations)
    assert result.errors == [] and result.crosstalk == [] and result.ok
