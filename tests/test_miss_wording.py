"""Issue 18 item 7: a replay miss speaks the language of where the learner reads it.

The console says what to type (/reset, Ctrl-D, make chat) and nothing about cells; the notebook
says which cell to rerun and nothing about /reset. Neither shows a JSON path
(``body.input.messages[1].content``) or a line cut off with 「…」 at the end. Real processes
where learners meet them: a pseudo-terminal for the console, a kernel for the notebook.
"""
from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.front_end import MISS_ADVICE
from helpers.replay.server import plain_difference

JSON_PATH = re.compile(r"\bbody\.|\w\[\d+\]")


def assert_plain(text: str) -> None:
    assert "没有这条请求的录制" in text, text
    assert not JSON_PATH.search(text), text
    cut = [line for line in text.splitlines() if line.rstrip().endswith("…")]
    assert not cut, cut


def test_console_miss_says_what_to_type():
    pexpect = pytest.importorskip("pexpect")  # noqa: F841 - test_chat_pty drives it
    from test_chat_pty import EXAMPLE, NOT_RECORDED, ask, finish, spawn

    child = spawn()
    assert EXAMPLE[0][1] in ask(child, EXAMPLE[0][0])
    out = ask(child, NOT_RECORDED)
    assert_plain(out)
    assert "/reset" in out and "Ctrl-D" in out and "make chat" in out, out
    assert "helpers.setup()" not in out and "单元格" not in out, out
    child.sendeof()
    assert finish(child) == 0


def test_notebook_miss_says_which_cell_to_rerun():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'import helpers\nhelpers.setup("01_first_call")\nhelpers.chat("一个从没录制过的问题")')])
    NotebookClient(nb, kernel_name="python3", timeout=60, allow_errors=True).execute()
    error = nb.cells[0].outputs[-1]
    shown = "\n".join(error["traceback"])
    assert error["output_type"] == "error" and error["ename"] == "LLMError"
    assert_plain(shown)
    assert MISS_ADVICE["notebook"] in shown and "第一个单元格" in shown, shown
    assert "/reset" not in shown and "make chat" not in shown, shown


@pytest.mark.parametrize("where, said", [
    ("body.input.messages[1].content", "第 2 条消息不同"),
    ("body.messages[0]", "第 1 条消息不同"),
    ("body.parameters.seed", "参数 seed 不同"),
    ("body.input.texts（长度 2 ≠ 3）", "参数 texts 不同"),
    ("body", "请求内容不同"),
    (None, None),
])
def test_where_two_requests_differ_is_said_without_a_json_path(where, said):
    assert plain_difference(where) == said
