"""Tests for helpers.tokens and helpers.meter: token counts, prices, cost estimates, usage meter."""
from __future__ import annotations

import dataclasses
import re

import pytest

from helpers import meter as meter_module
from helpers import tokens
from helpers.meter import METER, BudgetExceeded, CallRecord, UsageMeter
from helpers.tokens import (
    PRICE_DATE,
    PRICE_SOURCE,
    PRICES,
    Price,
    UnknownModelError,
    chat_template,
    count_message_tokens,
    count_tokens,
    estimate_cost,
    format_cny,
)


@pytest.fixture
def priced(monkeypatch):
    """A fake model with round prices, so the arithmetic is checkable by eye."""
    monkeypatch.setitem(PRICES, "test-model", Price(input_per_1k=1.0, output_per_1k=2.0))
    return "test-model"


# -- the original three functions keep their behaviour ------------------------


def test_count_tokens_plain_text():
    assert count_tokens("") == 0
    assert count_tokens("你好") == 1


def test_chat_template_and_message_overhead():
    messages = [{"role": "user", "content": "你好"}]
    assert chat_template(messages) == "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n"
    # 5 template tokens per message + 3 for the assistant prompt.
    assert count_message_tokens(messages) == count_tokens("你好") + 5 + 3


# -- price table ---------------------------------------------------------------


def test_price_table_covers_course_models():
    for model in ("qwen-plus", "qwen-flash", "qwen-max"):  # qwen-flash replaced a retired model
        price = PRICES[model]
        assert price.currency == "CNY"
        assert 0 < price.input_per_1k < price.output_per_1k


def test_price_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRICES["qwen-plus"].input_per_1k = 0  # type: ignore[misc]


def test_price_provenance():
    assert PRICE_SOURCE.startswith("https://help.aliyun.com/")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", PRICE_DATE)


def test_qwen_flash_known_figure():
    assert PRICES["qwen-flash"] == Price(0.00015, 0.0015)


# -- estimate_cost -----------------------------------------------------------------


def test_estimate_cost_arithmetic(priced):
    assert estimate_cost({"input_tokens": 1500, "output_tokens": 250}, priced) == pytest.approx(2.0)
    assert estimate_cost({"input_tokens": 0, "output_tokens": 0}, priced) == 0


def test_estimate_cost_real_table():
    usage = {"input_tokens": 120, "output_tokens": 45}
    expected = 120 / 1000 * 0.0008 + 45 / 1000 * 0.002
    assert estimate_cost(usage, "qwen-plus") == pytest.approx(expected)


def test_estimate_cost_accepts_dashscope_usage_object():
    from dashscope.api_entities.dashscope_response import GenerationUsage

    usage = GenerationUsage(input_tokens=1000, output_tokens=1000)
    assert estimate_cost(usage, "qwen-flash") == pytest.approx(0.00015 + 0.0015)


def test_price_for_unknown_model():
    with pytest.raises(UnknownModelError) as err:
        tokens.price_for("gpt-4o")
    assert isinstance(err.value, ValueError)
    assert "gpt-4o" in str(err.value) and "qwen-plus" in str(err.value)


def test_estimate_cost_unknown_model_warns_and_returns_none():
    # The call was answered (and billed) already: a missing price must not raise.
    with pytest.warns(tokens.PriceUnknownWarning, match="gpt-4o"):
        assert estimate_cost({"input_tokens": 1, "output_tokens": 1}, "gpt-4o") is None
    assert format_cny(None) == "未知"


def test_dated_snapshot_prices_as_its_alias():
    usage = {"input_tokens": 1000, "output_tokens": 1000}
    assert tokens.price_for("qwen-plus-2025-07-28") == PRICES["qwen-plus"]
    assert estimate_cost(usage, "qwen-plus-2025-12-01") == estimate_cost(usage, "qwen-plus")
    assert estimate_cost(usage, "qwen-max-latest") == pytest.approx(0.0024 + 0.0096)


def test_prices_come_from_the_catalogue():
    from helpers.models import CATALOGUE

    for name, price in PRICES.items():
        tier = CATALOGUE[name].prices[0]
        assert (price.input_per_million, price.output_per_million) == (tier.input, tier.output)
    assert PRICES["qwen-plus"].tier == "≤128K、非思考"
    assert "qwen3-max" not in PRICES  # known to the kit, but no price was confirmed


def test_estimate_cost_missing_usage_field(priced):
    with pytest.raises(KeyError, match="output_tokens"):
        estimate_cost({"input_tokens": 1}, priced)


def test_format_cny():
    assert format_cny(0) == "¥0"
    assert format_cny(0.0002) == "¥0.0002"
    assert format_cny(0.000186) == "¥0.00019"
    assert format_cny(0.00000015) == "¥0.00000015"  # one qwen-flash input token is not ¥0
    assert format_cny(0.5) == "¥0.5"
    assert format_cny(12.345) == "¥12.35"


# -- UsageMeter ----------------------------------------------------------------------


def test_meter_totals(priced):
    meter = UsageMeter()
    first = meter.record({"input_tokens": 1000, "output_tokens": 500}, priced)
    meter.record({"input_tokens": 200, "output_tokens": 100}, priced, "live")
    assert isinstance(first, CallRecord) and first.cost == pytest.approx(2.0) and first.billed
    assert meter.input_tokens == 1200 and meter.output_tokens == 600
    assert meter.cost == pytest.approx(2.0 + 0.4)
    assert meter.totals() == {"calls": 2, "input_tokens": 1200, "output_tokens": 600,
                              "cost": pytest.approx(2.4)}


def test_replay_costs_nothing_and_says_so(priced):
    meter = UsageMeter()
    call = meter.record({"input_tokens": 1000, "output_tokens": 1000}, priced, "replay")
    assert call.cost == 0 and not call.billed
    assert meter.cost == 0 and meter.input_tokens == 1000
    assert meter.summary().endswith("约 ¥0（回放模式不计费）")


def test_replay_of_unpriced_model_is_fine():
    meter = UsageMeter()
    meter.record({"input_tokens": 5, "output_tokens": 5}, "some-new-model", "replay")
    assert meter.cost == 0


def test_live_call_of_unpriced_model_is_recorded_with_unknown_cost(priced):
    meter = UsageMeter()
    meter.record({"input_tokens": 1000, "output_tokens": 0}, priced, "live")
    with pytest.warns(tokens.PriceUnknownWarning):
        call = meter.record({"input_tokens": 5, "output_tokens": 5}, "some-new-model", "live")
    assert call.cost is None and call.billed and len(meter.calls) == 2
    assert meter.cost == pytest.approx(1.0) and meter.unpriced == 1
    assert "1 次调用的模型没有价格，费用未知" in meter.summary()


def test_record_mode_is_billed(priced):
    meter = UsageMeter()
    meter.record({"input_tokens": 1000, "output_tokens": 0}, priced, "record")
    assert meter.cost == pytest.approx(1.0)


def test_unknown_mode_rejected(priced):
    with pytest.raises(ValueError, match="mode"):
        UsageMeter().record({"input_tokens": 1, "output_tokens": 1}, priced, "offline")


def test_summary_line_format():
    meter = UsageMeter()
    meter.record({"input_tokens": 80, "output_tokens": 30}, "qwen-plus")
    meter.record({"input_tokens": 40, "output_tokens": 15}, "qwen-plus", "replay")
    line = meter.summary()
    assert line.startswith("本次会话：2 次调用，输入 120 tokens，输出 45 tokens，约 ¥")
    assert "（其中 1 次为回放，不计费）" in line
    assert "\n" not in line


def test_summary_of_empty_session():
    assert UsageMeter().summary() == "本次会话：0 次调用，输入 0 tokens，输出 0 tokens，约 ¥0"


def test_budget_refuses_live_but_not_replay(priced):
    meter = UsageMeter(budget=0.5)
    meter.check("live")  # nothing spent yet
    meter.record({"input_tokens": 500, "output_tokens": 0}, priced)  # exactly 0.5: spent
    with pytest.raises(BudgetExceeded) as err:
        meter.check("live")
    with pytest.raises(BudgetExceeded):
        meter.check("record")
    meter.check("replay")  # replays are never refused
    message = str(err.value)
    assert "预算" in message and "调高" in message and "新会话" in message
    assert err.value.budget == 0.5 and err.value.spent == pytest.approx(0.5)
    assert meter.remaining == 0


def test_budget_not_yet_spent_allows_live(priced):
    meter = UsageMeter(budget=0.5)
    meter.record({"input_tokens": 499, "output_tokens": 0}, priced)
    meter.check("live")
    assert meter.remaining == pytest.approx(0.001)
    assert "预算 ¥0.5" in meter.summary()


def test_record_never_refuses_even_over_budget(priced):
    meter = UsageMeter(budget=0.1)
    meter.record({"input_tokens": 1000, "output_tokens": 0}, priced)
    meter.record({"input_tokens": 1000, "output_tokens": 0}, priced)  # call already happened
    assert meter.cost == pytest.approx(2.0) and meter.remaining == 0


def test_budget_exceeded_is_an_exception():
    assert issubclass(BudgetExceeded, Exception)


def test_as_rows_and_reset(priced):
    meter = UsageMeter(budget=1.0)
    meter.record({"input_tokens": 10, "output_tokens": 20}, priced)
    meter.record({"input_tokens": 30, "output_tokens": 40}, priced, "replay")
    rows = meter.as_rows()
    assert [r["call"] for r in rows] == [1, 2]
    assert rows[0] == {"call": 1, "model": priced, "mode": "live", "input_tokens": 10,
                       "output_tokens": 20, "cost": pytest.approx(0.05), "billed": True}
    assert rows[1]["cost"] == 0 and rows[1]["billed"] is False
    meter.reset()
    assert meter.calls == [] and meter.budget == 1.0


def test_helpers_do_not_print(priced, capsys):
    meter = UsageMeter(budget=1.0)
    meter.record({"input_tokens": 10, "output_tokens": 20}, priced)
    meter.summary(), meter.as_rows(), estimate_cost({"input_tokens": 1, "output_tokens": 1}, priced)
    assert capsys.readouterr() == ("", "")


def test_default_meter():
    assert isinstance(METER, UsageMeter) and METER is meter_module.METER
