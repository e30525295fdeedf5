"""Lesson 13, Project 2: the scripted demo conversation and the self-checking requirements.

``report(store)`` prints one line per requirement of 项目二 (✓ or ✗) and ends with how many
passed. The retrieval quality is measured in the run (lesson 09's recall@k and MRR on
notebooks/data/kb_questions.jsonl) for the configuration the program uses, with the name of
the method that computed the vectors. Every other check runs offline (``offline``: replay
mode, recorded answers, no cost — in live mode too) and holds for any answer text: it checks
what the program does (sources, refusal before any model call, farewell, history kept after a
failure), never what a model said.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from typing import Callable, Iterator

from . import checklist, project2, rag
from .config import DEFAULT_MODEL, KIT_ROOT, current, setup
from .ending import FAREWELL
from .meter import METER
from .retrieval import evaluate, load_documents

DEMO = [  # the scripted customer conversation: size → returns → comparison → unknown → bye
    "我平时穿 42 码，疾风 3 Pro 偏大还是偏小？该选多大？",
    "如果买了不合适，可以退货吗？",
    "它和云朵慢跑鞋有什么区别？哪双更适合跑步新手？",
    "对了，买疾风 3 Pro 送袜子吗？",
    "好的，没有别的问题了，谢谢",
]
QUESTIONS = KIT_ROOT / "notebooks" / "data" / "kb_questions.jsonl"
OUT_OF_BASE = "买鞋送袜子吗？"  # nothing in the knowledge base says
MIN_RECALL = 0.80  # the project's bar for recall@K of the program's retrieval
_replay_store = None


def questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def retrieval_quality(store) -> dict:
    """Lesson 09's measures for the program's retrieval: recall@K, MRR, and how the refusal
    threshold splits the question set (rag.refusal_counts). Computed now, on ``store``."""
    qs, docs = questions(), load_documents()
    found = evaluate(qs, lambda q: store.search(q, 10), docs, k=rag.K)
    split = rag.refusal_counts(rag.top_scores(qs, store), rag.THRESHOLD)
    method = project2.describe_store(store).split("向量：")[-1]
    return {**found, **split, "k": rag.K, "method": method}


def quality_line(q: dict) -> str:
    return (f"检索质量（实测，{q['method']}，{q['questions']} 个有标注的问题）："
            f"recall@{q['k']} = {q['recall']:.2f}，MRR = {q['mrr']:.2f}；阈值 {rag.THRESHOLD} "
            f"拒答了 {q['refused_unanswerable']}/{q['unanswerable']} 个无答案问题、"
            f"{q['refused_answerable']}/{q['answerable']} 个有答案问题")


@contextlib.contextmanager
def offline(store) -> Iterator[object]:
    """Replay mode for the checks; in live mode a replay-mode index as well (vectors of two
    models cannot be compared), built once. Afterwards the mode is what it was."""
    global _replay_store
    settings = current()
    if settings.mode in ("replay", "author"):
        yield store
        return
    setup(settings.lesson, mode="replay", model=DEFAULT_MODEL)  # the model recorded
    try:
        if _replay_store is None:
            _replay_store = project2.open_store(tempfile.mkdtemp(prefix="kb-replay-"))
        yield _replay_store
    finally:
        setup(settings.lesson)


class _Spy(project2.KbChatBot):
    """Remembers the question and history its last RAG step was given."""

    def _ask(self, on_text, *more):
        self.given = project2.split_turns(self.conversation.messages_for_request())
        return super()._ask(on_text, *more)


def _calls() -> int:
    return len(METER.calls)


def cites_sources(store) -> bool:
    outcome = project2.KbChatBot(store).send(DEMO[0])
    bot_hits = [rag.label(h) for h in rag.retrieve(DEMO[0], store)]
    last = outcome.text.splitlines()[-1]
    return outcome.kind == "answer" and last.startswith("来源：") and bool(bot_hits) and all(
        name in bot_hits for name in last.removeprefix("来源：").split("；"))


def follow_up_has_history(store) -> bool:
    bot = _Spy(store)
    first = bot.send(DEMO[0])
    bot.send(DEMO[1])
    question, history = bot.given
    return question == DEMO[1] and [m["content"] for m in history] == [
        DEMO[0], bot.conversation.turns[1].content] and first.kind == "answer"


def refuses_out_of_base(store) -> bool:
    before, bot = _calls(), project2.KbChatBot(store)
    outcome = bot.send(OUT_OF_BASE)
    return (outcome.text == f"{rag.REFUSAL}\n{project2.NO_ANSWER}" and bot.last.refused
            and bot.last.reason == "no_relevant_chunk" and _calls() == before)


def farewell(store) -> bool:
    before, bot = _calls(), project2.KbChatBot(store)
    outcome = bot.send(DEMO[-1])
    return outcome.kind == "farewell" and outcome.text == FAREWELL and _calls() == before


def survives_errors(store) -> bool:
    return checklist.survives_errors(project2.KbChatBot(store), (DEMO[0], DEMO[1]))


def shows_sources(store) -> bool:
    bot = project2.KbChatBot(store)
    empty = bot.send("/sources").text
    bot.send(DEMO[0])
    shown = bot.send("/sources")
    return ("还没有回答" in empty and shown.kind == "hint" and len(bot.conversation) == 2
            and all(rag.label(h) in shown.text for h in bot.last.hits) and "相似度" in shown.text)


def streams(store) -> bool:
    pieces: list[str] = []
    outcome = project2.KbChatBot(store).send(DEMO[0], on_text=pieces.append)
    return len(pieces) > 1 and outcome.text.startswith("".join(pieces) + "\n来源：")


def console_run(store) -> bool:
    """The real program in a subprocess, offline, typing the scripted conversation."""
    env = {**os.environ, "LLM_MODE": "replay", "LLM_ENV_FILE": "none", "LLM_REPLAY_SPEED": "0",
           "PYTHONIOENCODING": "utf-8"}
    for name in ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "LLM_MODEL"):
        env.pop(name, None)
    with tempfile.TemporaryDirectory() as index:
        run = subprocess.run([sys.executable, "-m", "helpers.project2", "--index", index],
                             input="\n".join(DEMO) + "\n", env=env, text=True,
                             capture_output=True, encoding="utf-8", cwd=KIT_ROOT, timeout=300)
    lines = run.stdout.splitlines()
    return (run.returncode == 0 and "回放模式" in lines[0] and lines[-1] == FAREWELL
            and any(line.startswith("来源：") for line in lines) and "Traceback" not in run.stderr)


CHECKS: list[tuple[str, Callable[[object], bool]]] = [
    ("回答注明来源（文档 › 小节），来源都是检索到的资料", cites_sources),
    ("追问带着对话历史交给 RAG（第 02 课的历史 + 第 10 课的改写）", follow_up_has_history),
    ("知识库里没有的问题：诚实拒答，不调用模型", refuses_out_of_base),
    ("用户说「好的，没有别的问题了，谢谢」：回复「感谢您的咨询，再见」，不调用模型", farewell),
    ("请求失败：中文提示，历史不变，再问一次照常回答", survives_errors),
    ("/sources 列出上一个回答检索到的资料和相似度，不进历史", shows_sources),
    ("流式输出：回答分多段到达，最后附上来源", streams),
    ("控制台 python -m helpers.project2：示例对话有来源、以结束语收尾、退出状态 0", console_run),
]


def report(store) -> None:
    """Print every requirement with ✓ or ✗, as it is checked (the console one takes seconds)."""
    quality = retrieval_quality(store)
    ok = quality["recall"] >= MIN_RECALL
    print("✓" if ok else "✗", quality_line(quality), f"（要求 ≥ {MIN_RECALL:.2f}）", flush=True)
    passed = int(ok)
    with offline(store) as replay_store:
        for requirement, check in CHECKS:
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # the checks' own printing
                    ok = bool(check(replay_store))
            except Exception as exc:  # noqa: BLE001 - a crash is a failed check, with the reason
                ok, requirement = False, f"{requirement}（出错：{exc!r}）"
            passed += ok
            print("✓" if ok else "✗", requirement, flush=True)
    print(f"{passed}/{len(CHECKS) + 1} 项通过")
