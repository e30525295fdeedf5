"""Lesson 02: the usage meter — tokens and cost of every call in a session, with a budget cap.

Replay calls are counted but cost nothing; a session budget refuses further live calls once
it is spent. Prices come from helpers/tokens.py (the model catalogue). Nothing here prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .config import MODES
from .tokens import _token_counts, estimate_cost, format_cny, reasoning_tokens

# "record" calls the real API (and saves the answer for later replay), so it is billed like "live".
# Of config.MODES, only replay and author are free: they never reach DashScope.
_BILLED_MODES = ("live", "record")

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
    cost: float | None  # None: billed, but the catalogue has no price for the model
    billed: bool
    reasoning_tokens: int = 0  # the part of output_tokens a thinking model spent thinking


@dataclass
class UsageMeter:
    """Token and cost totals for one session, with an optional budget cap (in CNY)."""

    budget: float | None = None
    calls: list[CallRecord] = field(default_factory=list)

    def record(self, usage: Mapping[str, int], model: str, mode: str = "live") -> CallRecord:
        """Add one finished call. Never refuses or raises: the money is already spent."""
        if mode not in MODES:
            raise ValueError(f"mode 只能是 {' / '.join(MODES)}，收到 {mode!r}")
        billed = mode in _BILLED_MODES
        # Replays cost nothing, so an unpriced model is fine there.
        cost = estimate_cost(usage, model) if billed else 0.0
        call = CallRecord(model, mode, *_token_counts(usage), cost=cost, billed=billed,
                          reasoning_tokens=reasoning_tokens(usage))
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
    def reasoning_tokens(self) -> int:
        """Output tokens spent on reasoning (thinking models, lesson 03b); already in output."""
        return sum(c.reasoning_tokens for c in self.calls)

    @property
    def cost(self) -> float:
        """Known cost so far; calls without a price are counted in ``unpriced``."""
        return sum(c.cost for c in self.calls if c.cost is not None)

    @property
    def unpriced(self) -> int:
        """Billed calls whose cost is unknown (no price in the catalogue)."""
        return sum(c.cost is None for c in self.calls)

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
                f"输出 {self.output_tokens} tokens"
                + (f"（其中思考 {self.reasoning_tokens}）" if self.reasoning_tokens else "")
                + f"，约 {format_cny(self.cost)}")
        if self.unpriced:
            text += f"（另有 {self.unpriced} 次调用的模型没有价格，费用未知）"
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
