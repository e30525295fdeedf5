"""The course's console programs in a real pseudo-terminal, as a learner meets them.

One way to start them (replay mode, no key, no ``.env``, a wide terminal), type a line and
wait for the prompt, and see them end: tests/test_chat_pty.py (project 1),
tests/test_project2_pty.py (project 2) and tests/test_thinking_chat.py use it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

import pexpect

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "你："
# Variables of the developer's shell that would take the program out of plain replay mode.
NOT_INHERITED = ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "LLM_MODEL", "LLM_RECORDINGS",
                 "LLM_REPLAY_VARIED")


def console_env(speed: str = "0") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    # TERM=dumb: readline prints no bracketed-paste escapes around the prompt.
    env.update(LLM_MODE="replay", LLM_REPLAY_SPEED=speed, LLM_ENV_FILE="none", TERM="dumb",
               PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1")
    return env


def start(program: Sequence[str], banner: Sequence[str], *, speed: str = "0",
          cwd: Path = ROOT, timeout: float = 60) -> "pexpect.spawn":
    """Run ``python PROGRAM...``; wait for the replay banner, each ``banner`` text, the prompt.

    ``timeout`` is for a slow CI machine, not a speed requirement."""
    child = pexpect.spawn(sys.executable, list(program), cwd=str(cwd), env=console_env(speed),
                          encoding="utf-8", codec_errors="replace", timeout=timeout,
                          dimensions=(40, 200))  # replace: the terminal echoes GBK bytes too
    child.expect("回放模式")  # str(settings) first: mode, model, key
    for text in banner:
        child.expect_exact(text)
    child.expect_exact(PROMPT)
    return child


def ask(child: "pexpect.spawn", line: str) -> str:
    """Type a line, wait for the next prompt, return what was printed in between."""
    child.sendline(line)
    child.expect_exact(PROMPT)
    return child.before


def finish(child: "pexpect.spawn") -> int:
    """Wait for the program to end; no traceback on the way out. Its exit status."""
    child.expect(pexpect.EOF)
    child.close()
    assert "Traceback" not in (child.before or "")
    return child.exitstatus
