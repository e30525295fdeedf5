"""Lesson 10's refusal before any model call: how well each score separates the questions.

    python bench/bench_rag.py                 # replay mode: the local stand-in models
    LLM_MODE=live python bench/bench_rag.py   # with a key: text-embedding-v4, gte-rerank-v2

Measured, not illustrative: no model answers are involved. For each question of
notebooks/data/kb_questions.jsonl the best score of a retrieval signal is computed; a threshold
refuses the questions scoring below it. For each signal: the threshold ``rag.choose_threshold``
picks (most questions decided right), the unanswerable questions it refuses (refusal recall),
the share of refused questions that were unanswerable (refusal precision), the answerable ones
it refuses, and the best refusal recall reachable while refusing no answerable question.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a bench script, not a lesson: run from a checkout

import helpers  # noqa: E402
from helpers import rag, retrieval as R, vectors as V  # noqa: E402


def row(name: str, scores: list[tuple[float, bool]]) -> str:
    t = rag.choose_threshold(scores)
    c = rag.refusal_counts(scores, t)
    refused = c["refused_unanswerable"] + c["refused_answerable"]
    precision = f"{c['refused_unanswerable'] / refused:.2f}" if refused else "—"
    lowest_answerable = min(s for s, a in scores if a)
    safe = sum(not a and s < lowest_answerable for s, a in scores)
    return (f"| {name} | {t:.3f} | {c['refused_unanswerable']}/{c['unanswerable']} | "
            f"{precision} | {c['refused_answerable']}/{c['answerable']} | "
            f"{safe}/{c['unanswerable']} |")


def main() -> int:
    settings = helpers.setup("10_rag")
    docs = R.load_documents()
    questions = [json.loads(line) for line in
                 (ROOT / "notebooks/data/kb_questions.jsonl").read_text("utf-8").splitlines()]
    chunks = R.chunk_documents(docs, R.chunk_by_heading)
    started = time.perf_counter()
    store = V.VectorStore(tempfile.mkdtemp(prefix="bench-rag-"), dimension=256)
    store.add(chunks)
    method = store.client.scroll("kb", limit=1)[0][0].payload["method"]
    bm25 = R.BM25(chunks)
    print(f"{settings}\n按标题分块 {len(chunks)} 块，256 维向量：{method}\n"
          f"问题 {len(questions)} 个（无答案 {sum(not q['relevant'] for q in questions)} 个）\n")
    dense = rag.top_scores(questions, store)
    reranked = [(V.rerank(q["question"], R.rrf(bm25.search(q["question"], 20),
                                               store.search(q["question"], 20))[:20],
                          top_n=1)[0].score, bool(q["relevant"])) for q in questions]
    lexical = [(bm25.search(q["question"], 1)[0].score, bool(q["relevant"])) for q in questions]
    print("| 分数 | 选出的阈值 | 拒掉的无答案 | 拒答精确率 | 误拒的有答案 | 零误拒时最多拒掉 |\n"
          "|---|---|---|---|---|---|")
    print(row("稠密检索最高余弦（第 10 课用）", dense))
    print(row("混合 + 重排最高重排分", reranked))
    print(row("BM25 最高分", lexical))
    c = rag.refusal_counts(dense, rag.THRESHOLD)
    print(f"\nhelpers/rag.py 的 THRESHOLD = {rag.THRESHOLD}：拒掉无答案 "
          f"{c['refused_unanswerable']}/{c['unanswerable']}，误拒有答案 "
          f"{c['refused_answerable']}/{c['answerable']}"
          + ("" if round(rag.choose_threshold(dense), 2) == rag.THRESHOLD
             else "（与本次选出的阈值不同：换了向量模型就要重新量）"))
    print(f"\n用时 {time.perf_counter() - started:.1f} 秒（共享机器，计时有噪声）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
