"""Lesson 12 without the optional extra, and its exercise checked against its solution.

With the extra installed, strict nbval (notebooks/12_finetune_deploy.ipynb) re-trains every
LoRA cell and compares the exact-match figures; here the same lesson must run top to bottom
when torch, transformers and peft are absent (``LLM_FINETUNE_EXTRA=off`` makes
``helpers.finetune.available()`` answer as if they were not installed).
"""
from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import finetune as ft

LESSON = Path(__file__).resolve().parents[1] / "notebooks" / "12_finetune_deploy.ipynb"


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_without_the_extra_every_lora_cell_prints_the_install_line(monkeypatch):
    monkeypatch.setenv("LLM_FINETUNE_EXTRA", "off")
    nb = nbformat.read(LESSON, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('import sys\nprint("torch" in sys.modules)'))
    NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=False,
                   resources={"metadata": {"path": str(LESSON.parent)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    lora = [c for c in code if "if READY:" in c.source or "READY = " in c.source]
    assert len(lora) >= 8
    for cell in lora:
        assert ft.INSTALL_HINT in _text(cell), cell.source[:60]
        assert not any(o.output_type == "display_data" for o in cell.outputs)  # no plots
    assert _text(code[-1]).strip() == "False"  # no LoRA code ran: torch was never imported
    platform = next(c for c in code if "dashscope.Files.delete" in c.source)
    assert "删除文件： 200" in _text(platform)  # the API walk-through still ran to the end


def _check_cell() -> str:
    nb = nbformat.read(LESSON, as_version=4)
    return next(c.source for c in nb.cells if 'check("LoRA 参数量"' in c.source)


@pytest.mark.parametrize("answer, mark", [
    (None, "还没完成"),
    ("def lora_trainable(layers, shapes, r):\n    return sum(r * (d + k) for d, k in shapes)",
     "✗"),
    ("solution", "✓"),
])
def test_the_exercise_check_tells_todo_wrong_and_right(answer, mark):
    pytest.importorskip("helpers.exercises")
    from helpers.exercises import load_solutions

    namespace: dict = {}
    if answer is None:
        exec("def lora_trainable(layers, shapes, r):\n    ...", namespace)
    else:
        source = load_solutions(LESSON.stem)["12-1"] if answer == "solution" else answer
        exec(source, namespace)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(_check_cell(), namespace)
    assert mark in out.getvalue()
    assert os.linesep not in out.getvalue().strip()  # one short line, never a traceback
