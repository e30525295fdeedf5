"""Lesson 04: train the ``learned`` end detector (helpers/ending_model.py) from labeled rows.

    python -m helpers.ending_train            # train, report, write helpers/ending_model.npz

Data: the kit's examples (notebooks/data/end_examples.jsonl), the project's own extra
development examples (bench/data/end_dev_extra.jsonl), fresh sets v1-v7 and task-dialogue set
v1 (bench/data/end_fresh_{zh,en}.jsonl, end_fresh2_* to end_fresh7_*, end_task_*: each held out
until it was measured once, used for tuning and training since 2026-12-02), training sets
written for it (bench/data/end_train6?_*) and, when they exist next to the checkout, the
development sets in ../shared/data/endset/ (not part of the kit; without them the model learns
from the kit's files alone). The newest blind sets (end_fresh8_*, end_fresh9_*, end_task2_*)
are never read here: a score on them would no longer be a fair test.
The kit's customer-service rows weigh KIT_WEIGHT times a corpus row: the chat's register.

Method: logistic regression on hashed character n-grams, full-batch gradient descent with
Adam and an L2 penalty, in numpy; fixed seed. The decision threshold is chosen on
out-of-fold predictions (5-fold cross-validation) as the lowest one whose precision is at
least TARGET_PRECISION, never below MIN_THRESHOLD: a false ending costs more than a missed one.
``--leave-out STEM`` also trains without the files whose name starts with STEM and scores
them: the honest estimate of what a new blind set will show (``--leave-out end_fresh7``).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .ending_model import BUCKETS, ORDERS, WEIGHTS, features
from .envfile import KIT_ROOT as ROOT

DATA = ROOT / "bench" / "data"
# Blind sets, each measured once and then used for tuning and training (bench/data/README.md).
MEASURED_SETS = ("end_fresh", "end_fresh2", "end_fresh3", "end_fresh4", "end_fresh5",
                 "end_fresh6", "end_fresh7", "end_task")
KIT_FILES = [ROOT / "notebooks" / "data" / "end_examples.jsonl", DATA / "end_dev_extra.jsonl",
             *(DATA / f"{stem}_{language}.jsonl"
               for stem in MEASURED_SETS for language in ("zh", "en")),
             *sorted(DATA.glob("end_train*_??.jsonl"))]  # written to train on
DEV_SETS = ROOT.parent / "shared" / "data" / "endset"
SEED = 20240518
EPOCHS, LEARNING_RATE, L2 = 300, 0.2, 1e-6
KIT_WEIGHT = 3.0  # a customer-service row of the kit counts as this many corpus rows
POSITIVE_WEIGHT = 4.0  # endings are rarer than other turns; weigh them up, but not to balance
TARGET_PRECISION = 0.98
MIN_THRESHOLD = 0.90  # the model alone ends no lower than combined's SURE_END (helpers/ending.py)
FOLDS = 5


def bare_acknowledgement(text: str) -> bool:
    """Only 好的 / ok / great and fillers, no closing: whether it ends depends on the turn before."""
    from .ending import CLOSING_RULES, _content, _found, _HAS_EN, _ZH_CHAR
    from .ending_normalize import normalize

    t = normalize(text)
    zh, en = _ZH_CHAR.search(t) is not None, _HAS_EN.search(t) is not None
    return _content(t, zh, en) == 0 and not any(_found(r, t, zh, en) for r in CLOSING_RULES)


def training_rows() -> tuple[list[dict], list[str]]:
    """Every training row, with ``_file`` (its file's name) and ``_weight`` added.

    A bare acknowledgement labeled "end" is left out: one message cannot show the turn before,
    and the kit keeps the chat going there (precision first; CLINC150 labels "great" 0).
    """
    files = list(KIT_FILES) + (sorted(DEV_SETS.glob("*.jsonl")) if DEV_SETS.is_dir() else [])
    rows = []
    for path in files:
        weight = KIT_WEIGHT if path in KIT_FILES else 1.0
        with open(path, encoding="utf-8") as f:
            rows += [{**row, "_file": path.name, "_weight": weight}
                     for row in map(json.loads, filter(str.strip, f))
                     if not (row["label"] == 1 and bare_acknowledgement(str(row["text"])))]
    return rows, [p.name for p in files]


def sparse(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row index, column index, value) of every nonzero feature; rows scaled by 1/sqrt(len)."""
    rows, cols, vals = [], [], []
    for r, text in enumerate(texts):
        grams = features(text)
        rows += [r] * len(grams)
        cols += grams
        vals += [1 / np.sqrt(len(grams))] * len(grams)
    return np.array(rows), np.array(cols), np.array(vals)


def fit(X: tuple, y: np.ndarray, weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weighted logistic regression by Adam on the full batch (deterministic)."""
    r, c, v = X
    n = len(y)
    sample_weight = np.where(y == 1, POSITIVE_WEIGHT, 1.0) * (1.0 if weight is None else weight)
    sample_weight /= sample_weight.mean()
    w, b = np.zeros(BUCKETS), 0.0
    m, s, mb, sb = np.zeros(BUCKETS), np.zeros(BUCKETS), 0.0, 0.0
    for step in range(1, EPOCHS + 1):
        z = b + np.bincount(r, weights=w[c] * v, minlength=n)
        error = (1 / (1 + np.exp(-z)) - y) * sample_weight / n
        grad = np.bincount(c, weights=error[r] * v, minlength=BUCKETS) + L2 * w
        grad_b = error.sum()
        m, s = 0.9 * m + 0.1 * grad, 0.999 * s + 0.001 * grad ** 2
        mb, sb = 0.9 * mb + 0.1 * grad_b, 0.999 * sb + 0.001 * grad_b ** 2
        w -= LEARNING_RATE * (m / (1 - 0.9 ** step)) / (np.sqrt(s / (1 - 0.999 ** step)) + 1e-8)
        b -= LEARNING_RATE * (mb / (1 - 0.9 ** step)) / (np.sqrt(sb / (1 - 0.999 ** step)) + 1e-8)
    return w, b


def predict(X: tuple, n: int, w: np.ndarray, b: float) -> np.ndarray:
    r, c, v = X
    return 1 / (1 + np.exp(-(b + np.bincount(r, weights=w[c] * v, minlength=n))))


def subset(X: tuple, keep: np.ndarray) -> tuple:
    """The rows of X whose index is in ``keep``, renumbered 0..len(keep)-1."""
    r, c, v = X
    new_index = np.full(r.max() + 1, -1)
    new_index[keep] = np.arange(len(keep))
    mask = new_index[r] >= 0
    return new_index[r[mask]], c[mask], v[mask]


def out_of_fold(X: tuple, y: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Each row's probability from a model that did not see it (FOLDS-fold, seeded)."""
    order = np.random.default_rng(SEED).permutation(len(y))
    weight = np.ones(len(y)) if weight is None else weight
    oof = np.zeros(len(y))
    for k in range(FOLDS):
        test = np.sort(order[k::FOLDS])
        train = np.setdiff1d(order, test)
        w, b = fit(subset(X, train), y[train], weight[train])
        oof[test] = predict(subset(X, test), len(test), w, b)
    return oof


def metrics(p: np.ndarray, y: np.ndarray, threshold: float) -> dict:
    pred = p >= threshold
    tp, fp = int((pred & (y == 1)).sum()), int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "fp": fp}


def choose_threshold(p: np.ndarray, y: np.ndarray) -> float:
    for percent in range(30, 96):
        if metrics(p, y, percent / 100)["precision"] >= TARGET_PRECISION:
            return max(percent / 100, MIN_THRESHOLD)
    return 0.95


def leave_out(X: tuple, y: np.ndarray, weight: np.ndarray, files: np.ndarray,
              names: list[str], stem: str) -> None:
    """Train without the files ``stem_*`` (threshold from the rest's out-of-fold scores), score them."""
    held = np.char.startswith(files.astype(str), stem + "_")
    train, test = np.flatnonzero(~held), np.flatnonzero(held)
    threshold = choose_threshold(out_of_fold(subset(X, train), y[train], weight[train]), y[train])
    w, b = fit(subset(X, train), y[train], weight[train])
    p = predict(subset(X, test), len(test), w, b)
    print(f"留出 {stem}_*（用其余数据训练，阈值 {threshold}）：")
    for name in (n for n in names if n.startswith(stem + "_")):
        m = metrics(p[files[test] == name], y[test][files[test] == name], threshold)
        print(f"  {name}：precision={m['precision']:.3f} recall={m['recall']:.3f} f1={m['f1']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.ending_train", description=__doc__)
    parser.add_argument("--out", default=str(WEIGHTS), help="where to write the weights")
    parser.add_argument("--oof", help="also save the out-of-fold probabilities (.npy) here")
    parser.add_argument("--leave-out", metavar="STEM",
                        help="also score the files named STEM_* with a model trained without them")
    args = parser.parse_args(argv)
    rows, names = training_rows()
    texts = [str(row["text"]) for row in rows]
    y = np.array([int(row["label"]) for row in rows], dtype=float)
    weight = np.array([row["_weight"] for row in rows])
    X = sparse(texts)
    print(f"训练数据：{len(rows)} 句（{int(y.sum())} 句结束），来自 {', '.join(names)}")
    oof = out_of_fold(X, y, weight)
    threshold = choose_threshold(oof, y)
    m = metrics(oof, y, threshold)
    print(f"{FOLDS} 折交叉验证（每句由没见过它的模型打分），阈值 {threshold}："
          f"precision={m['precision']:.3f} recall={m['recall']:.3f} f1={m['f1']:.3f}")
    files = np.array([row["_file"] for row in rows])
    for name in names:  # the same out-of-fold scores, file by file
        part = files == name
        m = metrics(oof[part], y[part], threshold)
        print(f"  {name}：precision={m['precision']:.3f} recall={m['recall']:.3f} f1={m['f1']:.3f}")
    if args.oof:
        np.save(args.oof, oof)
    if args.leave_out:
        leave_out(X, y, weight, files, names, args.leave_out)
    w, b = fit(X, y, weight)
    np.savez_compressed(args.out, weights=w.astype(np.float16), bias=np.float64(b),
                        threshold=np.float64(threshold), orders=np.array(ORDERS), seed=SEED)
    print(f"已写入 {args.out}（{Path(args.out).stat().st_size // 1024} KB）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
