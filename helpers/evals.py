"""A small evaluation harness: question sets, graders, a runner, a result table (lessons 07, 08).

A question set is a JSONL file, one item per line:

    {"id": "fact-01", "category": "商品事实", "question": "…",
     "grader": {"type": "contains", "gold": ["399"]}}

Grader types (``helpers.graders``): exact, normalised, contains, numeric (gold, tol), regex
(pattern), json (schema: a JSON Schema), refusal; malformed output is a failed Verdict with a
reason, never an exception. ``run`` sends each item through ``helpers.chat`` (so replay, live and record all
work) with a few threads and a progress bar; ``Report`` turns runs into the table.
"""
from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .graders import GRADERS, Verdict

ILLUSTRATIVE = "示例数据：回答为预先编写的回放数据，运行 make record 可测真实模型"
LABELS = {"authored": ILLUSTRATIVE,
          "varied": "变化回放：测试用的随机回答，准确率没有意义",
          "recorded": "录制数据：回答录自真实模型（见录制文件的 source 字段）",
          "live": "实测：本次运行调用了在线模型（在线结果会不同）"}


@dataclass
class Item:
    id: str
    question: str
    category: str
    grader: dict


def load_items(path: str | Path) -> list[Item]:
    """Read a question set; a bad line is refused with its line number."""
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            items.append(Item(data["id"], data["question"], data["category"], data["grader"]))
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path} 第 {n} 行无法读取（{err}）：每行需要 id、question、"
                             "category、grader") from None
        if items[-1].grader.get("type") not in GRADERS:
            raise ValueError(f"{path} 第 {n} 行：未知的 grader 类型 {items[-1].grader.get('type')!r}")
    return items


def grade(item: Item, text: str) -> Verdict:
    spec = {k: v for k, v in item.grader.items() if k != "type"}
    return GRADERS[item.grader["type"]](text, **spec)



# --- the runner ---------------------------------------------------------------------------

@dataclass
class Row:
    item: Item
    text: str
    verdict: Verdict
    usage: dict = field(default_factory=dict)
    cost: float | None = None
    seconds: float = 0.0


def run(items: list[Item], model: str | None = None, *,
        messages_for: Callable[[Item], list | str] | None = None, workers: int = 4,
        progress: bool = True, **params) -> list[Row]:
    """Ask every item once (in parallel threads); returns one Row per item, in item order."""
    from .errors import LLMError
    from .llm import chat
    from .tokens import estimate_cost

    def one(item: Item) -> Row:
        started = time.perf_counter()
        try:
            reply = chat(messages_for(item) if messages_for else item.question,
                         model=model, **params)
        except LLMError as err:  # the table shows it; the run goes on
            return Row(item, "", Verdict(False, f"调用失败：{err}"), cost=0.0)
        try:
            cost = estimate_cost(reply.usage, reply.model)
        except (ValueError, KeyError):
            cost = None
        return Row(item, reply.text, grade(item, reply.text), reply.usage, cost,
                   time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        rows = pool.map(one, items)
        if progress:
            from tqdm.auto import tqdm

            rows = tqdm(rows, total=len(items), desc=model or "评测", unit="题")
        return list(rows)


def bootstrap_ci(passed: list[bool], rounds: int = 2000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the accuracy (seeded: the same data, the same interval)."""
    if not passed:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(passed)
    means = sorted(sum(rng.choices(passed, k=n)) / n for _ in range(rounds))
    tail = (1 - level) / 2
    return means[int(tail * rounds)], means[min(rounds - 1, int((1 - tail) * rounds))]


def price_row(model: str) -> dict:
    """Context window and list price of a model, from the kit's one model and price table."""
    from .config import context_window
    from .tokens import PRICE_DATE, estimate_cost

    per_1k = {side: estimate_cost({"input_tokens": 1000 * (side == "input"),
                                   "output_tokens": 1000 * (side == "output")}, model)
              for side in ("input", "output")}
    return {"model": model, "context": context_window(model), "input_per_1k": per_1k["input"],
            "output_per_1k": per_1k["output"], "date": PRICE_DATE}


def answers_source() -> str:
    """Where this run's answers come from: live, varied, recorded or authored."""
    import os

    from .config import current

    settings = current()
    if settings.mode in ("live", "record"):
        return "live"
    if settings.mode == "replay" and os.environ.get("LLM_REPLAY_VARIED", "") not in ("", "0"):
        return "varied"
    from .replay import recordings_dir  # at run time only: the machinery stays out of imports

    path = recordings_dir() / f"{settings.lesson}.json"
    exchanges = json.loads(path.read_text(encoding="utf-8"))["exchanges"] if path.is_file() else []
    recorded = exchanges and all(e.get("source") == "recorded" for e in exchanges)
    return "recorded" if settings.mode == "replay" and recorded else "authored"


# --- the table ----------------------------------------------------------------------------

@dataclass
class Summary:
    name: str
    n: int
    accuracy: float
    ci: tuple[float, float]
    by_category: dict[str, float]
    input_tokens: int
    output_tokens: int
    cost: float | None
    seconds: float  # mean latency per question

    def row(self) -> list[str]:
        from .tokens import format_cny

        cost = "—" if self.cost is None else format_cny(self.cost)
        return [self.name, f"{self.accuracy:.0%}（{self.ci[0]:.0%}–{self.ci[1]:.0%}）",
                *[f"{v:.0%}" for v in self.by_category.values()],
                f"{self.input_tokens} / {self.output_tokens}", cost, f"{self.seconds:.2f} 秒"]


def summarize(name: str, rows: list[Row]) -> Summary:
    passed = [r.verdict.passed for r in rows]
    categories: dict[str, list[bool]] = {}
    for r in rows:
        categories.setdefault(r.item.category, []).append(r.verdict.passed)
    costs = [r.cost for r in rows]
    return Summary(name, len(rows), sum(passed) / max(1, len(rows)), bootstrap_ci(passed),
                   {c: sum(v) / len(v) for c, v in categories.items()},
                   sum(int(r.usage.get("input_tokens", 0)) for r in rows),
                   sum(int(r.usage.get("output_tokens", 0)) for r in rows),
                   None if None in costs else sum(costs),
                   sum(r.seconds for r in rows) / max(1, len(rows)))


class Report:
    """Runs side by side: accuracy (bootstrap 95% interval), per category, tokens, cost, latency.

    The first line says what the numbers are (``LABELS``): over authored answers they are
    illustrative, never a measurement of the model.
    """

    def __init__(self, runs: dict[str, list[Row]], source: str | None = None):
        self.runs = runs
        self.source = source or answers_source()
        self.label = LABELS[self.source]
        self.summaries = [summarize(name, rows) for name, rows in runs.items()]

    def header(self) -> list[str]:
        first = self.summaries[0].by_category if self.summaries else {}
        return ["方案", "准确率（95% 区间）", *first, "tokens 输入 / 输出", "费用", "平均延迟"]

    def _repr_markdown_(self) -> str:
        lines = [f"**{self.label}**", "", "| " + " | ".join(self.header()) + " |",
                 "|" + "---|" * len(self.header())]
        lines += ["| " + " | ".join(s.row()) + " |" for s in self.summaries]
        return "\n".join(lines)

    def __repr__(self) -> str:
        lines = [self.label] + [" · ".join(f"{h} {v}" for h, v in zip(self.header(), s.row()))
                                for s in self.summaries]
        return "\n".join(lines)

    def failures(self, name: str) -> list[Row]:
        return [r for r in self.runs[name] if not r.verdict.passed]

    def cheapest_above(self, bar: float) -> Summary | None:
        """The rule of lesson 07: of the runs whose accuracy reaches ``bar``, the cheapest."""
        good = [s for s in self.summaries if s.accuracy >= bar and s.cost is not None]
        return min(good, key=lambda s: s.cost) if good else None
