"""What a learner does in JupyterLab, as Playwright steps: open, clear, run all, wait, save."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

# Lumino puts each menu item's command on the element.
RUN_ALL = 'li.lm-Menu-item[data-command="runmenu:run-all"]'
CLEAR_ALL = ('li.lm-Menu-item[data-command="editmenu:clear-all"], '
             'li.lm-Menu-item[data-command="notebook:clear-all-cell-outputs"]')
SAVE = 'li.lm-Menu-item[data-command="docmanager:save"]'

# For each cell (numbered as in the file, from 0): a code cell's prompt ("[3]:", "[*]:",
# "[ ]:") and the length of its outputs' text (widgets included); null for Markdown.
_STATE_JS = """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(c =>
    c.classList.contains('jp-CodeCell') ? [
    (c.querySelector('.jp-InputPrompt') || {}).innerText || '',
    ((c.querySelector('.jp-Cell-outputArea') || {}).innerText || '').length] : null)"""

# Code editors, outputs and rendered Markdown wider than their box (cut off at the right
# edge, or only readable by scrolling sideways). A deliberate scroll box inside an output
# holds its overflow, so the output around it does not overflow.
OVERFLOW_JS = """() => {
  const found = [];
  const boxes = [['代码', '.jp-InputArea-editor .cm-scroller'],
                 ['输出', '.jp-OutputArea-output'], ['Markdown', '.jp-MarkdownOutput']];
  document.querySelectorAll('.jp-Notebook .jp-Cell').forEach((cell, index) => {
    for (const [kind, selector] of boxes) {
      for (const el of cell.querySelectorAll(selector)) {
        if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
          found.push({cell: index, kind, scroll: el.scrollWidth, client: el.clientWidth,
                      text: (el.innerText || '').trim().split('\\n')[0].slice(0, 60)});
        }
      }
    }
  });
  return found;
}"""


def menu(page, top: str, item: str) -> None:
    """Click a main-menu entry, as a learner does (Run ▸ Run All Cells)."""
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})  # the notebook is current
    page.locator(".lm-MenuBar-item", has_text=top).first.click()
    entry = page.locator(f".lm-Menu {item}").first
    entry.wait_for(state="visible")
    page.wait_for_timeout(150)
    entry.click()
    page.wait_for_timeout(150)


def open_notebook(page, url: str, timeout: float = 60) -> None:
    page.goto(url, timeout=timeout * 1000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout * 1000)
    # Kernel started and idle: the toolbar's kernel status shows the kernel's name.
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=timeout * 1000)
    page.wait_for_timeout(300)  # outputs and fonts settle


def scroll_to_top(page) -> None:
    page.evaluate("() => { const p = document.querySelector('.jp-WindowedPanel-outer');"
                  " if (p) p.scrollTop = 0; }")
    page.wait_for_timeout(200)


@dataclass
class Run:
    seconds: float = 0.0
    prompts: dict = field(default_factory=dict)  # cell index -> prompt
    growth: dict = field(default_factory=dict)  # cell index -> [(output length, screenshot)]


def run_all(page, shots: Path, timeout: float = 240, max_shots: int = 4) -> Run:
    """Clear outputs, Run ▸ Run All Cells, watch the running cell until the kernel rests.

    While a cell runs, each time its output text grows a screenshot of the cell is taken
    (at most ``max_shots`` per cell): that is how a streamed answer is seen to grow.
    """
    menu(page, "Edit", CLEAR_ALL)
    page.wait_for_timeout(300)
    run, started = Run(), time.monotonic()
    menu(page, "Run", RUN_ALL)
    last: dict[int, int] = {}
    quiet_since = None
    while time.monotonic() - started < timeout:
        state = page.evaluate(_STATE_JS)
        running = [i for i, cell in enumerate(state) if cell and "*" in cell[0]]
        if running:
            quiet_since = None
            i, length = running[0], state[running[0]][1]
            shots_of_cell = run.growth.setdefault(i, [])
            if length > last.get(i, 0) and len(shots_of_cell) < max_shots:
                path = shots / f"stream-cell{i:02d}-{len(shots_of_cell) + 1}.png"
                cell = page.locator(".jp-Notebook .jp-Cell").nth(i)
                try:
                    cell.screenshot(path=str(path), timeout=5000)
                    shots_of_cell.append((length, path.name))
                except Exception:  # noqa: BLE001 - the cell re-rendered mid-shot; try next poll
                    pass
            last[i] = length
        else:  # nothing runs: all done, or Run All stopped at an error
            quiet_since = quiet_since or time.monotonic()
            done = all(cell[0].strip()[1:2].isdigit() for cell in state if cell)
            if time.monotonic() - quiet_since > (0.6 if done else 5.0):
                break
        page.wait_for_timeout(120)
    run.seconds = time.monotonic() - started
    run.prompts = {i: cell[0].strip() for i, cell in enumerate(page.evaluate(_STATE_JS))
                   if cell}
    run.growth = {i: s for i, s in run.growth.items() if len(s) > 1}
    return run


def save(page) -> None:
    menu(page, "File", SAVE)
    page.wait_for_timeout(600)
