"""`make record` would record every request lessons 07 and 08 send: record mode against a local
fake DashScope (a second replay server answering with varied replay; fake key, no network),
then replay from the files written, with no miss. Slow (~1 minute): opt in with
LLM_SLOW_TESTS=1.
"""
from __future__ import annotations

import json
import os
import shutil

import pytest

from helpers.replay.server import ReplayServer
from helpers.replay.store import RecordingStore
from helpers.replay.varied import VariedResponder
from lesson_run import NOTEBOOKS
import nbformat
from nbclient import NotebookClient

pytestmark = pytest.mark.skipif(not os.environ.get("LLM_SLOW_TESTS"),
                                reason="slow: set LLM_SLOW_TESTS=1")
LESSONS = ["07_model_selection", "08_prompt_engineering"]
FAKE_KEY = "sk-" + "f4kef4ke" * 4  # built at run time: no key-shaped literal in the repo


def execute(folder, lesson, env):
    nb = nbformat.read(folder / f"{lesson}.ipynb", as_version=4)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        NotebookClient(nb, kernel_name="python3", timeout=300,
                       resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)


def test_record_mode_captures_every_request_and_replay_answers_them(tmp_path):
    fake = ReplayServer(RecordingStore(tmp_path / "nothing"), speed=0).start()
    fake.responders.append(VariedResponder(seed=1))
    shutil.copytree(NOTEBOOKS, tmp_path / "nb", ignore=shutil.ignore_patterns("recordings"))
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    try:
        for lesson in LESSONS:
            before = fake.log.requests
            execute(tmp_path / "nb", lesson, dict(
                LLM_MODE="record", DASHSCOPE_API_KEY=FAKE_KEY, LLM_RECORDINGS=str(recordings),
                LLM_RECORD_UPSTREAM=fake.url))
            text = (recordings / f"{lesson}.json").read_text(encoding="utf-8")
            exchanges = json.loads(text)["exchanges"]
            assert len(exchanges) == fake.log.requests - before > 0
            assert {e["source"] for e in exchanges} == {"recorded"} and FAKE_KEY not in text
        for lesson in LESSONS:
            out = execute(tmp_path / "nb", lesson,
                          dict(LLM_MODE="replay", LLM_RECORDINGS=str(recordings)))
            assert "回放模式下没有" not in out and "调用失败" not in out
            assert "录制数据" in out  # the tables now say the answers were recorded
    finally:
        fake.stop()
