"""Local token counts with the Qwen tokenizer that ships inside the dashscope package,
plus the kit's price table, cost estimates and a per-session usage meter.

No network: the vocabulary file is part of the installed SDK. Nothing here prints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping

from .config import MODES

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


@dataclass(frozen=True)
class Price:
    """List price of one model, per 1,000 tokens."""

    input_per_1k: float
    output_per_1k: float
    currency: str = "CNY"


PRICE_SOURCE = "https://help.aliyun.com/zh/model-studio/models"
PRICE_DATE = "2026-11-21"  # the day these figures were collected; check PRICE_SOURCE before trusting them

# China (Beijing) region, non-thinking mode, lowest input tier (the short-prompt band every lesson
# stays in), CNY per 1K tokens. Prices change often and thinking mode bills output much higher,
# so treat every estimate as "about".
PRICES: dict[str, Price] = {
    # Official models page (help.aliyun.com, older snapshot: "最低输入价格 0.0008元/千Token,
    # 最低输出价格 0.002元/千Token"); 2026 third-party guides quote the same 0.8 / 2 元 per million.
    "qwen-plus": Price(input_per_1k=0.0008, output_per_1k=0.002),
    # Same official snapshot (0.0003 / 0.0006 元/千Token); 2026 third-party guides agree.
    "qwen-turbo": Price(input_per_1k=0.0003, output_per_1k=0.0006),
    # UNCONFIRMED on the official page: third-party scrapes of the Bailian console
    # (tier "输入<=128K": input 0.00015, output 0.0015 元/千tokens).
    "qwen-flash": Price(input_per_1k=0.00015, output_per_1k=0.0015),
    # UNCONFIRMED: 2026 third-party guides quote 2.4 / 9.6 元 per million. The only official
    # snapshot found is older (qwen-max-2024-09-19 era, 0.02 / 0.06 元/千Token) and outdated.
    "qwen-max": Price(input_per_1k=0.0024, output_per_1k=0.0096),
    # Open-weight Qwen3 (weights public, fine-tunable; lesson 07). UNCONFIRMED: 2025 Bailian
    # price list as quoted by third-party guides, non-thinking mode (0.001 / 0.004 元/千Token).
    "qwen3-14b": Price(input_per_1k=0.001, output_per_1k=0.004),
}

# "record" calls the real API (and saves the answer for later replay), so it is billed like "live".
# Of config.MODES, only replay and author are free: they never reach DashScope.
_BILLED_MODES = ("live", "record")


class UnknownModelError(ValueError):
    """The model has no entry in PRICES."""


def price_for(model: str) -> Price:
    """The Price of `model`; raises UnknownModelError with the list of known models."""
    try:
        return PRICES[model]
    except KeyError:
        known = "、".join(sorted(PRICES))
        raise UnknownModelError(
            f"价格表中没有模型 {model!r}（已收录：{known}）。"
            f"请到 {PRICE_SOURCE} 查询单价，并补充到 helpers/tokens.py 的 PRICES 中。"
        ) from None


def _token_counts(usage: Mapping[str, int]) -> tuple[int, int]:
    missing = [k for k in ("input_tokens", "output_tokens") if k not in usage]
    if missing:
        raise KeyError(f"usage 中缺少字段：{', '.join(missing)}（应包含 input_tokens 和 output_tokens）")
    return int(usage["input_tokens"]), int(usage["output_tokens"])


def estimate_cost(usage: Mapping[str, int], model: str) -> float:
    """Estimated cost of one call from its usage (`input_tokens`, `output_tokens`)."""
    price = price_for(model)
    input_tokens, output_tokens = _token_counts(usage)
    return input_tokens / 1000 * price.input_per_1k + output_tokens / 1000 * price.output_per_1k


def format_cny(amount: float) -> str:
    """'¥0.00019'-style text: two significant digits, so a tiny cost never shows as ¥0.00."""
    if amount == 0:
        return "¥0"
    decimals = max(2, 1 - math.floor(math.log10(abs(amount))))
    return "¥" + f"{amount:.{decimals}f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------
# Usage meter
# ---------------------------------------------------------------------------


class BudgetExceeded(Exception):
    """Raised by UsageMeter.check() before a billed call once the session budget is spent."""

    def __init__(self, budget: float, spent: float):
        self.budget, self.spent = budget, spent
        super().__init__(
            f"本次会话的预算 {format_cny(budget)} 已用完（已花费约 {format_cny(spent)}）。"
            "如需继续，请调高预算上限（如 UsageMeter(budget=1.0)），或开始一个新会话；回放模式不受影响。"
        )


@dataclass(frozen=True)
class CallRecord:
    """One recorded call. Replay calls are stored with cost 0 and billed=False."""

    model: str
    mode: str
    input_tokens: int
    output_tokens: int
    cost: float
    billed: bool


@dataclass
class UsageMeter:
    """Token and cost totals for one session, with an optional budget cap (in CNY)."""

    budget: float | None = None
    calls: list[CallRecord] = field(default_factory=list)

    def record(self, usage: Mapping[str, int], model: str, mode: str = "live") -> CallRecord:
        """Add one finished call. Never refuses: the money is already spent."""
        if mode not in MODES:
            raise ValueError(f"mode 只能是 {' / '.join(MODES)}，收到 {mode!r}")
        billed = mode in _BILLED_MODES
        # Replays cost nothing, so an unpriced model is fine there.
        cost = estimate_cost(usage, model) if billed else 0.0
        call = CallRecord(model, mode, *_token_counts(usage), cost=cost, billed=billed)
        self.calls.append(call)
        return call

    def check(self, mode: str = "live") -> None:
        """Call before each request: raises BudgetExceeded for a billed call once the budget is spent."""
        if mode in _BILLED_MODES and self.budget is not None and self.cost >= self.budget:
            raise BudgetExceeded(self.budget, self.cost)

    @property
    def input_tokens(self) -> int:
        return sum(c.input_tokens for c in self.calls)

    @property
    def output_tokens(self) -> int:
        return sum(c.output_tokens for c in self.calls)

    @property
    def cost(self) -> float:
        return sum(c.cost for c in self.calls)

    @property
    def remaining(self) -> float | None:
        """Budget left (never below 0), or None without a cap."""
        return None if self.budget is None else max(self.budget - self.cost, 0.0)

    def totals(self) -> dict[str, float | int]:
        """Session totals: calls, input_tokens, output_tokens, cost."""
        return {"calls": len(self.calls), "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost": self.cost}

    def summary(self) -> str:
        """One Chinese line describing the session so far."""
        text = (f"本次会话：{len(self.calls)} 次调用，输入 {self.input_tokens} tokens，"
                f"输出 {self.output_tokens} tokens，约 {format_cny(self.cost)}")
        replays = sum(not c.billed for c in self.calls)
        if replays and replays == len(self.calls):
            text += "（回放模式不计费）"
        elif replays:
            text += f"（其中 {replays} 次为回放，不计费）"
        if self.budget is not None:
            text += f"，预算 {format_cny(self.budget)}，剩余 {format_cny(self.remaining)}"
        return text

    def as_rows(self) -> list[dict[str, object]]:
        """One dict per call (keys: call, model, mode, input_tokens, output_tokens, cost, billed)."""
        return [{"call": i, "model": c.model, "mode": c.mode, "input_tokens": c.input_tokens,
                 "output_tokens": c.output_tokens, "cost": c.cost, "billed": c.billed}
                for i, c in enumerate(self.calls, start=1)]

    def reset(self) -> None:
        """Start a new session with the same budget."""
        self.calls.clear()


METER = UsageMeter()  # the kit's default session meter; lessons may also create their own
