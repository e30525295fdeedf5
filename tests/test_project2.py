"""Project 2 (lesson 13) in process: the widget around KbChatBot, a stop from the widget, the
no-stream option, a locked index folder, the program's --help.

Replay mode at speed 0 (conftest); retrieval runs for real (the local embedding stand-in,
Qdrant in a temporary folder). Where a test needs answers nobody authored (--no-stream), it
uses varied replay, so nothing here depends on an authored text except the scripted demo.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from helpers import project2, rag
from helpers.ending import FAREWELL
from helpers.project2_checks import DEMO, OUT_OF_BASE
from helpers.widget import ChatWidget

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    helpers.setup(project2.LESSON)
    return project2.open_store(tmp_path_factory.mktemp("p2") / "index")


@pytest.fixture
def varied():
    os.environ.update(LLM_REPLAY_VARIED="1", LLM_REPLAY_VARIED_SEED="3")
    helpers.setup(project2.LESSON)
    yield
    for name in ("LLM_REPLAY_VARIED", "LLM_REPLAY_VARIED_SEED"):
        os.environ.pop(name, None)
    helpers.setup()


def test_the_index_holds_the_whole_knowledge_base(store):
    assert project2.describe_store(store).startswith("知识库：32 篇文档，112 块；向量：local-lsa")


def test_the_scripted_conversation_replays_in_the_widget_as_in_the_console(store):
    from test_project2_pty import CITED  # the console's expectations, shared

    ui = ChatWidget(project2.KbChatBot(store))
    for line in DEMO:
        ui.input.value = line  # Enter, as a cell does it (synchronous)
    text = ui.text()
    for phrase, sources in CITED:
        assert phrase in text and sources in text
    assert f"{rag.REFUSAL}\n{project2.NO_ANSWER}" in text and "✗" not in text
    assert text.endswith(FAREWELL) and not ui.enabled
    history = "".join(t.content for t in ui.bot.conversation.turns)
    assert "来源：" not in history  # the footer is shown, never sent back to the model


def test_a_stop_while_streaming_keeps_what_arrived_marked_partial(store):
    bot, shown = project2.KbChatBot(store), []

    def stop_after_three(piece: str) -> None:  # what the widget's ■ does inside on_text
        if len(shown) == 3:
            raise KeyboardInterrupt
        shown.append(piece)

    outcome = bot.send(DEMO[0], on_text=stop_after_three)
    turn = bot.conversation.turns[-1]
    assert outcome.kind == "partial" and turn.partial and turn.content.startswith("".join(shown))
    assert "来源：" in outcome.text  # what it rests on is still shown
    assert len(bot.conversation) == 2 and not bot.ended  # kept, and the chat goes on


def test_no_stream_delivers_each_answer_as_one_piece(store, varied):
    bot = project2.KbChatBot(store, stream=False)
    pieces: list[str] = []
    outcome = bot.send(DEMO[0], on_text=pieces.append)
    assert outcome.kind == "answer" and len(pieces) == 1
    assert outcome.text == pieces[0] + "\n" + project2.footer(bot.last)


def test_a_locked_index_folder_gives_way_to_a_temporary_one(tmp_path, capsys):
    folder = tmp_path / "locked"
    holder = subprocess.Popen(  # another process (a notebook kernel) holds the folder
        [sys.executable, "-c", "import sys; from qdrant_client import QdrantClient; "
         f"c = QdrantClient(path={str(folder)!r}); print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "ready"
        helpers.setup(project2.LESSON)
        store = project2.open_store(folder)
        assert "临时文件夹" in capsys.readouterr().out
        assert rag.retrieve(DEMO[0], store)  # and it answers
    finally:
        holder.communicate("", timeout=60)


def test_the_program_runs_once_without_a_double_import_warning():
    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "helpers.project2",
                          "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "--index" in out.stdout and "RuntimeWarning" not in out.stderr
