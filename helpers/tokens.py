"""Lesson 02: local token counts with the Qwen tokenizer that ships inside the dashscope package,
plus the kit's price table, cost estimates and a per-session usage meter.

No network: the vocabulary file is part of the installed SDK. Nothing here prints.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping

from . import models

# Qwen chat models wrap every message in ChatML:
#   <|im_start|>{role}\n{content}<|im_end|>\n   ... and the reply starts after <|im_start|>assistant\n
# These markers are what makes the server's input_tokens larger than the bare text count.
_IM_START, _IM_END = "<|im_start|>", "<|im_end|>"


@lru_cache(maxsize=1)
def _tokenizer():
    from dashscope.tokenizers import get_tokenizer

    return get_tokenizer("qwen-plus")


def count_tokens(text: str) -> int:
    """Number of Qwen tokens in plain text (no chat template)."""
    return len(_tokenizer().encode(text)) if text else 0


def chat_template(messages: Iterable[Mapping[str, str]]) -> str:
    """The ChatML text a Qwen chat model actually reads for these messages."""
    parts = [f"{_IM_START}{m['role']}\n{m['content']}{_IM_END}\n" for m in messages]
    return "".join(parts) + f"{_IM_START}assistant\n"


def count_message_tokens(messages: Iterable[Mapping[str, str]]) -> int:
    """Input tokens for a chat request: the messages inside the ChatML template."""
    return len(_tokenizer().encode(chat_template(messages)))


# ---------------------------------------------------------------------------
# Prices and cost estimates
# ---------------------------------------------------------------------------


class Usage(dict):
    """The token usage one call reports: a plain dict (input_tokens, output_tokens, …) with a
    short Chinese repr. ``output_tokens`` already includes the reasoning of a thinking call;
    ``reasoning_tokens`` is that part (native ``output_tokens_details``, compatible
    ``completion_tokens_details``; lesson 03b)."""

    @classmethod
    def of(cls, raw: Mapping | None) -> "Usage":
        """From the SDK's usage (dict-like), compatible-mode names mapped to native ones."""
        data = dict(raw or {})
        if "prompt_tokens" in data and "input_tokens" not in data:
            data["input_tokens"] = data.get("prompt_tokens") or 0
            data["output_tokens"] = data.get("completion_tokens") or 0
            if data.get("completion_tokens_details"):
                data["output_tokens_details"] = dict(data["completion_tokens_details"])
        return cls(data)

    @property
    def reasoning_tokens(self) -> int:
        details = self.get("output_tokens_details") or {}
        return int(details.get("reasoning_tokens") or self.get("reasoning_tokens") or 0)

    def describe(self) -> str:
        if "input_tokens" not in self:
            return "（没有用量信息）"
        thought = f"（其中思考 {self.reasoning_tokens}）" if self.reasoning_tokens else ""
        return (f"输入 {self['input_tokens']} tokens · 输出 {self.get('output_tokens', 0)}"
                f" tokens{thought}")

    def __repr__(self) -> str:
        return f"用量：{self.describe()}"

    def _repr_markdown_(self) -> str:
        return f"**用量**：{self.describe()}"


@dataclass(frozen=True)
class Price:
    """List price of one model, per 1,000 tokens (the catalogue stores 元 per million)."""

    input_per_1k: float
    output_per_1k: float
    currency: str = "CNY"
    tier: str = field(default="", compare=False)  # e.g. "≤128K、非思考"
    # Thinking mode's output price where the catalogue has checked one; None: not checked,
    # and a thinking call is estimated at output_per_1k (see docs/dashscope-wire.md §6).
    thinking_output_per_1k: float | None = field(default=None, compare=False)

    @property
    def input_per_million(self) -> float:
        return round(self.input_per_1k * 1000, 6)

    @property
    def output_per_million(self) -> float:
        return round(self.output_per_1k * 1000, 6)


PRICE_SOURCE = models.SOURCE
PRICE_DATE = models.READ_ON  # the day the catalogue was read; check PRICE_SOURCE before trusting it


def _price(tier: models.Tier) -> Price:
    """China (Beijing), non-thinking mode, the lowest input tier: the band every lesson stays in.
    Thinking mode bills output higher and longer inputs cost more, so every estimate is "about"."""
    label = "、".join(p for p in (tier.tier, "非思考") if p and p != "无阶梯") or "非思考"
    thinking = None if tier.thinking_output is None else round(tier.thinking_output / 1000, 9)
    return Price(input_per_1k=round(tier.input / 1000, 9), output_per_1k=round(tier.output / 1000, 9),
                 tier=label, thinking_output_per_1k=thinking)


# From helpers/data/models.json; models without a checked price are left out (cost "unknown").
PRICES: dict[str, Price] = {name: _price(m.prices[0]) for name, m in models.CATALOGUE.items()
                            if m.prices and name in models.MODELS}


class UnknownModelError(ValueError):
    """The model has no entry in PRICES."""


class PriceUnknownWarning(UserWarning):
    """A billed call to a model the catalogue has no price for: its cost is shown as unknown."""


def price_for(model: str) -> Price:
    """The Price of `model` (a dated snapshot prices as its alias); raises UnknownModelError."""
    price = PRICES.get(model.strip()) or PRICES.get(models.base_model(model))
    if price is None:
        known = "、".join(sorted(PRICES))
        raise UnknownModelError(
            f"价格表中没有模型 {model!r}（已收录：{known}）。"
            f"请到 {PRICE_SOURCE} 查询单价，并补充到 helpers/data/models.json 中。"
        )
    return price


def _token_counts(usage: Mapping[str, int]) -> tuple[int, int]:
    usage = Usage.of(usage)  # compatible-mode names too
    missing = [k for k in ("input_tokens", "output_tokens") if k not in usage]
    if missing:
        raise KeyError(f"usage 中缺少字段：{', '.join(missing)}（应包含 input_tokens 和 output_tokens）")
    return int(usage["input_tokens"]), int(usage["output_tokens"])


def reasoning_tokens(usage: Mapping) -> int:
    """The reasoning part of ``output_tokens`` (0 for a call that did not think)."""
    return Usage.of(usage).reasoning_tokens


def estimate_cost(usage: Mapping[str, int], model: str) -> float | None:
    """Estimated cost of one call from its usage (`input_tokens`, `output_tokens`).

    Reasoning is billed as output: it is part of ``output_tokens`` as the service reports it,
    at the thinking-mode output price when the catalogue has one (else the output price).
    None (with a PriceUnknownWarning) when the catalogue has no price for the model: the call
    has been answered, and billed, already, so this never raises for a missing price.
    """
    input_tokens, output_tokens = _token_counts(usage)
    try:
        price = price_for(model)
    except UnknownModelError as err:
        warnings.warn(f"{err} 本次费用记为「未知」。", PriceUnknownWarning, stacklevel=2)
        return None
    output_price = price.output_per_1k
    if reasoning_tokens(usage) and price.thinking_output_per_1k is not None:
        output_price = price.thinking_output_per_1k  # the whole output of a thinking call
    return input_tokens / 1000 * price.input_per_1k + output_tokens / 1000 * output_price


def format_cny(amount: float | None) -> str:
    """'¥0.00019'-style text: two significant digits, so a tiny cost never shows as ¥0.00."""
    if amount is None:
        return "未知"
    if amount == 0:
        return "¥0"
    decimals = max(2, 1 - math.floor(math.log10(abs(amount))))
    return "¥" + f"{amount:.{decimals}f}".rstrip("0").rstrip(".")
