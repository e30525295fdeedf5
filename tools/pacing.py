"""How long a lesson takes: the one estimate every lesson's 预计用时 is held to (issue 9).

    python tools/pacing.py                      # every lesson in notebooks/
    python tools/pacing.py notebooks/01_*.ipynb

The rule (the same for every lesson; CONTRIBUTING.md repeats it):

* prose: Markdown text is read at 400 characters a minute — whitespace, link targets
  (URLs), HTML tags and Markdown markup characters are not counted;
* code: 12 lines a minute to read and run — every non-blank line of every code cell,
  comments included, except the exercise cells;
* exercises: 8 minutes each, for the learner cell, its hint and its check together
  (cells whose metadata has ``exercise`` or ``exercise_check`` are not counted as code);
* the total is rounded UP to the next 5 minutes: that is the lesson's 预计用时.

Limits checked by tests/test_pacing.py: at most 45 cells and 40 minutes per lesson, no code
cell over 15 lines (blank lines included), and the 预计用时 line states exactly the rounded
estimate.
Deliberately simple and deterministic: it ignores how long cells take to run (replay mode
answers in about the time a live call would) and how long a learner looks at a plot.
"""
from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

PROSE_CHARS_PER_MINUTE = 400
CODE_LINES_PER_MINUTE = 12
MINUTES_PER_EXERCISE = 8
ROUND_TO = 5
MAX_CELLS = 45
MAX_MINUTES = 40
MAX_CELL_LINES = 15

_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_MARKUP = re.compile(r"[\s*`#|>_\-]")
_STATED = re.compile(r"\*\*预计用时\*\*[：:]\s*(\d+)\s*分钟")


def prose_chars(markdown: str) -> int:
    """Characters a reader reads in a Markdown cell."""
    text = _HTML_TAG.sub("", _LINK_TARGET.sub("]", markdown))
    return len(_MARKUP.sub("", text))


def code_lines(source: str) -> int:
    """Non-blank lines of a code cell."""
    return sum(1 for line in source.splitlines() if line.strip())


@dataclass(frozen=True)
class Estimate:
    name: str
    cells: int
    prose_chars: int
    code_lines: int
    exercises: int
    stated: int | None  # the minutes the lesson's 预计用时 line says, if any
    longest_cell: int  # lines of the longest code cell, blank lines included

    @property
    def raw_minutes(self) -> float:
        return (self.prose_chars / PROSE_CHARS_PER_MINUTE
                + self.code_lines / CODE_LINES_PER_MINUTE
                + self.exercises * MINUTES_PER_EXERCISE)

    @property
    def minutes(self) -> int:
        """The estimate rounded up to the next 5 minutes: what 预计用时 should say."""
        return ROUND_TO * math.ceil(round(self.raw_minutes, 6) / ROUND_TO)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def estimate(path: str | Path) -> Estimate:
    """The pacing estimate of one notebook file."""
    path = Path(path)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    chars = lines = 0
    exercises: set[str] = set()
    stated, longest = None, 0
    for cell in cells:
        source, meta = _source(cell), cell.get("metadata", {})
        if cell["cell_type"] == "markdown":
            chars += prose_chars(source)
            found = _STATED.search(source)
            stated = int(found.group(1)) if found and stated is None else stated
        elif cell["cell_type"] == "code":
            longest = max(longest, len(source.rstrip().splitlines()))
            if "exercise" in meta or "exercise_check" in meta:
                exercises.add(str(meta.get("exercise") or meta.get("exercise_check")))
            else:
                lines += code_lines(source)
    return Estimate(path.stem, len(cells), chars, lines, len(exercises), stated, longest)


def table(estimates: list[Estimate]) -> str:
    rows = ["课程                        单元格  文字  代码行  练习  估计  标明",
            "-" * 66]
    for e in estimates:
        stated = f"{e.stated}" if e.stated is not None else "—"
        rows.append(f"{e.name:<28}{e.cells:>5}{e.prose_chars:>7}{e.code_lines:>6}"
                    f"{e.exercises:>6}{e.raw_minutes:>6.1f} → {e.minutes:>2}  {stated:>3}")
    rows.append(f"规则：文字 {PROSE_CHARS_PER_MINUTE} 字/分钟，代码 {CODE_LINES_PER_MINUTE} 行/分钟，"
                f"每个练习 {MINUTES_PER_EXERCISE} 分钟，向上取整到 {ROUND_TO} 分钟")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[1]
    paths = [Path(a) for a in argv] or sorted((root / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
    print(table([estimate(p) for p in paths]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
