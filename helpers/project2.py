"""Lesson 13, Project 2 (项目二：企业知识库客服): Project 1's chat answering from the store's
knowledge base with sources, honest refusals and the same polite ending. ``python -m
helpers.project2`` (``make chat2``). ``KbChatBot`` is helpers/chatbot.py's ChatBot (history, end
detection, errors) whose one model call, ``_ask``, becomes lesson 10's RAG (helpers/rag.py); the
console reuses helpers/project1.py and adds ``/sources``; lesson 06's ChatWidget takes a KbChatBot.
"""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Optional

from . import project1, rag
from .chatbot import USER, ChatBot, Outcome
from .config import ConfigError, check_model, setup
from .ending import FAREWELL
from .errors import LLMError
from .llm import Reply, chat, stream_chat
from .retrieval import KB, Hit, chunk_documents, load_documents

LESSON = "13_project2_kb_chat"  # record mode writes notebooks/recordings/13_project2_kb_chat.json
INDEX = KB.parent / "kb_index"  # the lessons' index folder (git-ignored), its own collection
COLLECTION, DIMENSION = "project2", 256  # lessons 09-10 measured retrieval at 256 dimensions
NO_ANSWER = ("（知识库里没有找到足够相关的资料，所以不作回答，以免给出不准确的信息。"
             "可以换个问法，或输入 /sources 查看检索到了什么。）")
SOURCES_HELP = "  /sources             查看上一个回答检索到的资料（文档、小节、相似度）"
HELP = project1.HELP.replace("\n结束对话", f"\n{SOURCES_HELP}\n结束对话", 1)


def open_store(folder: Optional[Path] = None,
               progress: Optional[Callable[[int, int], None]] = None):
    """The knowledge base chunked by heading and indexed (only changed documents re-embedded);
    a folder locked by another process (a notebook kernel) gives way to a temporary one."""
    from .vectors import VectorStore

    try:
        store = VectorStore(folder or INDEX, collection=COLLECTION, dimension=DIMENSION)
    except LLMError:
        project1.say("（索引文件夹正被另一个程序使用，这次在临时文件夹里建立索引。）")
        store = VectorStore(tempfile.mkdtemp(prefix="kb-index-"), collection=COLLECTION,
                            dimension=DIMENSION)
    store.add(chunk_documents(load_documents()), progress=progress)
    return store


def describe_store(store) -> str:
    """「知识库：32 篇文档，112 块；向量：…」 — what the index holds and who computed it."""
    points = store.client.scroll(store.collection, limit=1000)[0]
    return (f"知识库：{len({p.payload['doc'] for p in points})} 篇文档，{len(points)} 块；"
            f"向量：{points[0].payload['method'] if points else '？'}")


def split_turns(messages: list[dict]) -> tuple[str, list[dict]]:
    """(the newest user message, the turns before it without the system prompt)."""
    turns = [m for m in messages if m["role"] != "system"]
    return turns[-1]["content"], turns[:-1]


def ask_kb(question: str, history: list[dict], store,
           on_text: Optional[Callable[[str], None]] = None, *, model: Optional[str] = None,
           stream: bool = True) -> tuple[rag.RagAnswer, Reply]:
    """Lesson 10's steps through rag's public API, keeping the model's Reply (partial, usage):
    rewrite → retrieve → (refuse before any call | four-part prompt → answer) → RagAnswer.
    The answer streams in this thread, as in Project 1, so a stop (Ctrl-C, the widget's ■)
    keeps exactly what was shown."""
    show = on_text or (lambda piece: None)
    query = rag.rewrite_question(question, history, model=model)
    hits = rag.retrieve(query, store)
    if not hits:  # nothing relevant enough: no model call
        reply = Reply(rag.REFUSAL, "stop", model=model or "")
        show(reply.text)
    elif stream:
        reply = stream_chat(rag.build_messages(question, hits, history=history), model=model,
                            on_text=show)
    else:
        reply = chat(rag.build_messages(question, hits, history=history), model=model)
        show(reply.text)
    return rag.judge(reply.text, query, hits), reply  # refused? which chunks cited?


def footer(answer: rag.RagAnswer) -> str:
    """What follows an answer: its sources (document › section), or why it was not given."""
    return NO_ANSWER if answer.refused else rag.format_sources(answer.sources)


class KbChatBot(ChatBot):
    """Project 1's ChatBot whose model call is RAG over the knowledge base."""

    def __init__(self, store, **options) -> None:
        options.setdefault("system", rag.SYSTEM)  # what /history shows; rag builds the prompt
        super().__init__(**options)
        self.store = store
        self.last: Optional[rag.RagAnswer] = None  # the last answer given, for /sources
        self.seen: list[Hit] = []  # every candidate the search behind it returned
        self._found: list[Hit] = []  # what the latest search returned
        self.note = ""  # the footer of the answer just given ("" otherwise)
        self._pending: Optional[rag.RagAnswer] = None

    def send(self, text: str, on_text: Optional[Callable[[str], None]] = None,
             **more) -> Outcome:
        """ChatBot.send, plus /sources, and the footer (sources or refusal) under an answer."""
        self.note = ""
        if text.strip() == "/sources":
            return Outcome("hint", self.sources())
        self._pending = None
        outcome = super().send(text, on_text, **more)
        if self._pending is None or outcome.kind not in ("answer", "partial"):
            return outcome
        self.last, self.seen = self._pending, self._found
        self.note = footer(self.last)
        return Outcome(outcome.kind, f"{outcome.text}\n{self.note}", outcome.reply)

    def _ask(self, on_text: Optional[Callable[[str], None]], *more) -> Reply:
        question, history = split_turns(self.conversation.messages_for_request())
        self._pending, reply = ask_kb(question, history, self, on_text,  # self.search below
                                      model=self.model, stream=self.stream)
        return reply

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The store's search, remembering what it found (for /sources: no second search)."""
        self._found = self.store.search(query, k)
        return self._found

    def sources(self) -> str:
        """/sources: the search behind the last answer, every candidate and what became of it."""
        if self.last is None:
            return "（还没有回答过问题，没有检索记录。）"
        used = {h.chunk.id for h in self.last.hits}
        cited = {h.chunk.id for h in rag.cited(self.last.text, self.last.hits)}
        fate = {True: "回答引用了它", False: "交给了模型", None: "低于阈值，没有使用"}
        return "\n".join([f"检索的问题：{self.last.query}",
                          f"相似度阈值 {rag.THRESHOLD}，取前 {rag.K} 块："] + [
            f"  {n}. {rag.label(h)} · 相似度 {h.score:.2f} · "
            + fate[h.chunk.id in cited if h.chunk.id in used else None]
            for n, h in enumerate(self.seen, start=1)])

    def reset(self) -> None:
        super().reset()
        self.last, self.seen, self.note = None, [], ""  # a new topic: nothing was retrieved


def handle_line(bot: KbChatBot, line: str) -> bool:
    """Project 1's handle_line, plus /help and /sources, and the footer under each answer."""
    command = line.strip()
    if command in ("/help", "/sources"):
        project1.say(HELP if command == "/help" else bot.sources())
        return True
    bot.note = ""
    going = project1.handle_line(bot, line)
    if bot.note:
        project1.say(bot.note)
    return going


def run_script(lines: Iterable[str], bot: KbChatBot) -> KbChatBot:
    """Play typed lines through the console's handler, echoing them (the notebook demo)."""
    for line in lines:
        project1.say(USER + line)
        if not handle_line(bot, line):
            break
    return bot


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.project2",
                                     description="项目二：企业知识库客服（控制台版）。")
    parser.add_argument("--model", help="模型名（默认取 .env 的 LLM_MODEL，否则 qwen-plus）")
    parser.add_argument("--budget", type=int, help="历史的 token 上限：超出时先丢弃最早的对话")
    parser.add_argument("--no-stream", dest="stream", action="store_false",
                        help="等完整回答生成后一次显示（默认流式输出）")
    parser.add_argument("--index", type=Path, help=f"索引文件夹（默认 {INDEX}）")
    args = parser.parse_args(argv)
    with contextlib.suppress(ImportError):  # arrow keys and line history; not on Windows
        import readline  # noqa: F401
    try:
        settings = setup(LESSON, model=args.model)
        check_model(settings.model)
        project1.say(str(settings))  # mode, model and masked key
        store = open_store(args.index)
        project1.say("✓ " + describe_store(store))
        bot = KbChatBot(store, budget=args.budget, model=settings.model, stream=args.stream)
    except (ConfigError, LLMError, ValueError) as err:
        project1.say(str(err))
        return 2
    project1.say("输入 /help 查看命令，/sources 查看回答的依据；说「再见」或按 Ctrl-D 结束对话。")
    if hasattr(sys.stdin, "reconfigure"):  # bytes that are not UTF-8 arrive as surrogates
        sys.stdin.reconfigure(errors="surrogateescape")
    signal.signal(signal.SIGINT, project1._on_ctrl_c)
    while True:
        line = project1.read_line()
        if line is None:  # Ctrl-D, or Ctrl-C at the prompt
            project1.say(FAREWELL)
            return 0
        if not sys.stdin.isatty():  # piped input is not echoed: show it, for a readable log
            project1.say(line)
        try:
            if not handle_line(bot, line):
                return 0
        except KeyboardInterrupt:  # e.g. while the follow-up was being rewritten
            if bot.conversation.turns and bot.conversation.turns[-1].role == "user":
                bot.conversation.pop_last_user()
            project1.say("\n（已取消）")


if __name__ == "__main__":
    sys.exit(main())
