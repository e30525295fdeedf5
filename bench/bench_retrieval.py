"""Retrieval quality on the kit's labeled questions: BM25, dense, hybrid (RRF), + rerank.

    python bench/bench_retrieval.py          # replay mode: the local stand-in models
    LLM_MODE=live python bench/bench_retrieval.py   # with a key: text-embedding-v4, gte-rerank-v2

Measured, not illustrative: every vector and score is computed in this run by the method the
table names. recall@5 = share of labeled sections found in the top 5 chunks; MRR = 1 / rank of
the first relevant chunk in the top 10 (questions the base cannot answer are left out).
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
from helpers import retrieval as R, vectors as V  # noqa: E402


def methods(chunks: list, folder: str, name: str, dimension: int = 256) -> tuple[dict, str]:
    bm25 = R.BM25(chunks)
    store = V.VectorStore(folder, collection=name, dimension=dimension)
    store.add(chunks)
    embedder = store.client.scroll(name, limit=1)[0][0].payload["method"]

    def hybrid(q: str) -> list:
        return R.rrf(bm25.search(q, 20), store.search(q, 20))

    return {"BM25（jieba）": lambda q: bm25.search(q, 10),
            "稠密检索": lambda q: store.search(q, 10),
            "混合（RRF）": hybrid,
            "混合 + 重排": lambda q: V.rerank(q, hybrid(q)[:20], top_n=10)}, embedder


def main() -> int:
    settings = helpers.setup("09_retrieval")
    docs = R.load_documents()
    questions = [json.loads(line) for line in
                 (ROOT / "notebooks/data/kb_questions.jsonl").read_text("utf-8").splitlines()]
    answerable = [q for q in questions if q["relevant"]]
    print(f"{settings}\n知识库 {len(docs)} 篇文档，问题 {len(questions)} 个"
          f"（有标注 {len(answerable)} 个参与计算）")
    folder = tempfile.mkdtemp(prefix="bench-retrieval-")
    chunks = R.chunk_documents(docs, R.chunk_by_heading)
    started = time.perf_counter()
    table, embedder = methods(chunks, folder, "heading")
    print(f"\n按标题分块（{len(chunks)} 块），256 维向量：{embedder}")
    rerank_method = "gte-rerank-v2" if settings.mode == "live" else "local-bigram-coverage"
    print(f"重排：{rerank_method}\n\n| 方法 | recall@5 | MRR |\n|---|---|---|")
    for name, search in table.items():
        m = R.evaluate(questions, search, docs)
        print(f"| {name} | {m['recall']:.2f} | {m['mrr']:.2f} |")
    by_kind = {}
    for kind in ("direct", "paraphrase", "multi"):
        subset = [q for q in questions if q["type"] == kind]
        by_kind[kind] = {n: R.evaluate(subset, s, docs)["recall"] for n, s in table.items()}
    print("\nrecall@5 按问题类型：\n\n| 类型 | " + " | ".join(table) + " |\n"
          + "|---" * (len(table) + 1) + "|")
    for kind, row in by_kind.items():
        print(f"| {kind} | " + " | ".join(f"{v:.2f}" for v in row.values()) + " |")

    total = sum(len(t) for t in docs.values())
    print("\nrecall@5 与分块大小（固定长度，重叠 = 1/4）。注意：块越大，前 5 块覆盖的语料越多，"
          "recall 自然越高，\n交给模型的无关文字也越多（最后一列）。\n\n"
          "| 块大小（字） | 块数 | BM25 | 稠密 | 混合 | 前 5 块约占语料 |\n|---|---|---|---|---|---|")
    for size in (60, 100, 150, 200, 300, 500):
        sized = R.chunk_documents(docs, R.chunk_fixed, size=size, overlap=size // 4)
        runs, _ = methods(sized, folder, f"fixed{size}")
        row = [R.evaluate(questions, runs[n], docs)["recall"]
               for n in ("BM25（jieba）", "稠密检索", "混合（RRF）")]
        share = 5 * sum(len(c.text) for c in sized) / len(sized) / total
        print(f"| {size} | {len(sized)} | " + " | ".join(f"{v:.2f}" for v in row)
              + f" | {share:.0%} |")
    sentence = R.chunk_documents(docs, R.chunk_by_sentence, max_chars=150)
    runs, _ = methods(sentence, folder, "sentence")
    row = [R.evaluate(questions, runs[n], docs)["recall"]
           for n in ("BM25（jieba）", "稠密检索", "混合（RRF）")]
    share = 5 * sum(len(c.text) for c in sentence) / len(sentence) / total
    print(f"| 按句（≤150） | {len(sentence)} | " + " | ".join(f"{v:.2f}" for v in row)
          + f" | {share:.0%} |")

    print("\n拒答阈值（第 10 课）：python bench/bench_rag.py")
    print("\n稠密检索 recall@5 与向量维度（按标题分块）：")
    for dimension in (64, 256, 1024):
        runs, _ = methods(chunks, folder, f"dim{dimension}", dimension)
        print(f"  dimension={dimension}: {R.evaluate(questions, runs['稠密检索'], docs)['recall']:.2f}")
    print(f"\n用时 {time.perf_counter() - started:.1f} 秒")
    return 0


if __name__ == "__main__":
    sys.exit(main())
