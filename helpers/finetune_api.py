"""Fine-tuning on the platform (lesson 12): the two calls that cost money, behind a guard.

Uploading a file, polling a job, reading its log and cleaning up are plain SDK calls the
lesson makes itself. Starting a training job and deploying a model are billed, so in live
(and record) mode they happen only when the learner has set ``LLM_FINETUNE_CONFIRM=yes``,
after the estimated cost was shown. Replay mode answers from the kit's authored platform
(``helpers/replay/finetune_service.py``) and costs nothing.

Billing, as the platform states it: training tokens × epochs × unit price, with a minimum
unit price of 0.006 CNY per 1,000 tokens (https://help.aliyun.com/zh/model-studio/billing-for-model-studio).
The real unit price depends on the model and is shown in the console before a job starts.
Nothing here prints.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

CONFIRM_VARIABLE = "LLM_FINETUNE_CONFIRM"
# An assumption, not a quote: the floor unit price the billing page states (2026-12).
ASSUMED_PRICE_PER_1K = 0.006
BILLED_MODES = ("live", "record")
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED")


@dataclass(frozen=True)
class CostEstimate:
    tokens: int
    epochs: int
    price_per_1k: float

    @property
    def cost(self) -> float:
        from .sft_data import training_cost

        return training_cost(self.tokens, self.epochs, self.price_per_1k)

    def __str__(self) -> str:
        return (f"训练 token {self.tokens} × 轮数 {self.epochs} × 单价 {self.price_per_1k} 元/千 token"
                f" ≈ {self.cost:.4f} 元（单价是假设值：文档给出的最低训练单价，实际以控制台预估为准）")


def estimate(path: str | Path, epochs: int,
             price_per_1k: float = ASSUMED_PRICE_PER_1K) -> CostEstimate:
    """Training tokens of a JSONL file (Qwen tokenizer, chat template) and the estimated bill."""
    from .sft_data import read_jsonl, training_tokens

    return CostEstimate(training_tokens(read_jsonl(path)), epochs, price_per_1k)


def refusal(mode: str) -> str | None:
    """Why a billed call may not start in this mode, or None when it may."""
    if mode not in BILLED_MODES or os.environ.get(CONFIRM_VARIABLE, "").lower() == "yes":
        return None
    return (f"未创建：{mode} 模式下训练和部署会真实计费。确认费用后，在 .env 中加入 "
            f"{CONFIRM_VARIABLE}=yes 并重新运行 helpers.setup() 与本单元格。")


def start_job(model: str, training_file_ids: list[str], *, epochs: int,
              mode: str = "efficient_sft"):
    """``dashscope.FineTunes.call`` behind the guard; returns (response or None, refusal)."""
    import dashscope

    from .config import current

    why = refusal(current().mode)
    if why:
        return None, why
    response = dashscope.FineTunes.call(model=model, training_file_ids=training_file_ids,
                                        mode=mode, hyper_parameters={"n_epochs": epochs})
    return response, None


def deploy(model: str, *, capacity: int = 1, suffix: str | None = None):
    """``dashscope.Deployments.call`` behind the same guard (a deployment bills by the hour)."""
    import dashscope

    from .config import current

    why = refusal(current().mode)
    if why:
        return None, why
    return dashscope.Deployments.call(model=model, capacity=capacity, suffix=suffix), None


def wait(get: Callable[[], object], done: Callable[[object], bool], *, polls: int = 20,
         interval: float | None = None, on_poll: Callable[[object], None] | None = None):
    """Call ``get()`` until ``done(response)``; waits ``interval`` s between calls (live: 30)."""
    from .config import current

    if interval is None:
        interval = 30.0 if current().mode in BILLED_MODES else 0.0
    response = None
    for n in range(polls):
        response = get()
        if on_poll:
            on_poll(response)
        if done(response):
            break
        time.sleep(interval)
    return response
