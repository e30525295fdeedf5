"""Project 1: a multi-turn console chat with Qwen, the reference solution of lesson 06.

    python -m helpers.chat                      # or: make chat
    python -m helpers.chat --no-stream --budget 2000

It assembles the earlier lessons: history (02, Conversation), streaming (03, stream_chat),
end detection (04, EndDetector) and error handling (05, LLMError). ``ChatBot`` is the logic
and never prints; ``handle_line`` handles one typed line for the console loop (``main``) and
the notebook demo (``run_script``); the widget (helpers/widget.py) drives ChatBot directly.
"""
from __future__ import annotations

import argparse
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

from .config import ConfigError, check_model, setup
from .conversation import DEFAULT_SYSTEM, Conversation
from .ending import FAREWELL, EndDetector
from .errors import LLMError
from .llm import Reply, chat, stream_chat

LESSON = "06_project1_chat"  # record/author modes write notebooks/recordings/06_project1_chat.json
USER, ASSISTANT = "你：", "助手："
EMPTY_HINT = "（请输入内容后再按回车；输入 /help 查看命令）"
HELP = """命令：
  /help        显示本帮助
  /reset       清空对话历史，开始新话题
  /history     查看对话历史
  /save 文件   保存对话：.json（可用 Conversation.load 读回）或 .md（便于阅读）
结束对话：说「再见」「好的我知道了」之类的话，或按 Ctrl-D，或在提示符处按 Ctrl-C。
回答途中按 Ctrl-C：停止这条回答，已收到的部分留在历史里（标记为中断），然后回到提示符。"""


@dataclass
class Outcome:
    """What one user message led to. The console prints it; the widget shows it."""

    kind: str  # "answer", "partial" (stopped early), "farewell", "error" or "hint"
    text: str  # the answer, FAREWELL, or a Chinese message for the user
    reply: Optional[Reply] = None


class ChatBot:
    """History + end detection + model calls; no input() and no print()."""

    def __init__(self, system: Optional[str] = DEFAULT_SYSTEM, budget: Optional[int] = None,
                 model: Optional[str] = None, stream: bool = True,
                 detector: Optional[EndDetector] = None) -> None:
        self.conversation = Conversation(system, budget)  # lesson 02
        self.detector = detector or EndDetector("hybrid")  # lesson 04: model only when unsure
        self.model, self.stream = model, stream
        self.ended = False

    def send(self, text: str, on_text: Optional[Callable[[str], None]] = None) -> Outcome:
        """One user message in, one Outcome out; ``on_text`` gets the answer as it arrives."""
        text = text.strip()
        if not text:
            return Outcome("hint", EMPTY_HINT)
        if self.ended:
            return Outcome("hint", "对话已经结束；输入 /reset 开始新的对话。")
        if self.detector.decide(text).ends:  # a clear goodbye costs no model call
            self.conversation.add_user(text)
            return self.end()
        self.conversation.add_user(text)
        try:
            reply = self._ask(on_text)
        except LLMError as err:
            return self._failed(err)
        except KeyboardInterrupt:  # Ctrl-C before the answer started
            self.conversation.pop_last_user()
            return Outcome("hint", "（已取消这次提问）")
        if reply.partial and not reply.text:
            self.conversation.pop_last_user()
            return Outcome("hint", "（回答还没开始就被中断了，这次提问已撤回）")
        self.conversation.add_assistant(reply.text, partial=reply.partial)
        return Outcome("partial" if reply.partial else "answer", reply.text, reply)

    def _ask(self, on_text: Optional[Callable[[str], None]]) -> Reply:
        """Lesson 03: stream by default; --no-stream waits and delivers the answer at once."""
        messages = self.conversation.messages_for_request()  # history within the token budget
        if self.stream:
            return stream_chat(messages, model=self.model, on_text=on_text)
        reply = chat(messages, model=self.model)
        if on_text:
            on_text(reply.text)
        return reply

    def _failed(self, err: LLMError) -> Outcome:
        """Lesson 05: show the Chinese message; the history stays ready for the next question."""
        if err.partial_text:  # a broken stream: keep what arrived, marked, and say so
            self.conversation.add_assistant(err.partial_text, partial=True)
            return Outcome("error", f"{err}\n（上面这段回答不完整，已标记为中断并保留在历史中；"
                                    "可以接着提问，或输入 /reset 重新开始。）")
        self.conversation.pop_last_user()  # the question was not answered: take it back
        return Outcome("error", str(err))

    def end(self) -> Outcome:
        """Say goodbye (also the widget's end button); the farewell joins the history."""
        turns = self.conversation.turns
        if turns and turns[-1].role == "user":
            self.conversation.add_assistant(FAREWELL)
        self.ended = True
        return Outcome("farewell", FAREWELL)

    def reset(self) -> None:
        """Forget the conversation (system prompt and budget stay) and start again."""
        self.conversation.reset()
        self.ended = False


# -- the console ---------------------------------------------------------------


def say(text: str = "", end: str = "\n") -> None:
    print(text, end=end, flush=True)


def handle_line(bot: ChatBot, line: str) -> bool:
    """Handle one typed line (command or message) and print the result; False ends the chat."""
    if line.strip().startswith("/"):
        return run_command(bot, line.strip())
    started = False

    def show(piece: str) -> None:  # the label appears with the first piece of the answer
        nonlocal started
        say("" if started else ASSISTANT, end="")
        say(piece, end="")
        started = True

    outcome = bot.send(line, on_text=show)
    if started:
        say()
    if outcome.kind == "partial":
        say("……[已中断] 这段不完整的回答已保留在历史中（/history 可查看）。")
    elif outcome.kind in ("error", "hint", "farewell"):
        say(outcome.text)
    return outcome.kind != "farewell"


def run_command(bot: ChatBot, command: str) -> bool:
    name, _, argument = command.partition(" ")
    if name == "/help":
        say(HELP)
    elif name == "/reset":
        bot.reset()
        say("✓ 已清空对话历史，可以开始新话题。")
    elif name == "/history":
        say(format_history(bot.conversation))
    elif name == "/save":
        say(save_conversation(bot.conversation, argument.strip()))
    else:
        say(f"未知命令 {name}；输入 /help 查看可用命令。")
    return True


def format_history(conversation: Conversation) -> str:
    if not conversation.turns:
        return "（还没有对话）"
    lines = [f"系统提示：{conversation.system}"] if conversation.system else []
    for number, turn in enumerate(conversation.turns, start=1):
        label = "用户：" if turn.role == "user" else ASSISTANT
        lines.append(f"{number}. {label}{turn.content}" + ("（回复中断，内容不完整）" if turn.partial else ""))
    return "\n".join(lines)


def save_conversation(conversation: Conversation, path: str) -> str:
    if not path:
        return "用法：/save 文件名.json（可读回）或 /save 文件名.md（便于阅读）"
    try:
        saved = conversation.save(Path(path).expanduser())
    except (ValueError, OSError) as exc:
        return f"✗ 保存失败：{exc}"
    return f"✓ 已保存到 {saved}（{len(conversation)} 条消息）"


def run_script(lines: Iterable[str], bot: Optional[ChatBot] = None) -> ChatBot:
    """Play typed lines through the console's own handler, echoing them (notebook demo)."""
    bot = bot or ChatBot()
    for line in lines:
        say(USER + line)
        if not handle_line(bot, line):
            break
    return bot


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m helpers.chat",
                                     description="项目一：和通义千问多轮对话（控制台版）。")
    parser.add_argument("--model", help="模型名（默认取 .env 的 LLM_MODEL，否则 qwen-plus）")
    parser.add_argument("--system", default=DEFAULT_SYSTEM, help="系统提示（默认：课程的导购助手）")
    parser.add_argument("--budget", type=int, help="历史的 token 上限：超出时先丢弃最早的对话")
    parser.add_argument("--no-stream", dest="stream", action="store_false",
                        help="等完整回答生成后一次显示（默认流式输出）")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    try:
        import readline  # noqa: F401 - arrow keys and line history for input(); not on Windows
    except ImportError:
        pass
    try:
        settings = setup(LESSON, model=args.model)
        check_model(settings.model)
        bot = ChatBot(args.system, args.budget, settings.model, args.stream)
    except (ConfigError, LLMError, ValueError) as err:
        say(str(err))
        return 2
    say(str(settings))  # mode, model and masked key
    say("输入 /help 查看命令；说「再见」或按 Ctrl-D 结束对话。")
    while True:
        try:
            line = input(USER)
        except (EOFError, KeyboardInterrupt):  # Ctrl-D or Ctrl-C at the prompt
            say()
            say(FAREWELL)
            return 0
        if not sys.stdin.isatty():  # piped input is not echoed: show it, for a readable log
            say(line)
        try:
            if not handle_line(bot, line):
                return 0
        except KeyboardInterrupt:  # e.g. while the end detector asked the model
            say("\n（已取消）")


class _CallableModule(types.ModuleType):
    """Importing this module rebinds ``helpers.chat`` (the lesson-01 function) to the module;
    calling the module still asks the model, so ``helpers.chat("…")`` keeps working."""

    def __call__(self, *args, **kwargs) -> Reply:  # noqa: ANN002, ANN003
        return chat(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
else:
    sys.modules[__name__].__class__ = _CallableModule
