"""Lesson 10 (RAG): retrieve, refuse early, prompt with lesson 08's template, cite, follow up.

The steps, in the order ``answer`` runs them:

1. ``rewrite_question(question, history)`` — a follow-up (「那金卡呢？」) is rewritten by the
   model into a question that stands alone, so retrieval does not need the history.
2. ``retrieve(question, store)`` — the ``k`` nearest chunks whose cosine score reaches
   ``threshold``. Nothing left → refuse *before any model call* (reason "no_relevant_chunk").
   ``THRESHOLD`` was chosen on ``notebooks/data/kb_questions.jsonl`` with ``choose_threshold``
   for the replay stand-in ``local-lsa-char-ngram`` (256 dimensions, chunks by heading); with
   another model (``text-embedding-v4`` live) measure again: ``choose_threshold(top_scores())``.
3. ``build_messages(question, hits, history=...)`` — lesson 08's four parts: 用户指令 (the
   question), 对话上下文 (the history), 附加内容 (the chunks, numbered and delimited, each
   labelled 「文档 › 小节」) and 输出要求 (answer only from them, cite [n], else ``REFUSAL``).
4. The model answers; an answer that starts with ``REFUSAL`` is the model's own refusal
   (reason "model_refused"). Otherwise ``sources`` are the chunks it cited as [n] (all the
   chunks it was given, if it cited none); ``judge(text, query, hits)`` gives that verdict for
   any finished text, and ``format_sources`` writes the sources in short Chinese.

Streaming: ``stream_answer(...)`` returns an ``AnswerStream``. Iterate it for the text pieces
(a refusal before the model call is one piece, ``REFUSAL``); when the loop ends,
``stream.answer`` holds the ``RagAnswer``. Ctrl-C (or breaking out of the loop) stops the
stream and keeps what arrived; iterating a finished stream again yields its text, with no
second call. Freshness needs nothing here: change a document, call
``store.add(chunks)`` (an upsert of that document) and ask again.
"""
from __future__ import annotations

import queue
import re
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .errors import bad_input
from .llm import chat, stream_chat
from .prompts import build_prompt
from .retrieval import Hit

REFUSAL = "根据已知信息无法回答该问题"
THRESHOLD = 0.28  # cosine; measured by choose_threshold (see the docstring and tests)
K = 4
SYSTEM = "你是云步鞋履的客服助手，只依据提供的资料回答，回答简洁、准确、礼貌。"
OUTPUT = ("只根据附加内容回答，不要编造。每句用到资料的话后面用 [编号] 注明出处，例如 [1]。"
          f"如果附加内容里没有答案，只回答：{REFUSAL}")
REWRITE = ("你负责改写问题：根据对话历史，把用户最后的追问改写成一个意思完整、不依赖上文、"
           "可以单独拿去检索的问题。只输出改写后的问题，不要回答它。")


@dataclass
class RagAnswer:
    text: str
    sources: list[Hit]  # the chunks it cited as [n]; all it was given if it cited none
    refused: bool
    reason: str  # "" | "no_relevant_chunk" | "model_refused"
    query: str = ""  # what was searched: the question, or its rewrite
    hits: list[Hit] = field(default_factory=list)  # every chunk the model was given

    def __str__(self) -> str:
        return self.text + (f"\n{format_sources(self.sources)}" if self.sources else "")


def label(hit: Hit) -> str:
    """「文档标题 › 小节」 of a hit (the document id when it has no title)."""
    c = hit.chunk
    return " › ".join(p for p in (c.title or c.doc, c.section.replace(" > ", " › ")) if p)


def format_sources(hits: list[Hit]) -> str:
    """「来源：退货政策 › 七天无理由退货；配送说明 › 运费标准」, each place once."""
    names = list(dict.fromkeys(label(h) for h in hits))
    return "来源：" + "；".join(names) if names else "来源：无"


def retrieve(question: str, store, *, k: int = K, threshold: float = THRESHOLD) -> list[Hit]:
    """The ``k`` nearest chunks scoring at least ``threshold`` (may be empty).
    ``store`` is anything with ``search(query, k) -> list[Hit]`` scored by cosine, such as
    ``helpers.vectors.VectorStore``."""
    return [h for h in store.search(question, k) if h.score >= threshold]


def top_scores(questions: list[dict], store) -> list[tuple[float, bool]]:
    """(best cosine score, answerable?) per labeled question: what a threshold must split."""
    return [(store.search(q["question"], 1)[0].score, bool(q["relevant"])) for q in questions]


def choose_threshold(scores: list[tuple[float, bool]]) -> float:
    """The cut that decides the most questions right (answerable ⇔ score ≥ threshold), the
    lowest such if several; placed halfway to the next lower score, not on a question."""
    candidates = sorted({s for s, _ in scores})
    best = max(candidates, key=lambda t: (sum((s >= t) == a for s, a in scores), -t))
    below = [s for s in candidates if s < best]
    return (below[-1] + best) / 2 if below else best


def refusal_counts(scores: list[tuple[float, bool]], threshold: float) -> dict:
    """How a threshold splits the questions: refused unanswerable / answerable ones."""
    return {"unanswerable": sum(not a for _, a in scores),
            "refused_unanswerable": sum(not a and s < threshold for s, a in scores),
            "answerable": sum(a for _, a in scores),
            "refused_answerable": sum(a and s < threshold for s, a in scores)}


def build_messages(question: str, hits: list[Hit], *,
                   history: list[dict] | None = None) -> list[dict]:
    """Lesson 08's four-part prompt with the hits as numbered, delimited 附加内容."""
    knowledge = [f"（{label(h)}）{h.chunk.text}" for h in hits]
    return build_prompt(question, context=history, knowledge=knowledge or None,
                        output=OUTPUT, system=SYSTEM)


def is_refusal(text: str) -> bool:
    """True when the answer starts with the refusal sentence (spaces and quotes ignored)."""
    return re.sub(r"[\s「」“”\"'*：:]", "", text).startswith(REFUSAL)


def cited(text: str, hits: list[Hit]) -> list[Hit]:
    """The hits the text cites as [n] (n counts from 1, as in the data block), in order."""
    numbers = dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", text))
    return [hits[n - 1] for n in numbers if 1 <= n <= len(hits)]


def rewrite_question(question: str, history: list[dict] | None, *,
                     model: str | None = None) -> str:
    """A follow-up rewritten by the model into a standalone question (no history: as is)."""
    if not history:
        return question
    turns = "\n".join(f"{'用户' if m.get('role') == 'user' else '助手'}：{m.get('content', '')}"
                      for m in history[-6:])
    reply = chat([{"role": "system", "content": REWRITE},
                  {"role": "user", "content": f"对话历史：\n{turns}\n\n追问：{question}"}],
                 model=model)
    lines = [line.strip() for line in reply.text.strip().splitlines() if line.strip()]
    rewritten = lines[0] if lines else ""
    return rewritten if 0 < len(rewritten) <= 200 else question  # nonsense: keep the original


def _prepare(question: str, store, history: list[dict] | None, model: str | None,
             k: int, threshold: float) -> tuple[str, list[Hit]]:
    if not str(question or "").strip():
        raise bad_input("问题是空的：请输入内容后再提问。")
    query = rewrite_question(question, history, model=model)
    return query, retrieve(query, store, k=k, threshold=threshold)


def judge(text: str, query: str, hits: list[Hit]) -> RagAnswer:
    """The verdict on an answer's text: the model refused, or which chunks it cited."""
    if is_refusal(text):
        return RagAnswer(text, [], True, "model_refused", query, hits)
    return RagAnswer(text, cited(text, hits) or hits, False, "", query, hits)


def _refused(query: str) -> RagAnswer:
    return RagAnswer(REFUSAL, [], True, "no_relevant_chunk", query, [])


def answer(question: str, store, *, history: list[dict] | None = None,
           model: str | None = None, k: int = K, threshold: float = THRESHOLD) -> RagAnswer:
    """Rewrite (with history) → retrieve → refuse early or ask the model → RagAnswer."""
    query, hits = _prepare(question, store, history, model, k, threshold)
    if not hits:
        return _refused(query)
    reply = chat(build_messages(question, hits, history=history), model=model)
    return judge(reply.text, query, hits)


class AnswerStream:
    """Iterate for the text pieces; afterwards ``answer`` is the RagAnswer."""

    def __init__(self, run: Callable[[Callable[[str], None]], str], query: str, hits: list):
        self._run, self.query, self.hits = run, query, hits
        self.answer: RagAnswer | None = None

    def __iter__(self) -> Iterator[str]:
        if not self.hits and self.answer is None:  # refused before any model call
            self.answer = _refused(self.query)
        if self.answer is not None:  # refused, or iterated before: no second call
            yield self.answer.text
            return
        pieces: queue.Queue = queue.Queue()
        stop = threading.Event()

        def on_text(piece: str) -> None:
            if stop.is_set():  # the reader stopped: stream_chat hangs up, keeps the text
                raise KeyboardInterrupt
            pieces.put(piece)

        def work() -> None:
            try:
                pieces.put(("done", self._run(on_text)))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the reader's thread
                pieces.put(("error", exc))

        threading.Thread(target=work, daemon=True).start()
        try:
            while isinstance(item := pieces.get(), str):
                yield item
        except (KeyboardInterrupt, GeneratorExit):  # Ctrl-C, or the loop was left early
            stop.set()
            while isinstance(item := pieces.get(), str):
                pass
        if item[0] == "done":
            self.answer = judge(item[1], self.query, self.hits)
        elif not stop.is_set():
            raise item[1]


def stream_answer(question: str, store, *, history: list[dict] | None = None,
                  model: str | None = None, k: int = K,
                  threshold: float = THRESHOLD) -> AnswerStream:
    """Like ``answer``, streaming: ``for piece in s: ...`` then ``s.answer``."""
    query, hits = _prepare(question, store, history, model, k, threshold)
    messages = build_messages(question, hits, history=history) if hits else []
    return AnswerStream(lambda on_text: stream_chat(messages, model=model,
                                                    on_text=on_text).text, query, hits)
