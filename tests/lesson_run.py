"""Run a lesson notebook in a fresh kernel, optionally with its reference solutions swapped in.

Used by the exercise and varied-replay tests. Runs in replay mode at speed 0 (conftest sets
the environment; the kernel inherits it), so it needs no key and no network.
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers.exercises import load_solutions

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def exercise_ids(nb) -> list[str]:
    return [c.metadata["exercise"] for c in nb.cells if "exercise" in c.metadata]


def with_solutions(nb, lesson: str):
    if not exercise_ids(nb) and not (NOTEBOOKS / "solutions" / f"{lesson}.py").exists():
        return nb  # a lesson without exercises in this convention yet
    solutions = load_solutions(lesson)
    assert sorted(exercise_ids(nb)) == sorted(solutions), "one solution per exercise"
    for cell in nb.cells:
        if "exercise" in cell.metadata:
            cell.source = solutions[cell.metadata["exercise"]]
    return nb


def run_lesson(lesson: str, *, solutions: bool, env: dict[str, str] | None = None):
    """Execute notebooks/<lesson>.ipynb; raises CellExecutionError if any cell raises."""
    nb = nbformat.read(NOTEBOOKS / f"{lesson}.ipynb", as_version=4)
    if solutions:
        with_solutions(nb, lesson)
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=False,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def check_cells(nb) -> dict[str, str]:
    """Exercise id → what its check cell printed."""
    return {c.metadata["exercise_check"]: stdout_of(c) for c in nb.cells
            if "exercise_check" in c.metadata}
