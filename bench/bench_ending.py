"""How well and how fast does helpers.ending tell "the user is done" from the rest?

Scores the offline strategies on the kit's own examples and, when the project's
development sets exist next to the checkout (../shared/data/endset/), on each of
them. Prints precision/recall/F1, the share of utterances the rules are unsure
about (what hybrid would send to the model), and the rules' median decision time.

    python bench/bench_ending.py
"""
from __future__ import annotations

import statistics
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from helpers.ending import evaluate, read_jsonl, rules_decision  # noqa: E402

EXAMPLES = ROOT / "notebooks" / "data" / "end_examples.jsonl"
ENDSET = ROOT.parent / "shared" / "data" / "endset"
REPEATS = 7  # timing passes over every utterance; the median is over all of them


def no_model(text: str) -> bool:
    """Hybrid with the model unavailable: every call fails, the rules' guess stands."""
    raise RuntimeError("bench: no model")


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def row(cells: list[object], widths: list[int], left: int = 2) -> str:
    """The first ``left`` cells are left-aligned text, the rest right-aligned numbers."""
    out = [str(c) + " " * (w - width(str(c))) for c, w in zip(cells[:left], widths)]
    out += [" " * (w - width(str(c))) + str(c) for c, w in zip(cells[left:], widths[left:])]
    return "  ".join(out)


def median_us(texts: list[str]) -> float:
    """Median time of one rules decision, in microseconds."""
    times = []
    for _ in range(REPEATS):
        for text in texts:
            start = time.perf_counter_ns()
            rules_decision(text)
            times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1000


def datasets() -> list[tuple[str, list[dict]]]:
    kit = read_jsonl(str(EXAMPLES))
    sets = [("kit 全部", kit),
            ("kit 中文", [r for r in kit if has_chinese(r["text"])]),
            ("kit 英文", [r for r in kit if not has_chinese(r["text"])])]
    if ENDSET.is_dir():
        sets += [(path.name, read_jsonl(str(path))) for path in sorted(ENDSET.glob("*.jsonl"))]
    return sets


def main() -> int:
    sets = datasets()
    widths = [28, 16, 5, 9, 6, 5, 6, 7]
    print(row(["数据集", "策略", "条数", "precision", "recall", "F1", "送模型", "中位µs"], widths))
    print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    all_texts: list[str] = []
    for name, rows in sets:
        texts = [str(r["text"]) for r in rows]
        all_texts += texts
        unclear = sum(rules_decision(t).unclear for t in texts) / len(texts)
        for label, strategy, classify in (("rules", "rules", None), ("hybrid（无模型）", "hybrid", no_model)):
            m = evaluate(rows, strategy, classify)
            timing = f"{median_us(texts):.1f}" if strategy == "rules" else ""
            share = f"{unclear:.1%}" if strategy == "hybrid" else ""
            print(row([name, label, m["n"], f"{m['precision']:.3f}", f"{m['recall']:.3f}",
                       f"{m['f1']:.3f}", share, timing], widths))
    if not ENDSET.is_dir():
        print(f"（未找到开发集 {ENDSET}，只评估了 kit 自带的例句）")
    print()
    all_texts = list(dict.fromkeys(all_texts))  # the kit's subsets repeat its sentences
    print(f"rules 单句判定中位耗时：{median_us(all_texts):.1f} µs"
          f"（{len(all_texts)} 句 × {REPEATS} 轮，time.perf_counter_ns；目标 ≤ 50 µs）")
    print("送模型 = 规则没把握、hybrid 会交给模型判断的比例；“无模型”时沿用规则的猜测，所以分数与 rules 相同。")
    print("注意：开发集在编写规则时用来测量过，分数偏乐观；没见过的对话数据上预计会更低。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
