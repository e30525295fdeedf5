"""Pacing (issue 9): one estimate for every lesson (tools/pacing.py states the rule).

PACED_LESSONS is every lesson, all held to it: at most 45 cells, at most 40 minutes, no code
cell over 15 lines, and the 预计用时 line says exactly the rounded estimate.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("pacing", ROOT / "tools" / "pacing.py")
pacing = importlib.util.module_from_spec(_spec)
sys.modules["pacing"] = pacing  # dataclasses look their module up
_spec.loader.exec_module(pacing)

PACED_LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))


def test_the_rule_counts_what_it_says(tmp_path):
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {},
         "source": "# 第 99 课\n\n**预计用时**：5 分钟\n\n[链接](https://example.com/a/very/long)"},
        {"cell_type": "code", "metadata": {}, "source": "a = 1\n\n# comment\nb = 2\n"},
        {"cell_type": "code", "metadata": {"exercise": "99-1"}, "source": "x = ...\n"},
        {"cell_type": "code", "metadata": {"exercise_check": "99-1"}, "source": "check(x)\n"},
    ]}
    path = tmp_path / "99_demo.ipynb"
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    e = pacing.estimate(path)
    assert (e.cells, e.code_lines, e.exercises, e.stated, e.longest_cell) == (4, 3, 1, 5, 4)
    assert e.prose_chars == len("第99课预计用时：5分钟[链接]")  # no URL, no markup, no spaces
    assert round(e.raw_minutes, 3) == round(e.prose_chars / 400 + 3 / 12 + 8, 3)
    assert e.minutes == 10  # 8.3 minutes rounds up to the next 5


@pytest.mark.parametrize("lesson", PACED_LESSONS)
def test_lesson_fits_the_pace(lesson):
    e = pacing.estimate(ROOT / "notebooks" / f"{lesson}.ipynb")
    assert e.cells <= pacing.MAX_CELLS, f"{e.cells} cells"
    assert e.minutes <= pacing.MAX_MINUTES, f"about {e.raw_minutes:.1f} minutes"
    assert e.longest_cell <= pacing.MAX_CELL_LINES, f"a code cell of {e.longest_cell} lines"
    assert e.stated == e.minutes, f"预计用时 says {e.stated}, the estimate is {e.minutes}"
