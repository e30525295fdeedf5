"""Every lesson, the way a learner meets it: opened in JupyterLab in Chromium, Run All Cells.

Per lesson: no error output (except cells tagged ``raises-exception``), every code cell
finished with an execution count, no browser console error, a lesson that streams shows a
streamed answer growing over at least three screenshots, and screenshots of the first
screen, a plot, a table and the code cell with the longest line at 1280×800 and at 125%
zoom under tests/browser/output/, and no code, output or Markdown box wider than its column
at either size (written to ``overflow-<view>.json`` per lesson and summed up in
``output/overflow.md``; BROWSER_STRICT_OVERFLOW=0 reports them without failing). At 125%
with the file browser open a code cell holds about 75 columns: the kit's JupyterLab settings
wrap long code lines (jupyter/overrides.json) instead of cutting them off.
"""
from __future__ import annotations

import json
import os
import re
import time

import pytest

from helpers.listing import display_width

from . import ui
from .lab import VIEWS, lessons

pytestmark = pytest.mark.browser
LESSONS = lessons()
# A lesson that shows a streamed answer to the learner: 03's print_stream/markdown_stream,
# 06's run_script and chat widget (and any new lesson that uses them). These run at
# PACED speed, where the growth is checked; the rest run without delays, as under nbval.
STREAMS = re.compile(r"print_stream\(|markdown_stream\(|stream_thinking\(|run_script\("
                     r"|ChatWidget\(")
PACED = os.environ.get("BROWSER_PACED_SPEED", "1")


def code_cells(nb: dict):
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def streams(nb: dict) -> bool:
    return any(STREAMS.search("".join(c["source"])) for _, c in code_cells(nb))


def shoot(page, selector: str, path) -> bool:
    """An element screenshot of the first match, if there is one."""
    found = page.locator(selector)
    if not found.count():
        return False
    found.first.scroll_into_view_if_needed()
    found.first.screenshot(path=str(path))
    return True


def zoom(page, view: str) -> None:
    """Browser zoom on an open tab: the window's CSS size and pixel ratio of lab.VIEWS."""
    options = VIEWS[view]
    page.set_viewport_size(options["viewport"])
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setDeviceMetricsOverride", {
        **options["viewport"], "deviceScaleFactor": options["device_scale_factor"],
        "mobile": False})
    page.wait_for_timeout(500)  # JupyterLab lays itself out again


def widest_code_cell(nb: dict) -> int:
    """Position of the code cell with the longest line (in display columns: CJK counts 2)."""
    return max(code_cells(nb), key=lambda ic: max(
        (display_width(line) for line in "".join(ic[1]["source"]).splitlines()), default=0))[0]


def look(page, folder, view: str, nb: dict) -> list[dict]:
    """First screen, one plot, one table, the widest code; the boxes wider than their column."""
    ui.scroll_to_top(page)
    page.screenshot(path=str(folder / f"first-{view}.png"))
    shoot(page, ".jp-OutputArea-output img", folder / f"plot-{view}.png")
    shoot(page, ".jp-OutputArea-output table, .jp-MarkdownOutput table",
          folder / f"table-{view}.png")
    cell = page.locator(".jp-Notebook .jp-Cell").nth(widest_code_cell(nb))
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputArea").screenshot(path=str(folder / f"code-{view}.png"))
    return page.evaluate(ui.OVERFLOW_JS)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem.split("_")[0] for p in LESSONS])
def test_lesson_runs_in_jupyterlab(path, labs, open_page, output):
    folder = output / path.stem
    folder.mkdir(parents=True, exist_ok=True)
    for old in [*folder.glob("*.png"), *folder.glob("*.json")]:
        old.unlink()
    nb = json.loads(path.read_text(encoding="utf-8"))
    # Realistic pacing where streaming is checked; elsewhere no delays, as under nbval.
    lab = labs(PACED if streams(nb) else "0")
    started = time.monotonic()
    page, console = open_page("100")
    ui.open_notebook(page, lab.open_url(path.name))
    run = ui.run_all(page, folder)
    ui.save(page)
    nb = json.loads((lab.root / path.name).read_text(encoding="utf-8"))

    unfinished = {i: run.prompts.get(i) for i, _ in code_cells(nb)
                  if not (run.prompts.get(i) or "")[1:2].isdigit()}
    errors = {i: f"{o.get('ename')}: {o.get('evalue')}"[:200] for i, c in code_cells(nb)
              for o in c.get("outputs", []) if o["output_type"] == "error"
              and "raises-exception" not in c["metadata"].get("tags", [])}
    stderr = {i: "".join(o["text"])[:200] for i, c in code_cells(nb)
              for o in c.get("outputs", []) if o.get("name") == "stderr"}
    overflow = {"100": look(page, folder, "100", nb)}
    zoom(page, "125")  # the same tab at 125%: no second kernel connection
    overflow["125"] = look(page, folder, "125", nb)
    page.close()
    for view, found in overflow.items():
        (folder / f"overflow-{view}.json").write_text(
            json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
    lab.shutdown_kernels()
    growing = {i: s for i, s in run.growth.items() if len(s) >= 3
               and all(a[0] < b[0] for a, b in zip(s, s[1:]))}
    result = dict(seconds=round(time.monotonic() - started, 1), run_all=round(run.seconds, 1),
                  streamed=sorted(growing), stderr=sorted(stderr), overflow=overflow)
    (folder / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
    _write_summary(output)

    assert not errors, f"{path.name}: error output in cells {errors}"
    assert not unfinished, f"{path.name}: cells that did not finish: {unfinished}"
    assert not console.errors, f"browser console errors: {console.errors}"
    if streams(nb):
        assert growing, (f"{path.name}: no streamed answer grew over 3 screenshots "
                         f"(seen: {run.growth})")
    if os.environ.get("BROWSER_STRICT_OVERFLOW", "1") != "0":
        assert not any(overflow.values()), f"{path.name}: wider than the column: {overflow}"


def _write_summary(output) -> None:
    lines = ["# Browser suite: boxes wider than their column (scrollWidth > clientWidth)", "",
             "Cells are numbered as in the file, from 0. 100 = 1280×800, 125 = 125% zoom.", ""]
    for found in sorted(output.glob("*/result.json")):  # every lesson of this run so far
        stem, r = found.parent.name, json.loads(found.read_text(encoding="utf-8"))
        lines.append(f"## {stem} — {r['seconds']} s (Run All {r['run_all']} s), "
                     f"streamed cells {r['streamed']}, stderr cells {r['stderr']}")
        for view, found in r["overflow"].items():
            for f in found:
                lines.append(f"- {view}%: cell {f['cell']} {f['kind']} "
                             f"{f['scroll']}>{f['client']} px: `{f['text']}`")
        lines.append("")
    (output / "overflow.md").write_text("\n".join(lines), encoding="utf-8")
