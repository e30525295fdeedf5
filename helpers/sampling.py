"""Lesson 01: how a model picks the next token — a distribution, reshaped by temperature and top_p.

The distribution is computed here, for real, by a named method: a token bigram model (counts of
which Qwen token follows which) over the course's knowledge base, notebooks/data/kb. A real chat
model computes its distribution with a neural network over the whole context; the reshaping that
``temperature`` and ``top_p`` do to it is the same arithmetic as below. Nothing here prints.
"""
from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from pathlib import Path

METHOD = "二元语法（bigram）计数：千问分词器切分 notebooks/data/kb 后，数每个 token 后面跟着什么"


@lru_cache(maxsize=1)
def _corpus_tokens() -> tuple[int, ...]:
    from .config import KIT_ROOT
    from .tokens import _tokenizer

    folder = KIT_ROOT / "notebooks" / "data" / "kb"
    text = "".join(Path(p).read_text(encoding="utf-8") for p in sorted(folder.glob("*.md")))
    return tuple(_tokenizer().encode(text))


def next_token_probs(previous: str, top: int = 10) -> dict[str, float]:
    """P(next token | previous token) from the bigram counts, the ``top`` most likely, summing
    to 1 over those shown. ``previous`` must be one token; whitespace-only tokens are left out."""
    from .tokens import _tokenizer

    tokenizer = _tokenizer()
    ids = tokenizer.encode(previous)
    if len(ids) != 1:
        raise ValueError(f"「{previous}」是 {len(ids)} 个 token，请换成一个 token 的词")
    tokens = _corpus_tokens()
    counts = Counter(b for a, b in zip(tokens, tokens[1:]) if a == ids[0])
    pieces = {tokenizer.decode([t]): n for t, n in counts.most_common()
              if tokenizer.decode([t]).strip()}
    kept = dict(list(pieces.items())[:top])
    total = sum(kept.values())
    if not total:
        raise ValueError(f"知识库里「{previous}」后面没有出现过别的 token")
    return {piece: n / total for piece, n in kept.items()}


def with_temperature(probs: dict[str, float], temperature: float) -> dict[str, float]:
    """Divide the log-probabilities (the logits, up to a constant) by ``temperature`` and
    renormalise; temperature 0 means always the most likely token (greedy)."""
    if temperature < 0:
        raise ValueError("temperature 不能为负数")
    if temperature == 0:
        best = max(probs, key=probs.get)
        return {k: float(k == best) for k in probs}
    weights = {k: math.exp(math.log(p) / temperature) for k, p in probs.items() if p > 0}
    total = sum(weights.values())
    return {k: weights.get(k, 0.0) / total for k in probs}


def with_top_p(probs: dict[str, float], top_p: float) -> dict[str, float]:
    """Keep the most likely tokens until their total reaches ``top_p`` (nucleus sampling,
    Holtzman et al. 2020), drop the rest, renormalise."""
    if not 0 < top_p <= 1:
        raise ValueError("top_p 应在 (0, 1] 之间")
    kept, running = [], 0.0
    for k, p in sorted(probs.items(), key=lambda kv: -kv[1]):
        if running >= top_p:
            break
        kept.append(k)
        running += p
    return {k: (probs[k] / running if k in kept else 0.0) for k in probs}
