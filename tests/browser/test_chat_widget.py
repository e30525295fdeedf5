"""Lesson 06's chat widget in a real browser: typed questions, streamed answers, the farewell
in view, the disabled input, and stopping an answer with ■ and with 「■ 停止」.

A small notebook written into the suite's temporary copy holds two widgets: one at the
lesson's pacing and one at a quarter of it (LLM_REPLAY_SPEED=0.25), so that a click made at
human speed lands in the middle of an answer.
"""
from __future__ import annotations

import json

import pytest

from . import ui

pytestmark = pytest.mark.browser
Q1, A1 = "我想买一双鞋，有什么建议吗？请20字以内回答我", "先想好用途，再选合脚、舒适透气的款式。"
Q2 = "有哪些尺码呢？请20字以内回答我"
NOT_RECORDED = "你们店晚上几点关门？"
FAREWELL = "感谢您的咨询，再见"
PARTIAL_MARK = "（已中断：回答不完整，已按中断保留在历史中）"
CELLS = [
    'import os\nimport helpers\nfrom helpers.widget import ChatWidget\n\n'
    'helpers.setup("06_project1_chat")\nui = ChatWidget()\nui',
    'os.environ["LLM_REPLAY_SPEED"] = "0.25"  # slower, so a stop lands mid-answer\n'
    'helpers.setup("06_project1_chat")\nslow = ChatWidget()\nslow',
    'print([(t.role, t.content, t.partial) for t in slow.bot.conversation.turns])',
]
NAME = "widget_check.ipynb"
# Where a bubble sits: inside the transcript's scroll box and inside the window.
IN_VIEW_JS = """el => { const r = el.getBoundingClientRect();
  const box = el.closest('[style*="column-reverse"]').getBoundingClientRect();
  return {in_box: r.top >= box.top - 1 && r.bottom <= box.bottom + 1,
          in_window: r.top >= 0 && r.bottom <= window.innerHeight,
          box_height: Math.round(box.height), window_height: window.innerHeight}; }"""


@pytest.fixture(scope="module")
def notebook(lab):
    nb = {"nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "llm-course", "language": "python",
                                      "display_name": "Python 3 (大模型工程化之路)"}},
          "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": s,
                     "outputs": [], "execution_count": None} for i, s in enumerate(CELLS)]}
    (lab.root / NAME).write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    yield lab.open_url(NAME)
    lab.shutdown_kernels()


def started(page, url, output) -> None:
    ui.open_notebook(page, url)
    ui.run_all(page, output, max_shots=0)
    for i in (0, 1):  # both widgets rendered (their views load after the cells finish)
        page.locator(".jp-Notebook .jp-Cell").nth(i).locator(
            ".llm-chat-transcript").wait_for(timeout=60_000)


def ask(cell, text: str) -> None:
    box = cell.locator("input[type=text]")
    box.fill(text)
    box.press("Enter")


@pytest.mark.parametrize("view", ["100", "125"])
def test_course_dialogue_ends_with_farewell_in_view(view, notebook, open_page, output):
    page, console = open_page(view)
    started(page, notebook, output)
    cell = page.locator(".jp-Notebook .jp-Cell").nth(0)
    transcript = cell.locator(".llm-chat-transcript")
    ask(cell, Q1)
    transcript.locator(".llm-chat-answer", has_text=A1).wait_for(timeout=20_000)
    for question in (Q2, NOT_RECORDED):  # a second answer, then a miss explained in Chinese
        count = transcript.locator(".llm-chat-answer, .llm-chat-error").count()
        ask(cell, question)
        transcript.locator(".llm-chat-answer, .llm-chat-error").nth(count).wait_for(
            timeout=20_000)
    assert "没有这条请求的录制" in transcript.locator(".llm-chat-error").inner_text()
    ask(cell, "好的，再见")
    farewell = transcript.locator(".llm-chat-farewell")
    farewell.wait_for(timeout=20_000)
    assert farewell.inner_text().endswith(FAREWELL)
    assert cell.locator("input[type=text]").is_disabled()
    cell.locator(".llm-chat-transcript").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    place = farewell.evaluate(IN_VIEW_JS)
    page.screenshot(path=str(output / f"widget-{view}.png"))
    assert place["in_box"] and place["in_window"], place
    assert "这个聊天窗口：2 次调用" in cell.inner_text()  # its own calls, not the notebook's
    assert not console.errors, console.errors


def stopped_answer(page, cell, stop) -> str:
    """Ask, wait for a few streamed characters, stop, return the transcript's partial bubble."""
    ask(cell, Q1)
    cell.locator(".widget-html .llm-chat-answer", has_text="用途").wait_for(timeout=20_000)
    stop()
    partial = cell.locator(".llm-chat-transcript .llm-chat-partial")
    partial.wait_for(timeout=10_000)
    return partial.inner_text()


def test_toolbar_stop_and_own_stop_button_keep_partial_answer(notebook, open_page, output):
    page, console = open_page("100")
    started(page, notebook, output)
    cell = page.locator(".jp-Notebook .jp-Cell").nth(1)
    interrupt = page.locator("[data-command='notebook:interrupt-kernel']").first

    for name, stop in [("toolbar", interrupt.click),
                       ("button", cell.get_by_role("button", name="■ 停止").click)]:
        text = stopped_answer(page, cell, stop)
        page.screenshot(path=str(output / f"widget-stopped-{name}.png"))
        answer = text.removeprefix("助手：").removesuffix(PARTIAL_MARK)
        assert text.endswith(PARTIAL_MARK), text
        assert A1.startswith(answer) and 0 < len(answer) < len(A1), (name, text)
        history = page.locator(".jp-Notebook .jp-Cell").nth(2)
        history.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        page.wait_for_timeout(1500)
        printed = history.locator(".jp-OutputArea-output").inner_text()
        assert f"('assistant', '{answer}', True)" in printed, printed  # kept, marked
        assert cell.locator("input[type=text]").is_enabled()  # the chat goes on
        cell.get_by_role("button", name="重新开始").click()
        page.wait_for_timeout(500)
    assert not console.errors, console.errors
