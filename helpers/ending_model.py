"""Lesson 04's ``learned`` strategy: a character n-gram linear model, learned from examples.

Instead of writing rules, let labeled sentences decide which pieces of text matter. A
sentence becomes the bag of its character n-grams (1 to 4 characters, after ``normalize``,
with ^ and $ marking its ends); each n-gram is hashed to one of ``BUCKETS`` weights; the
sum of the weights, through the logistic function, is the probability that the user is done.
The weights are learned by ``python -m helpers.ending_train`` (logistic regression in numpy,
fixed seed) and shipped in ``helpers/ending_model.npz``, a small file read once.
"""
from __future__ import annotations

import math
import zlib
from functools import lru_cache
from pathlib import Path

from .ending_normalize import normalize

WEIGHTS = Path(__file__).with_name("ending_model.npz")
BUCKETS = 1 << 16  # hashed feature slots: collisions are rare enough at this size
ORDERS = (1, 2, 3, 4)  # n-gram lengths, in characters


def features(text: str) -> list[int]:
    """The hashed n-gram indices of a sentence (repeats kept: they count twice)."""
    t = "^" + normalize(text) + "$"
    grams = [t[i:i + n] for n in ORDERS for i in range(len(t) - n + 1)]
    return [zlib.crc32(g.encode("utf-8")) % BUCKETS for g in grams]


@lru_cache(maxsize=1)
def load() -> tuple[list[float], float, float]:
    """(weights, bias, threshold) from the shipped file, as plain Python floats."""
    import numpy as np  # only when the learned strategy is first used

    with np.load(WEIGHTS) as data:
        return (data["weights"].astype(float).tolist(), float(data["bias"]),
                float(data["threshold"]))


def probability(text: str) -> float:
    """How sure the model is that the user wants to end (0 to 1)."""
    weights, bias, _ = load()
    grams = features(text)
    z = bias + sum(weights[i] for i in grams) / math.sqrt(len(grams))
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def learned_ends(text: str) -> bool:
    """True when the probability reaches the threshold chosen at training time."""
    return probability(text) >= load()[2]
