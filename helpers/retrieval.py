"""Retrieval for lessons 09 (检索) and 10 (RAG): chunk, search by words, fuse, measure.

Lesson 09 writes each step by hand first; this module is the same steps, kept short: chunk a
document (fixed size with overlap, by heading, by sentence) → BM25 over jieba words →
reciprocal-rank fusion of several rankings → recall against the labeled questions. The dense
side (embeddings, the Qdrant vector database, rerank) is ``helpers/vectors.py``.
"""
from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

from .config import KIT_ROOT

KB = KIT_ROOT / "notebooks" / "data" / "kb"
STOPWORDS = set("的 了 吗 呢 吧 啊 是 我 你 要 能 会 有 在 和 就 都 也 还 把 被 怎么 什么 哪 多少 可以 "
                "请问 一下 如果 这 那 个 么".split())


@dataclass(frozen=True)
class Chunk:
    doc: str  # document id: the file name without .md
    section: str  # heading path, e.g. "退货运费谁承担" ("" before the first ## heading)
    start: int  # character span in the document: labels are matched by overlap
    end: int
    text: str
    title: str = ""  # the document's # title, prepended when indexing

    @property
    def id(self) -> str:  # stable across runs: document + heading path + offset
        return f"{self.doc}#{self.section}@{self.start}"

    @property
    def indexed_text(self) -> str:
        return f"{self.title}\n{self.text}" if self.title else self.text


class Hit(NamedTuple):
    chunk: Chunk
    score: float


def load_documents(folder: Path = KB) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(Path(folder).glob("*.md"))}


def sections(text: str) -> list[tuple[str, int, int]]:
    """(heading path, start, end) of every ##+ section; a section includes its subsections."""
    heads = [(len(m[1]), m[2].strip(), m.start())
             for m in re.finditer(r"^(#{2,6}) (.+)$", text, re.M)]
    found, stack = [], []
    for i, (level, name, start) in enumerate(heads):
        stack = [s for s in stack if s[0] < level] + [(level, name)]
        end = next((s for lv, _, s in heads[i + 1:] if lv <= level), len(text))
        found.append((" > ".join(n for _, n in stack), start, end))
    return found


def _make(doc: str, text: str, start: int, end: int) -> Chunk:
    inside = [s for s in sections(text) if s[1] <= start < s[2]]
    title = re.match(r"# (.+)", text)
    return Chunk(doc, inside[-1][0] if inside else "", start, end, text[start:end].strip(),
                 title[1].strip() if title else "")


def chunk_fixed(doc: str, text: str, size: int = 200, overlap: int = 50) -> list[Chunk]:
    """Windows of ``size`` characters, each starting ``size - overlap`` after the last."""
    step = max(1, size - overlap)
    return [_make(doc, text, i, min(i + size, len(text)))
            for i in range(0, max(1, len(text) - overlap), step)]


def chunk_by_heading(doc: str, text: str) -> list[Chunk]:
    """One chunk per innermost section (its heading line included)."""
    spans = sections(text)
    leaves = [(s, e) for p, s, e in spans if not any(q != p and q.startswith(p + " > ")
                                                     for q, _, _ in spans)]
    return [_make(doc, text, s, e) for s, e in leaves]


def chunk_by_sentence(doc: str, text: str, max_chars: int = 150) -> list[Chunk]:
    """Whole sentences packed up to ``max_chars``, never across a section boundary."""
    chunks = []
    for _, s, e in sections(text):
        bounds = [s] + [m.end() for m in re.finditer(r"[。！？；]|\n", text[s:e])] + [e - s]
        cut = s
        for a, b in zip(bounds, bounds[1:]):
            if s + b - cut > max_chars and s + a > cut:
                chunks.append(_make(doc, text, cut, s + a))
                cut = s + a
        chunks.append(_make(doc, text, cut, e))
    return [c for c in chunks if c.text]


def chunk_documents(docs: dict[str, str], how: Callable = chunk_by_heading, **kw) -> list[Chunk]:
    return [c for doc, text in docs.items() for c in how(doc, text, **kw)]


# --- lexical: BM25 over jieba words -------------------------------------------------------


def tokenize(text: str) -> list[str]:
    with warnings.catch_warnings():  # jieba 0.42's regexes warn when compiled without a .pyc
        warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
        import jieba

    jieba.setLogLevel(logging.WARNING)  # its start-up notice would go to stderr (nbval)
    return [w for w in jieba.lcut(text.lower()) if re.search(r"\w", w) and w not in STOPWORDS]


class BM25:
    """rank_bm25's Okapi BM25 (k1=1.5, b=0.75) over the chunks' jieba words."""

    def __init__(self, chunks: list[Chunk]):
        from rank_bm25 import BM25Okapi

        self.chunks = chunks
        self.bm25 = BM25Okapi([tokenize(c.indexed_text) for c in chunks])

    def search(self, query: str, k: int = 5) -> list[Hit]:
        scores = self.bm25.get_scores(tokenize(query))
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[:k]
        return [Hit(self.chunks[i], float(scores[i])) for i in order]


# --- fusion ------------------------------------------------------------------------------------


def rrf(*rankings: list[Hit], k: int = 60) -> list[Hit]:
    """Reciprocal-rank fusion (Cormack et al., 2009): score = Σ 1 / (k + rank)."""
    scores: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + 1 / (k + rank)
            chunks[hit.chunk.id] = hit.chunk
    return [Hit(chunks[i], s) for i, s in sorted(scores.items(), key=lambda x: -x[1])]


# --- measuring against the labeled questions ------------------------------------------------


def is_relevant(chunk: Chunk, label: dict, docs: dict[str, str], min_overlap: int = 30) -> bool:
    """True when the chunk overlaps the labeled section by ≥ min_overlap characters
    (or by half the section, if it is shorter)."""
    if chunk.doc != label["doc"]:
        return False
    for path, s, e in sections(docs[chunk.doc]):
        if path == label["section"]:
            return min(e, chunk.end) - max(s, chunk.start) >= min(min_overlap, (e - s) / 2)
    return False


def evaluate(questions: list[dict], search: Callable[[str], list[Hit]], docs: dict[str, str],
             k: int = 5, depth: int = 10) -> dict:
    """recall@k (share of labeled sections found in the top k) and MRR (1 / rank of the
    first relevant chunk in the top ``depth``) over the questions that have labels."""
    recall, reciprocal = [], []
    for q in (q for q in questions if q["relevant"]):
        top = [h.chunk for h in search(q["question"])][:depth]
        found = [any(is_relevant(c, label, docs) for c in top[:k]) for label in q["relevant"]]
        recall.append(sum(found) / len(found))
        ranks = [i for i, c in enumerate(top, 1)
                 if any(is_relevant(c, label, docs) for label in q["relevant"])]
        reciprocal.append(1 / ranks[0] if ranks else 0.0)
    return {"recall": sum(recall) / len(recall), "mrr": sum(reciprocal) / len(reciprocal),
            "questions": len(recall)}
