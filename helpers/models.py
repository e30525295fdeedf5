"""The model catalogue (lessons 01 and 02): which models the kit knows, their limits, prices.

Everything comes from one data file, ``helpers/data/models.json``, with the source page and
the date each entry was read; a figure that could not be checked on an official page is
listed in the entry's ``unconfirmed``. ``MODELS`` and the checks below are what
``helpers.config`` re-exports; ``helpers.tokens`` builds its price table from the same file.

    from helpers.models import CATALOGUE, max_input
    CATALOGUE["qwen-plus"].snapshot     # 'qwen-plus-2025-12-01'
    max_input("qwen-max")               # 30720: what the service accepts, less than the context
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("data") / "models.json"
STALE_AFTER_DAYS = 183  # six months: after that the doctor warns and a test fails
_NEW_MODEL_CONTEXT = None  # LLM_EXTRA_MODELS: limits unknown, the server decides


@dataclass(frozen=True)
class Tier:
    """One price band: CNY per million tokens for inputs up to ``up_to`` tokens (None: any)."""

    tier: str
    up_to: int | None
    input: float
    output: float
    thinking_output: float | None = None  # None: not checked (thinking mode may cost more)


@dataclass(frozen=True)
class Model:
    name: str
    snapshot: str | None  # the dated model the rolling alias points to
    context: int | None
    max_input: int | None
    max_input_thinking: int | None
    max_output: int | None
    prices: tuple[Tier, ...]
    regions: tuple[str, ...]
    status: str  # current | retiring | retired
    retires_on: str | None
    replacement: str | None
    source: str
    read_on: str
    unconfirmed: tuple[str, ...]
    note: str = ""

    def status_on(self, today: dt.date | None = None) -> str:
        """current, retiring (a date is announced) or retired (that date has passed)."""
        if not self.retires_on:
            return self.status
        day = dt.date.fromisoformat(self.retires_on)
        return "retired" if (today or dt.date.today()) >= day else "retiring"


@lru_cache(maxsize=None)
def load(path: str | None = None) -> tuple[dict[str, Model], str, str]:
    """(models by name, the catalogue's read date, its default source) from the data file."""
    data = json.loads(Path(path or DATA_FILE).read_text(encoding="utf-8"))
    models = {}
    for name, m in data["models"].items():
        models[name] = Model(
            name=name, snapshot=m["snapshot"], context=m["context"], max_input=m["max_input"],
            max_input_thinking=m["max_input_thinking"], max_output=m["max_output"],
            prices=tuple(Tier(**t) for t in m["prices"]), regions=tuple(m["regions"]),
            status=m["status"], retires_on=m.get("retires_on"), replacement=m.get("replacement"),
            source=m["source"], read_on=m["read_on"], unconfirmed=tuple(m["unconfirmed"]),
            note=m.get("note", ""))
    return models, data["read_on"], data["default_source"]


CATALOGUE, READ_ON, SOURCE = load()
# Models a learner may call: every catalogue entry that is not retired, with its context.
MODELS: dict[str, int | None] = {n: m.context for n, m in CATALOGUE.items()
                                 if m.status_on() != "retired"}


def retired_names(today: dt.date | None = None) -> list[str]:
    """Names that must not appear in a lesson: retired, or with a retirement date announced."""
    return [n for n, m in CATALOGUE.items() if m.status_on(today) != "current"]


def age_days(today: dt.date | None = None) -> int:
    return ((today or dt.date.today()) - dt.date.fromisoformat(READ_ON)).days


def is_stale(today: dt.date | None = None) -> bool:
    """True when the catalogue was last read against its sources more than six months ago."""
    return age_days(today) > STALE_AFTER_DAYS


def known_models() -> dict[str, int | None]:
    """MODELS plus the names in LLM_EXTRA_MODELS (their limits unknown to the kit)."""
    extra = os.environ.get("LLM_EXTRA_MODELS", "")
    return {**MODELS, **{m.strip(): _NEW_MODEL_CONTEXT for m in extra.split(",") if m.strip()}}


def base_model(name: str) -> str:
    """The rolling alias behind a dated snapshot or -latest: qwen-plus-2025-07-28 → qwen-plus."""
    return re.sub(r"-(latest|\d{4}-\d{2}-\d{2}|\d{4})$", "", name.strip())


def lookup(name: str) -> Model | None:
    """The catalogue entry for a name, a dated snapshot of it or its -latest; None if unknown."""
    return CATALOGUE.get(name.strip()) or CATALOGUE.get(base_model(name))


def retired_message(name: str) -> str | None:
    """A Chinese sentence for a retired (or retiring) name, with its replacement; else None."""
    model = lookup(name)
    if model is None or model.status_on() == "current":
        return None
    instead = model.replacement or "qwen-plus"
    when = "已于" if model.status_on() == "retired" else "将于"
    return (f"模型 {name.strip()!r} {when} {model.retires_on} 下线（{model.source}）。"
            f"请改用 {instead}：在 .env 写 LLM_MODEL={instead}，或调用时传 model={instead!r}。")


# Fine-tuned models and their deployments are named by the platform (lesson 12), e.g.
# qwen3-14b-ft-202612011000-1c7f or …-1c7f-store: accepted as named, with a conservative
# context window (the base may be any tunable Qwen).
FINETUNED = re.compile(r"-ft-\d{8,14}-[0-9a-z]{4}(-[0-9a-z]+)?$")
FINETUNED_CONTEXT = 32_768


def check_model(name: str) -> str:
    """Refuse a model name the kit does not know, before anything is sent.

    Dated snapshots of a known model (``qwen-plus-2025-07-28``) and ``-latest`` are accepted;
    a retired model is refused with its replacement.
    """
    from .errors import bad_input

    if FINETUNED.search(name.strip()):
        return name.strip()
    old = retired_message(name)
    if old and lookup(name).status_on() == "retired":  # type: ignore[union-attr]
        raise bad_input(old)
    base = base_model(name)
    known = known_models()
    if base not in known and name.strip() not in known:
        close = [m for m in known if m.split("-")[0] == base.split("-")[0]]
        raise bad_input(f"未知的模型名 {name!r}。本课程认识：{'、'.join(known)}"
                        + (f"（你是不是想用 {close[0]}？）" if close else "")
                        + "。新模型请加到 .env 的 LLM_EXTRA_MODELS。")
    return name.strip()


def context_window(name: str) -> int | None:
    """Input + output tokens the model handles (None: not known to the kit)."""
    if FINETUNED.search(name.strip()):
        return FINETUNED_CONTEXT
    model = lookup(name)
    return model.context if model else known_models().get(base_model(name))


def max_input(name: str, thinking: bool = False) -> int | None:
    """The most input tokens the service accepts: the catalogue's max input, else the context.

    The context is only an upper bound (the service keeps room for the answer), so it is used
    only where the max input was not confirmed. None: the kit knows no limit for this name.
    """
    model = lookup(name)
    if model is None:
        return context_window(name)
    limit = model.max_input_thinking if thinking else model.max_input
    return limit or model.max_input or model.context


def lowest_tier(name: str) -> Tier | None:
    """The first price band of a model (dated snapshots price as their alias); None: no price."""
    model = lookup(name)
    return model.prices[0] if model and model.prices else None
