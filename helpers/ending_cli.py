"""Lesson 04's command line: ``python -m helpers.ending "一句话"`` or ``… eval FILE.jsonl``.

One sentence: which strategy and rule family decided. ``eval``: the confusion matrix of a
strategy on a labeled JSON Lines file (``text``, ``label``), the false-ending rate, and a last
line in a fixed format that scripts read: ``precision=P recall=R f1=F n=N``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional

from .ending import STRATEGIES, Decision, decide, evaluate, read_jsonl


def format_decision(d: Decision) -> str:
    verdict = "结束对话 ✓" if d.ends else "继续对话"
    sources = {"llm": "模型判定 llm", "learned": "学习模型 learned"}
    source = sources.get(d.rule, f"规则 {d.rule}")
    return f"{verdict}（{source}{'，规则不确定' if d.unclear else ''}）"


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    evaluating = bool(argv) and argv[0] == "eval"
    parser = argparse.ArgumentParser(
        prog="python -m helpers.ending",
        description="判断一句话是否表示想结束对话，或在标注数据上评估。")
    parser.add_argument("target", nargs="+",
                        help="要评估的 JSONL 文件" if evaluating else "要判断的一句话")
    parser.add_argument("--strategy", choices=STRATEGIES, default="rules",
                        help="判定策略（默认 rules）")
    args = parser.parse_args(argv[1:] if evaluating else argv)

    if not evaluating:
        print(format_decision(decide(" ".join(args.target), args.strategy)))
        return 0
    try:
        rows = read_jsonl(args.target[0])
    except (OSError, ValueError) as exc:
        print(f"无法读取数据文件：{exc}", file=sys.stderr)
        return 2
    m = evaluate(rows, args.strategy)
    print(f"策略：{args.strategy}    数据：{args.target[0]}")
    # One labelled line per row, no columns to line up: CJK text is two columns wide in a
    # terminal but not exactly that in a browser's monospace font (lesson 04 shows this output).
    print(f"实际结束 {m['tp'] + m['fn']} 句：判为结束 {m['tp']}，判为继续 {m['fn']}")
    print(f"实际继续 {m['fp'] + m['tn']} 句：判为结束 {m['fp']}，判为继续 {m['tn']}")
    print(f"误判结束率（用户没说完、对话却结束了）：{m['false_end_rate']:.3%}")
    print(f"precision={m['precision']:.3f} recall={m['recall']:.3f} f1={m['f1']:.3f} n={m['n']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
