"""Every lesson keeps the course template and the nbval conventions (CONTRIBUTING.md)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted(  # NN_name, and NNb_name for a lesson's second part (04b)
    (Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
SECTIONS = ("学习目标", "前置知识", "预计用时", "小结", "练习", "下一步")
NBVAL_MARKERS = {"NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION", "NBVAL_SKIP"}


def cells(path: Path, kind: str) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == kind]


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def lesson_id(path: Path) -> str:
    """"04" for 04_end_detection.ipynb, "04b" for its second part 04b_end_detection_compare."""
    return path.name.split("_", 1)[0]


def test_all_lessons_are_there():
    ids = [lesson_id(p) for p in NOTEBOOKS]
    assert all(re.fullmatch(r"\d\d[b-z]?", i) for i in ids), ids  # NN, or NNb for a part two
    numbers = [i[:2] for i in ids]
    assert sorted(set(numbers))[:7] == ["00", "01", "02", "03", "04", "05", "06"]
    assert ids == sorted(set(ids)), "one notebook per lesson id"
    assert all(i[:2] in numbers for i in ids if len(i) == 3), "a part two follows its lesson"
    assert set(numbers) <= {f"{n:02d}" for n in range(0, 14)}  # wave 2: lessons 07-13


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_follows_the_template(path: Path):
    markdown = "\n".join(source(c) for c in cells(path, "markdown"))
    assert re.match(rf"# 第 {lesson_id(path)} 课：", markdown), "title: # 第 NN 课：…"
    missing = [s for s in SECTIONS if s not in markdown]
    assert not missing, f"missing sections: {missing}"
    first_code = source(cells(path, "code")[0])
    assert "import helpers" in first_code
    assert f'helpers.setup("{path.stem}")' in first_code, "setup() names the lesson's recordings"
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "llm-course"  # the kernel make lab registers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_has_stored_outputs_to_compare(path: Path):
    unrun = [i for i, c in enumerate(cells(path, "code")) if c.get("execution_count") is None]
    assert not unrun, f"cells never executed (nbval would compare nothing): {unrun}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_markers_are_real_markers_with_a_reason(path: Path):
    for i, cell in enumerate(cells(path, "code")):
        lines = [line.strip() for line in source(cell).splitlines()]
        for n, line in enumerate(lines):
            if "NBVAL_" not in line or not line.startswith("#"):
                continue
            marker = line.lstrip("#").strip()
            # nbval ignores "# NBVAL_IGNORE_OUTPUT: why" silently: the marker must stand alone.
            assert marker in NBVAL_MARKERS, f"code cell {i}: {line!r} is not an nbval marker"
            if marker == "NBVAL_IGNORE_OUTPUT":
                reason = lines[n + 1] if n + 1 < len(lines) else ""
                assert reason.startswith("#") and len(reason) > 8, \
                    f"code cell {i}: say why on the comment line after {marker}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_path_hacks_and_no_tracebacks_in_stored_outputs(path: Path):
    for i, cell in enumerate(cells(path, "code")):
        text = source(cell)
        assert "sys.path" not in text and "os.chdir" not in text, f"code cell {i}"
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"code cell {i} stored a traceback"
