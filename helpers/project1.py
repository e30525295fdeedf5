"""Lesson 06, Project 1: the console chat with Qwen — the reference solution.

    python -m helpers.project1                      # or: make chat
    python -m helpers.project1 --no-stream --budget 2000

The logic is ``ChatBot`` (helpers/chatbot.py: history, streaming, end detection, errors); this
is its shell for a terminal. ``handle_line`` handles one typed line (a /command or a message)
for the console loop (``main``) and for the notebook demo (``run_script``).
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Iterable, Optional

from .chatbot import ASSISTANT, USER, ChatBot, Outcome  # noqa: F401 - lesson 06 reads them here
from .config import KIT_ROOT, ConfigError, check_model, setup
from .conversation import DEFAULT_SYSTEM, Conversation
from .ending import FAREWELL
from .errors import LLMError
from .front_end import set_front_end
from .thinking import ThinkingView

LESSON = "06_project1_chat"  # record mode writes notebooks/recordings/06_project1_chat.json
SAVE_FOLDER = Path("my_chats")  # where /save puts a bare file name (git-ignored)
HELP = """命令：
  /help                显示本帮助
  /reset               清空对话历史，开始新话题
  /history             查看对话历史
  /think               思考模式（--thinking）下：显示或隐藏模型的思考过程
  /save 文件 [--force]  保存对话：.json（可用 Conversation.load 读回）或 .md（便于阅读）；
                       只写文件名时存到 my_chats/ 文件夹；同名文件已存在时加 --force 才覆盖
结束对话：说「再见」「好的我知道了」之类的话，或按 Ctrl-D，或在提示符处按 Ctrl-C。
回答途中按 Ctrl-C：停止这条回答，已收到的部分留在历史里（标记为中断），然后回到提示符。"""
NOT_TEXT = ("（这一行不是有效的 UTF-8 文字，没有发送；对话历史没有变。终端的编码可能是 GBK："
            "请把终端设置为 UTF-8（Windows 可先运行 chcp 65001）后重新输入。）")
AGAIN = "（如果刚才是想停止回答：它已经停了。要结束对话，请再按一次 Ctrl-C，或按 Ctrl-D。）"
REFLEX_SECONDS = 1.5  # a Ctrl-C this soon after the one that stopped an answer was a reflex
_interrupts: list[float] = []  # when each Ctrl-C came


def _on_ctrl_c(signum: int, frame: object) -> None:
    _interrupts.append(time.monotonic())
    raise KeyboardInterrupt


def say(text: str = "", end: str = "\n") -> None:
    print(text, end=end, flush=True)


def handle_line(bot: ChatBot, line: str) -> bool:
    """Handle one typed line (command or message) and print the result; False ends the chat."""
    if line.strip().startswith("/"):
        return run_command(bot, line.strip())
    # Lesson 03b's renderer: the label comes with the first piece of the answer; a thinking
    # model's reasoning is shown dimmed above it (or hidden: /think).
    view = ThinkingView(show_reasoning=getattr(bot, "show_reasoning", True), notebook=False,
                        label=ASSISTANT)
    outcome = bot.send(line, on_text=view.answer, on_reasoning=view.reasoning)
    view.close(outcome.reply if outcome.kind in ("answer", "partial") else None)
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
    elif name == "/think":
        say(toggle_thinking(bot))
    elif name == "/history":
        say(format_history(bot.conversation))
    elif name == "/save":
        say(save_conversation(bot.conversation, argument.strip()))
    else:
        say(f"未知命令 {name}；输入 /help 查看可用命令。")
    return True


def toggle_thinking(bot: ChatBot) -> str:
    """/think: show or hide the reasoning of a thinking model (it never enters the history)."""
    bot.show_reasoning = not getattr(bot, "show_reasoning", True)
    state = "显示" if bot.show_reasoning else "隐藏"
    if not getattr(bot, "thinking", False):
        return f"✓ 之后会{state}思考过程；不过现在没有开思考模式（启动时加 --thinking）。"
    return f"✓ 之后会{state}模型的思考过程（思考内容从不写进对话历史）。"


def format_history(conversation: Conversation) -> str:
    if not conversation.turns:
        return "（还没有对话）"
    lines = [f"系统提示：{conversation.system}"] if conversation.system else []
    for number, turn in enumerate(conversation.turns, start=1):
        label = "用户：" if turn.role == "user" else ASSISTANT
        lines.append(f"{number}. {label}{turn.content}" + ("（回复中断，内容不完整）" if turn.partial else ""))
    return "\n".join(lines)


def save_conversation(conversation: Conversation, argument: str) -> str:
    """/save NAME [--force]: never over an existing file unless forced, never into the course's
    recordings, never through a symbolic link; a bare NAME goes to my_chats/."""
    words = argument.split()
    force = "--force" in words
    name = " ".join(w for w in words if w != "--force")
    if not name:
        return "用法：/save 文件名.json（可读回）或 /save 文件名.md（便于阅读），覆盖已有文件时加 --force"
    path = Path(name).expanduser()
    if len(path.parts) == 1:
        path = SAVE_FOLDER / path
    recordings = (KIT_ROOT / "notebooks" / "recordings").resolve()
    where = path.parent.resolve()
    if where == recordings or recordings in where.parents:
        return "✗ 没有保存：notebooks/recordings/ 是课程的录制文件夹，请换一个位置（例如只写文件名，存到 my_chats/）。"
    try:
        if path.parent == SAVE_FOLDER:
            SAVE_FOLDER.mkdir(exist_ok=True)
        saved = conversation.save(path, overwrite=force)
    except FileExistsError:
        return f"✗ 没有保存：{path} 已经存在，原文件没有改动。请换个文件名，或用 /save {name} --force 覆盖。"
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
    parser = argparse.ArgumentParser(prog="python -m helpers.project1",
                                     description="项目一：和通义千问多轮对话（控制台版）。")
    parser.add_argument("--model", help="模型名（默认取 .env 的 LLM_MODEL，否则 qwen-plus）")
    parser.add_argument("--system", default=DEFAULT_SYSTEM, help="系统提示（默认：课程的导购助手）")
    parser.add_argument("--budget", type=int, help="历史的 token 上限：超出时先丢弃最早的对话")
    parser.add_argument("--no-stream", dest="stream", action="store_false",
                        help="等完整回答生成后一次显示（默认流式输出）")
    parser.add_argument("--thinking", action="store_true",
                        help="开启深度思考（enable_thinking，须流式）：先显示思考过程，再回答")
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
        bot = ChatBot(args.system, args.budget, settings.model, args.stream,
                      thinking=args.thinking)
    except (ConfigError, LLMError, ValueError) as err:
        say(str(err))
        return 2
    say(str(settings))  # mode, model and masked key
    say("输入 /help 查看命令；说「再见」或按 Ctrl-D 结束对话。")
    if hasattr(sys.stdin, "reconfigure"):  # bytes that are not UTF-8 arrive as surrogates
        sys.stdin.reconfigure(errors="surrogateescape")
    signal.signal(signal.SIGINT, _on_ctrl_c)
    while True:
        line = read_line()
        if line is None:  # Ctrl-D, or Ctrl-C at the prompt
            say(FAREWELL)
            return 0
        if not sys.stdin.isatty():  # piped input is not echoed: show it, for a readable log
            say(line)
        try:
            if not handle_line(bot, line):
                return 0
        except KeyboardInterrupt:  # e.g. while the end detector asked the model
            if bot.conversation.turns and bot.conversation.turns[-1].role == "user":
                bot.conversation.pop_last_user()  # unanswered: keep the history consistent
            say("\n（已取消）")


def read_line() -> Optional[str]:
    """The next typed line, or None for Ctrl-D or Ctrl-C. A line that is not valid text gets a
    hint instead; a Ctrl-C right after the one that stopped an answer (a reflex) only asks."""
    while True:
        _interrupts[:-1] = []  # only the Ctrl-C that came during the last line counts
        try:
            line = input(USER)
        except UnicodeDecodeError:
            line = "\udcff"
        except KeyboardInterrupt:
            if len(_interrupts) > 1 and _interrupts[-1] - _interrupts[-2] < REFLEX_SECONDS:
                say("\n" + AGAIN)
                _interrupts.clear()
                continue
            say()
            return None
        except EOFError:
            say()
            return None
        if any("\ud800" <= ch <= "\udfff" for ch in line):  # cannot be sent, nor printed
            say(NOT_TEXT)
            continue
        return line


if __name__ == "__main__":
    set_front_end("console")  # a replay miss says what to type here, not which cell to rerun
    sys.exit(main())
