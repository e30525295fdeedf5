"""What a student reads on a projector (issue 22), checked on every lesson notebook:

- no cell source holds an ``NBVAL_`` comment: nbval reads its markers from cell tags
  (``nbval-ignore-output``, ``nbval-skip``, ``raises-exception``), which keep the source clean;
- every such tag says why, in cell metadata ``"nbval_reason"`` (CONTRIBUTING.md, "nbval rules");
- no code-cell line is over 88 columns wide (JupyterLab at 1280×800 cuts it at the right
  edge); a wide or fullwidth character (Chinese, ``，``) takes two columns, as in the editor;
- no stored output shows a raw ``GenerationResponse(`` or ``Reply(`` repr;
- at most 45 cells per lesson (issue 9's pacing).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.listing import display_width

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# Every lesson, whoever wrote it: 00_…, 03b_…, 10_… (a letter after the number is a sub-lesson).
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))
NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip", "nbval-check-output", "raises-exception",
              "nbval-raises-exception"}
MAX_LINE = 88
MAX_CELLS = 45
# A dataclass-style repr (``Reply(text=...``), not a constructor call in a shown source listing.
RAW_REPRS = re.compile(r"\b(GenerationResponse|Reply)\((text|status_code|request_id|output)=")


def load(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(value) -> str:
    return "".join(value) if isinstance(value, list) else (value or "")


def stored_texts(cell: dict):
    """Every text a stored output would show: streams, plain/markdown/html reprs, errors."""
    for output in cell.get("outputs", []):
        yield text(output.get("text"))
        for mime, value in (output.get("data") or {}).items():
            if mime.startswith("text/"):
                yield text(value)
        yield "\n".join(output.get("traceback", []))


def lessons(test):
    return pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)(test)


def test_every_lesson_is_collected():
    stems = [p.stem for p in LESSONS]
    assert "00_environment_check" in stems and "06_project1_chat" in stems, stems


@lessons
def test_no_nbval_comment_in_any_cell_source(path: Path):
    found = [i for i, cell in enumerate(load(path)) if "NBVAL_" in text(cell["source"])]
    assert not found, (f"cells {found}: move the NBVAL_ marker to a cell tag "
                       "(nbval-ignore-output, nbval-skip, raises-exception) and its reason to "
                       'metadata "nbval_reason"')


@lessons
def test_every_nbval_tag_says_why_in_the_cell_metadata(path: Path):
    silent = []
    for i, cell in enumerate(load(path)):
        tags = set(cell.get("metadata", {}).get("tags", [])) & NBVAL_TAGS
        reason = str(cell.get("metadata", {}).get("nbval_reason", "")).strip()
        if tags and len(reason) < 8:
            silent.append((i, sorted(tags)))
    assert not silent, f'tagged cells without a "nbval_reason" (≥ 8 characters): {silent}'


@lessons
def test_no_code_line_over_88_columns(path: Path):
    long = [(i, n + 1, display_width(line)) for i, cell in enumerate(load(path))
            if cell["cell_type"] == "code"
            for n, line in enumerate(text(cell["source"]).splitlines())
            if display_width(line) > MAX_LINE]
    assert not long, f"(cell, line, columns) over {MAX_LINE} columns: {long}"


@lessons
def test_no_raw_response_or_reply_repr_in_stored_outputs(path: Path):
    raw = [(i, m.group(0)) for i, cell in enumerate(load(path)) if cell["cell_type"] == "code"
           for shown in stored_texts(cell) for m in [RAW_REPRS.search(shown)] if m]
    assert not raw, f"raw reprs in stored outputs (show the content instead): {raw}"


@lessons
def test_at_most_45_cells(path: Path):
    assert len(load(path)) <= MAX_CELLS, f"{len(load(path))} cells (split the lesson or merge)"


# --- the checks themselves can fail (a check that cannot fail is a defect) ------------------
def test_the_checks_catch_what_they_are_for(tmp_path: Path):
    bad = {"cells": [
        {"cell_type": "code", "metadata": {"tags": ["nbval-ignore-output"]},
         "source": ["# NBVAL_IGNORE_OUTPUT\n", "x = '" + "长" * 90 + "'\n"],
         "outputs": [{"output_type": "execute_result",
                      "data": {"text/plain": "Reply(text='你好', usage=None)"}}]},
    ] * (MAX_CELLS + 1)}
    path = tmp_path / "99_bad.ipynb"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    for check in (test_no_nbval_comment_in_any_cell_source,
                  test_every_nbval_tag_says_why_in_the_cell_metadata,
                  test_no_code_line_over_88_columns,
                  test_no_raw_response_or_reply_repr_in_stored_outputs, test_at_most_45_cells):
        with pytest.raises(AssertionError):
            check(path)


def test_the_width_check_counts_a_chinese_character_as_two_columns(tmp_path: Path):
    def notebook(line: str) -> Path:
        path = tmp_path / "99_width.ipynb"
        path.write_text(json.dumps({"cells": [
            {"cell_type": "code", "metadata": {}, "source": [line + "\n"], "outputs": []},
        ]}, ensure_ascii=False), encoding="utf-8")
        return path

    wide = "print('" + "长" * 41 + "，')"  # 51 characters, 93 columns
    assert len(wide) <= MAX_LINE < display_width(wide)
    with pytest.raises(AssertionError):
        test_no_code_line_over_88_columns(notebook(wide))
    one_over = "print('" + "长" * 40 + "')"  # 49 characters, 89 columns: one too many
    assert display_width(one_over) == MAX_LINE + 1
    with pytest.raises(AssertionError):
        test_no_code_line_over_88_columns(notebook(one_over))
    test_no_code_line_over_88_columns(notebook("print('" + "长" * 39 + "1')"))  # 88 columns
