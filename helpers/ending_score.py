"""Lesson 04: measuring an end detector (the strategies are in helpers/ending.py).

``score`` counts, for any text -> bool function, the four outcomes against the labels
(TP, FP, FN, TN) and derives precision, recall, F1 and the false-ending rate: the share
of turns where the user was not done but the chat would have ended. ``read_jsonl`` reads
the labeled files (``{"text", "label"}`` per line; label 1: the user wants to end).
"""
from __future__ import annotations

import json
from typing import Callable, Iterable, Mapping


def score(rows: Iterable[Mapping], ends: Callable[[str], bool]) -> dict:
    """Confusion counts, precision/recall/F1 and false-ending rate of any text -> bool function."""
    tp = fp = fn = tn = 0
    for row in rows:
        actual, predicted = int(row["label"]) == 1, bool(ends(str(row["text"])))
        tp += actual and predicted
        fp += predicted and not actual
        fn += actual and not predicted
        tn += not actual and not predicted
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall,
            "f1": f1, "false_end_rate": fp / (fp + tn) if fp + tn else 0.0, "n": tp + fp + fn + tn}


def read_jsonl(path: str) -> list[dict]:
    """Rows of a JSON Lines file, blank lines skipped."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
