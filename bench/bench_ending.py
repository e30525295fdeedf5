"""How well and how fast does helpers.ending tell "the user is done" from the rest?

Every set × every offline strategy: precision, recall, F1 and the false-ending rate (share of
turns where the user was not done but the chat would have ended), the share the rules are
unsure about (what hybrid would send to the model), and the median decision time of
``rules`` (target ≤ 50 µs) and ``learned`` (target ≤ 200 µs). Sets: the kit's examples, the
project's extra development examples, fresh sets v1-v7 and task dialogues v1
(bench/data/end_fresh_{zh,en}.jsonl, end_fresh2_* to end_fresh7_*, end_task_*: each held out until
measured once, used for tuning and training since 2026-12-02), the newest blind sets when they
are shipped (bench/data/end_fresh8_*, end_fresh9_*, end_task2_*: never used
for tuning or training) and, when they exist next to the checkout, the development sets
(../shared/data/endset/). The "用途" column says what
each set was used for: a score on a set the rules were tuned on or the model was trained on
is optimistic (the learned model's 1.000 there is memory; helpers.ending_train prints its
cross-validated scores).

Then rules / llm / hybrid on the kit's examples with the model answering from lesson 04's
recordings (replay mode, always: this never calls DashScope or spends money): scores, model
calls, tokens, the live cost those tokens would have, and the time per utterance. The model's
labels there are authored (notebooks/recordings/specs/04_end_detection.yaml), so llm/hybrid
scores measure those labels, not Qwen; `make record` with a key replaces them.

    python bench/bench_ending.py
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from helpers.ending import EndDetector, evaluate, read_jsonl, rules_decision  # noqa: E402
from helpers.listing import display_width  # noqa: E402

EXAMPLES = ROOT / "notebooks" / "data" / "end_examples.jsonl"
DATA = ROOT / "bench" / "data"
ENDSET = ROOT.parent / "shared" / "data" / "endset"
REPEATS = 7  # timing passes over every utterance; the median is over all of them
OFFLINE = ("rules", "learned", "combined", "hybrid")
TARGET_US = {"rules": 50, "learned": 200}


def no_model(text: str) -> bool:
    """Hybrid with the model unavailable: every call fails, the rules' guess stands."""
    raise RuntimeError("bench: no model")


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def row(cells: list[object], widths: list[int], left: int = 2) -> str:
    """The first ``left`` cells are left-aligned text, the rest right-aligned numbers."""
    out = [str(c) + " " * (w - display_width(str(c))) for c, w in zip(cells[:left], widths)]
    out += [" " * (w - display_width(str(c))) + str(c) for c, w in zip(cells[left:], widths[left:])]
    return "  ".join(out)


def median_us(texts: list[str], decide=rules_decision) -> float:
    """Median time of one decision, in microseconds."""
    decide(texts[0])  # the learned model loads its weights on first use
    times = []
    for _ in range(REPEATS):
        for text in texts:
            start = time.perf_counter_ns()
            decide(text)
            times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1000


def datasets() -> list[tuple[str, str, list[dict]]]:
    """(name, what it was used for, rows)."""
    kit = read_jsonl(str(EXAMPLES))
    sets = [("kit 中文", "规则+训练", [r for r in kit if has_chinese(r["text"])]),
            ("kit 英文", "规则+训练", [r for r in kit if not has_chinese(r["text"])]),
            ("自编开发例句", "规则+训练", read_jsonl(str(DATA / "end_dev_extra.jsonl")))]
    if ENDSET.is_dir():
        sets += [(path.stem, "规则+训练", read_jsonl(str(path)))
                 for path in sorted(ENDSET.glob("*.jsonl"))]
    for stem, use in (("end_fresh", "v1，12-02起调过"), ("end_fresh2", "v2，12-02起调过"),
                      ("end_fresh3", "v3，12-02起调过"), ("end_fresh4", "v4，12-02起调过"),
                      ("end_fresh5", "v5，12-02起调过"), ("end_fresh6", "v6，12-02起调过"),
                      ("end_fresh7", "v7，12-02起调过"), ("end_fresh8", "留出，未调"),
                      ("end_task", "任务v1，调过"), ("end_fresh9", "留出，未调"),
                      ("end_task2", "留出，未调")):  # the newest sets: held out when shipped
        sets += [(path.stem, use, read_jsonl(str(path)))
                 for path in sorted(DATA.glob(f"{stem}_*.jsonl"))]
    return sets


def main() -> int:
    widths = [26, 15, 12, 5, 9, 6, 5, 10, 6]
    print(row(["数据集", "用途", "策略", "条数", "precision", "recall", "F1", "误判结束率",
               "送模型"], widths, left=3))
    print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    all_texts: list[str] = []
    for name, use, rows in datasets():
        texts = [str(r["text"]) for r in rows]
        all_texts += texts
        unclear = sum(rules_decision(t).unclear for t in texts) / len(texts)
        for strategy in OFFLINE:
            m = evaluate(rows, strategy, no_model if strategy == "hybrid" else None)
            label = "hybrid无模型" if strategy == "hybrid" else strategy
            share = f"{unclear:.1%}" if strategy in ("hybrid", "combined") else ""
            print(row([name, use, label, m["n"], f"{m['precision']:.3f}", f"{m['recall']:.3f}",
                       f"{m['f1']:.3f}", f"{m['false_end_rate']:.2%}", share], widths, left=3))
    if not ENDSET.is_dir():
        print(f"（未找到开发集 {ENDSET}，没有评估它们）")
    print()
    all_texts = list(dict.fromkeys(all_texts))
    learned = EndDetector("learned")
    for name, decide in (("rules", rules_decision), ("learned", learned.decide)):
        print(f"{name} 单句判定中位耗时：{median_us(all_texts, decide):.1f} µs（{len(all_texts)} 句 × "
              f"{REPEATS} 轮，time.perf_counter_ns；目标 ≤ {TARGET_US[name]} µs）")
    print("送模型 = 规则没把握的比例（hybrid 交给大模型；“hybrid无模型”时沿用规则的猜测）；"
          "combined 除了规则守门的句子（提问、请求、提到告别语），都由学习模型决定。")
    print("用途“规则+训练”“v1–v7、任务v1，调过”：规则照着它改过、学习模型用它训练过，分数偏乐观；"
          "“留出，未调”的分数才是对没见过的数据的估计（python -m helpers.ending_train 打印交叉验证的分数）。")
    print()
    model_strategies()
    return 0


def model_strategies() -> None:
    """rules / llm / hybrid on the kit's examples, the model answering from recordings."""
    os.environ.setdefault("LLM_REPLAY_SPEED", "0")  # no simulated waiting, unless asked for
    import helpers
    from helpers.replay import current_server
    from helpers.tokens import PRICES, estimate_cost, format_cny

    settings = helpers.setup("bench_ending", mode="replay")  # whatever .env says: never spend money
    price_model = settings.model if settings.model in PRICES else helpers.DEFAULT_MODEL
    rows = read_jsonl(str(EXAMPLES))
    widths = [8, 5, 9, 6, 5, 8, 10, 10, 10, 14]
    print(f"三种策略（kit 全部 {len(rows)} 句；模型答案来自第 04 课的录制，回放模式，"
          f"速度 {current_server().speed:g}）")
    print(row(["策略", "条数", "precision", "recall", "F1", "模型调用", "输入tokens", "输出tokens",
               "live费用", "每句平均用时"], widths, left=1))
    print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    log = current_server().log
    failed = len(log.misses) + len(log.errors)
    for strategy in ("rules", "llm", "hybrid"):
        before = len(helpers.METER.calls)
        started = time.perf_counter()
        m = evaluate(rows, strategy)
        seconds = time.perf_counter() - started
        calls = helpers.METER.calls[before:]
        usage = {"input_tokens": sum(c.input_tokens for c in calls),
                 "output_tokens": sum(c.output_tokens for c in calls)}
        print(row([strategy, m["n"], f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                   len(calls), usage["input_tokens"], usage["output_tokens"],
                   format_cny(estimate_cost(usage, price_model)),
                   f"{seconds / m['n'] * 1e6:.0f} µs"], widths, left=1))
    print(f"live费用 = 这些 token 在 live 模式下按 {price_model} 价格（helpers.tokens.PRICES）估算；回放不花钱。")
    print("每句平均用时：llm/hybrid 在回放中是本机回放服务的开销，不是模型延迟（录制按速度 "
          "LLM_REPLAY_SPEED 模拟等待）；rules 的用时是真实的。")
    print("llm/hybrid 的分数衡量的是编写的模型答案（见 specs/04_end_detection.yaml），不是千问；"
          "有 Key 时 make record 会换成真实模型的答案。")
    fallbacks = len(log.misses) + len(log.errors) - failed  # each failed call fell back to the rules
    if fallbacks:
        print(f"警告：有 {fallbacks} 次判定没有录制可用，退回了规则（fallback:rules），分数不代表模型。")


if __name__ == "__main__":
    sys.exit(main())
