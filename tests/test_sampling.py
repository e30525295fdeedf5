"""Lesson 01's next-token picture: a real bigram distribution, reshaped by temperature and top_p."""
from __future__ import annotations

import pytest

from helpers import sampling


def test_bigram_distribution_is_computed_from_the_knowledge_base():
    probs = sampling.next_token_probs("鞋", top=8)
    assert len(probs) == 8 and round(sum(probs.values()), 6) == 1
    assert list(probs)[0] == "面"  # 鞋面 is the most frequent pair in notebooks/data/kb
    assert list(probs.values()) == sorted(probs.values(), reverse=True)
    with pytest.raises(ValueError, match="token"):
        sampling.next_token_probs("这双")  # two tokens


def test_temperature_sharpens_and_flattens():
    probs = {"a": 0.6, "b": 0.3, "c": 0.1}
    assert sampling.with_temperature(probs, 0) == {"a": 1.0, "b": 0.0, "c": 0.0}
    assert sampling.with_temperature(probs, 1) == pytest.approx(probs)
    cold, hot = sampling.with_temperature(probs, 0.5), sampling.with_temperature(probs, 2)
    assert cold["a"] > 0.6 > hot["a"] and hot["c"] > 0.1 > cold["c"]
    assert sum(hot.values()) == pytest.approx(1)


def test_top_p_keeps_the_nucleus():
    probs = {"a": 0.6, "b": 0.3, "c": 0.1}
    assert sampling.with_top_p(probs, 0.8) == pytest.approx({"a": 2 / 3, "b": 1 / 3, "c": 0})
    assert sampling.with_top_p(probs, 0.5) == pytest.approx({"a": 1, "b": 0, "c": 0})
    assert sampling.with_top_p(probs, 1) == pytest.approx(probs)
