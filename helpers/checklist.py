"""Lesson 06: Project 1's requirements as checks that run offline.

``run_checks()`` yields ``(requirement, passed, reason)`` one check at a time (the lesson prints
a line as each finishes). All run in replay mode (live mode is switched to replay meanwhile: no
cost); the console program runs in a replay-mode subprocess, as a learner runs it. Checks look at
properties (the request carried the history, the pieces add up to the answer, the farewell is
exact), never at an answer's wording. ``check_turn(fn)`` checks the learner's ``chat_turn``.
"""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from . import inject_fault
from .chatbot import ChatBot
from .config import KIT_ROOT, current, setup
from .conversation import DEFAULT_SYSTEM, Conversation
from .ending import FAREWELL, EndDetector
from .errors import LLMError
from .exercises import Hint
from .meter import METER
from .project1 import handle_line

EXAMPLE = ["我想买一双鞋，有什么建议吗？请20字以内回答我", "有哪些尺码呢？请20字以内回答我",
           "颜色有什么建议吗", "怎么搭配衣服呢", "好的我知道了"]
LESSON = "06_project1_chat"


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """Replay mode inside the block (recorded answers, no cost), the previous mode after."""
    live = current().mode == "live"
    if live:
        setup(LESSON, mode="replay")
    try:
        yield
    finally:
        if live:
            setup(LESSON)


def console(typed: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``python -m helpers.project1`` in replay mode with ``typed`` as the keyboard input."""
    secret = ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "LLM_MODEL")
    env = {**{k: v for k, v in os.environ.items() if k not in secret}, "LLM_MODE": "replay",
           "LLM_ENV_FILE": "none", "LLM_REPLAY_SPEED": "0", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "helpers.project1", *args], input=typed,
                          env=env, capture_output=True, text=True, encoding="utf-8",
                          cwd=KIT_ROOT, timeout=120)


class _Spy(ChatBot):
    """A ChatBot that remembers the last request it sent."""

    def _ask(self, on_text):  # noqa: ANN001, ANN202 - the same signature as ChatBot._ask
        self.sent = self.conversation.messages_for_request()
        return super()._ask(on_text)


def remembers_history() -> bool:
    spy = _Spy()
    spy.send(EXAMPLE[0])
    first = spy.conversation.messages
    spy.send(EXAMPLE[1])
    return spy.sent == first + [{"role": "user", "content": EXAMPLE[1]}]


def streams() -> bool:
    pieces: list[str] = []
    outcome = ChatBot().send(EXAMPLE[0], on_text=pieces.append)
    return len(pieces) > 1 and "".join(pieces) == outcome.text


def no_stream_option() -> bool:
    bot = ChatBot(stream=False)
    for line in EXAMPLE[:-1]:
        pieces: list[str] = []
        outcome = bot.send(line, on_text=pieces.append)
        if outcome.kind != "answer" or pieces != [outcome.text]:
            return False
    return True


def farewell() -> bool:
    outcome = ChatBot().send(EXAMPLE[-1])
    return (outcome.kind, outcome.text) == ("farewell", FAREWELL)


def goodbye_without_model() -> bool:
    before = len(METER.calls)  # hybrid asks the model only when the rules are unsure
    outcome = ChatBot(detector=EndDetector("hybrid")).send("再见")
    return outcome.kind == "farewell" and len(METER.calls) == before


def survives_errors(bot: ChatBot | None = None, turns: tuple = tuple(EXAMPLE[:2])) -> bool:
    bot = bot or ChatBot()  # lesson 13's checks pass its knowledge-base bot
    bot.send(turns[0])
    history = bot.conversation.messages
    with inject_fault("invalid_key"):
        outcome = bot.send(turns[1])
    return (outcome.kind == "error" and outcome.text.startswith("✗")
            and bot.conversation.messages == history
            and bot.send(turns[1]).kind == "answer")


def empty_input() -> bool:
    bot = ChatBot()
    return bot.send("   ").kind == "hint" and not len(bot.conversation)


def save_and_load() -> bool:
    bot = ChatBot()
    bot.send(EXAMPLE[0])
    handle_line(bot, f"/save {(path := Path(tempfile.mkdtemp()) / 'chat.json')}")
    return Conversation.load(path).messages == bot.conversation.messages


def console_run() -> bool:
    run = console("\n".join(EXAMPLE) + "\n")
    lines = run.stdout.splitlines()
    return (run.returncode == 0 and bool(lines) and "回放模式" in lines[0]
            and "Key" in lines[0] and lines[-1] == FAREWELL and "Traceback" not in run.stderr)


def console_ctrl_d() -> bool:
    run = console("")  # no input at all: the same as pressing Ctrl-D at the first prompt
    return run.returncode == 0 and run.stdout.splitlines()[-1:] == [FAREWELL]


CHECKS: list[tuple[str, Callable[[], bool]]] = [
    ("多轮对话：第二问发送时带上了第一轮的问答（02）", remembers_history),
    ("流式输出：回答分多段到达，拼起来就是完整回答（03）", streams),
    ("--no-stream：每个回答生成完后一次显示", no_stream_option),
    ("用户说「好的我知道了」：回复「感谢您的咨询，再见」（04）", farewell),
    ("明确的告别不调用模型（hybrid 策略）", goodbye_without_model),
    ("请求失败：中文提示，历史不变，对话继续（05）", survives_errors),
    ("空输入：给出提示，不发送请求", empty_input),
    ("/save 导出的 JSON 能用 Conversation.load 读回", save_and_load),
    ("控制台：启动时显示模式、模型和 Key；示例对话后以结束语收尾、退出状态 0", console_run),
    ("控制台：Ctrl-D（输入结束）同样礼貌地结束，退出状态 0", console_ctrl_d),
]


def run_checks() -> Iterator[tuple[str, bool, str]]:
    """(requirement, passed, reason) for each of CHECKS, offline, one at a time."""
    with offline():
        for requirement, check in CHECKS:
            reason = ""
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # the checks' own printing
                    passed = bool(check())
            except Exception as exc:  # noqa: BLE001 - a crash is a failed check, with why
                passed, reason = False, f"出错：{type(exc).__name__}: {exc}"
            yield requirement, passed, reason


@contextlib.contextmanager
def _errors_are_hints() -> Iterator[None]:
    try:
        yield
    except LLMError as err:
        raise Hint(f"请求出错（{str(err)[:40]}…）：出错时返回 (str(err), False)，"
                   "告别这一轮根本不该请求模型") from None


def check_turn(chat_turn: Callable) -> str:
    """The exercise's check: raises Hint (in Chinese) for what is missing; offline."""
    rules = EndDetector("rules")  # sure about these sentences: no model call to decide
    with offline(), _errors_are_hints():
        conv, pieces = Conversation(system=DEFAULT_SYSTEM), []
        answer, ended = chat_turn(conv, EXAMPLE[0], rules, on_text=pieces.append)
        if ended or not answer:
            raise Hint("第一句是提问：应当调用模型回答，返回 (回答, False)")
        if not pieces or "".join(pieces) != answer:
            raise Hint("回答应当流式显示：把 on_text 传给 helpers.stream_chat")
        if len(conv) != 2 or conv.turns[-1].content != answer:
            raise Hint("提问和回答都要记进 conversation（add_user、add_assistant）")
        before = len(METER.calls)
        if chat_turn(conv, EXAMPLE[-1], rules) != (FAREWELL, True):
            raise Hint(f"「{EXAMPLE[-1]}」表示结束：应当返回 (helpers.FAREWELL, True)")
        if len(METER.calls) != before or len(conv) != 4:
            raise Hint("告别这一轮不调用模型，但提问和 FAREWELL 都要记进 conversation")
        failed = Conversation()
        with inject_fault("invalid_key"):
            answer, ended = chat_turn(failed, EXAMPLE[0], rules)
        if not answer.startswith("✗") or ended or len(failed) != 0:
            raise Hint("请求失败时：撤回刚加的提问（pop_last_user），返回 (str(err), False)")
        cut = Conversation()
        with inject_fault("stream_cut", after=2):
            answer, ended = chat_turn(cut, EXAMPLE[0], rules)
        if len(cut) != 2 or not cut.turns[-1].partial or not answer.startswith("✗"):
            raise Hint("流式中途断开时：把 err.partial_text 存为 partial=True 的回答，"
                       "返回 (str(err), False)")
    return "四步都对：结束检测 → 记录历史 → 流式回答 → 出错不丢历史"
