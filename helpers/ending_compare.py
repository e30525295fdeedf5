"""Lesson 04b: every end-detection strategy on the same labelled rows, with calls, tokens, time.

``compare(rows)`` returns one dict per strategy (the metrics of ``ending.evaluate`` plus
``seconds``, ``calls``, ``input_tokens`` and ``output_tokens`` from the usage meter) and what
the model answered for each sentence it was asked about. ``on_step(strategy, None)`` is called
as a strategy starts and ``on_step(strategy, metrics)`` as it finishes, so a lesson can show
progress.

The llm strategy asks about every sentence. The questions do not depend on each other, so
``ask_all`` sends them a few at a time from worker threads instead of one after another.
A question that fails (no network, an answer that is not a label) is left out of the answers;
the detector then falls back to the rules for that sentence, as it does in a chat.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Mapping, Optional

from .ending import evaluate
from .ending_llm import llm_classify
from .meter import METER

STRATEGIES = ("rules", "learned", "combined", "llm", "hybrid")


def _ask_one(text: str) -> Optional[bool]:
    try:
        return llm_classify(text)
    except Exception:  # noqa: BLE001 - a failed question falls back to the rules
        return None


def ask_all(texts: list[str], workers: int = 8) -> dict[str, bool]:
    """Ask the model about every text, ``workers`` at a time; failed questions are left out."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        answers = dict(zip(texts, pool.map(_ask_one, texts)))
    return {text: ends for text, ends in answers.items() if ends is not None}


def compare(rows: Iterable[Mapping], strategies: Iterable[str] = STRATEGIES,
            on_step: Optional[Callable[[str, Optional[dict]], None]] = None
            ) -> tuple[dict[str, dict], dict[str, bool]]:
    """(metrics per strategy, the model's answer per sentence it was asked about)."""
    rows = list(rows)
    model_said: dict[str, bool] = {}

    def ask_and_note(text: str) -> bool:
        model_said[text] = llm_classify(text)
        return model_said[text]

    results: dict[str, dict] = {}
    for strategy in strategies:
        if on_step:
            on_step(strategy, None)
        before, started = len(METER.calls), time.perf_counter()
        classify: Callable[[str], bool] = ask_and_note
        if strategy == "llm":  # all questions first, in parallel; then evaluate reads them
            model_said.update(ask_all([str(row["text"]) for row in rows]))
            classify = model_said.__getitem__  # KeyError for a failed one: rules stand in
        metrics = evaluate(rows, strategy, classify=classify)
        calls = METER.calls[before:]
        results[strategy] = {**metrics, "seconds": time.perf_counter() - started,
                             "calls": len(calls),
                             "input_tokens": sum(c.input_tokens for c in calls),
                             "output_tokens": sum(c.output_tokens for c in calls)}
        if on_step:
            on_step(strategy, results[strategy])
    return results, model_said
