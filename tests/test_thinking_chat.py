"""The console chat with a thinking model (`python -m helpers.project1 --thinking`), driven
through a real pseudo-terminal in replay mode: the reasoning is shown dimmed above the answer
(or hidden with /think), the history keeps only answers, and the farewell is exact.

The thinking answers come from notebooks/recordings/03b_thinking_models.json (lesson 03b runs
the same conversation); no key, no .env. Timeouts are generous; nothing here measures time.
"""
from __future__ import annotations

import os
import sys

import pytest

if sys.platform == "win32":  # pexpect.spawn needs a POSIX pseudo-terminal
    pytest.skip("pseudo-terminal tests need POSIX", allow_module_level=True)
pexpect = pytest.importorskip("pexpect")

from console import PROMPT, ROOT, ask, finish  # noqa: E402
from helpers.ending import FAREWELL  # noqa: E402
from test_chat_pty import TIMEOUT, spawn  # noqa: E402  (project 1's console)

SHOE = "我想买一双鞋，有什么建议吗？请20字以内回答我"
SIZES = "有哪些尺码呢？请20字以内回答我"
SHOE_THOUGHT = "用户想买鞋，想要建议"
SHOE_ANSWER = "先想好用途，再选合脚、舒适透气的款式。"
SIZES_ANSWER = "常见35到45码，建议按脚长选或到店试穿。"


def test_thinking_chat_shows_reasoning_then_answer_and_ends_with_the_farewell():
    child = spawn("--thinking")
    shown = ask(child, SHOE)
    assert shown.index("【思考过程】") < shown.index(SHOE_THOUGHT) < shown.index("—— 回答 ——") \
        < shown.index("助手：" + SHOE_ANSWER)
    assert "思考首字" in shown and "回答首字" in shown  # both times to first token
    # The second request carries the first answer only: a history holding the reasoning
    # would not match the recording, and replay would say so instead of answering.
    assert "助手：" + SIZES_ANSWER in ask(child, SIZES)
    history = ask(child, "/history")
    assert SHOE_ANSWER in history and SIZES_ANSWER in history and SHOE_THOUGHT not in history
    child.sendline("好的我知道了")
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


def test_think_hides_the_reasoning_but_not_the_answer():
    child = spawn("--thinking")
    assert "隐藏" in ask(child, "/think")
    shown = ask(child, SHOE)
    assert SHOE_THOUGHT not in shown and "思考中" in shown and "助手：" + SHOE_ANSWER in shown
    child.sendline("再见")
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


def test_ctrl_c_while_thinking_keeps_nothing_and_says_so():
    child = spawn("--thinking", speed="1")  # real pacing: seconds of reasoning to interrupt
    child.sendline(SHOE)
    child.expect_exact("【思考过程】")
    child.sendintr()
    child.expect_exact("思考时被中断")
    child.expect_exact(PROMPT)
    assert SHOE_ANSWER not in child.before
    assert "还没有对话" in ask(child, "/history")  # the question was taken back
    child.sendeof()
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


def test_thinking_needs_streaming():
    env = {k: v for k, v in os.environ.items() if k not in ("DASHSCOPE_API_KEY", "LLM_MODEL")}
    env.update(LLM_MODE="replay", LLM_REPLAY_SPEED="0", LLM_ENV_FILE="none", TERM="dumb",
               PYTHONIOENCODING="utf-8")
    child = pexpect.spawn(sys.executable, ["-m", "helpers.project1", "--thinking", "--no-stream"],
                          cwd=str(ROOT), env=env, encoding="utf-8", timeout=TIMEOUT)
    child.expect_exact("思考模式只能流式输出")
    assert finish(child) == 2
