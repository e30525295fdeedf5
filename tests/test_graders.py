"""Every grader of helpers.graders, on good answers and on malformed model output."""
from __future__ import annotations

import pytest

from helpers import graders
from helpers.graders import (final_number, grade_contains, grade_exact, grade_json,
                             grade_normalised, grade_numeric, grade_refusal, grade_regex,
                             parse_json)

ORDER = {"type": "object", "required": ["size", "quantity"],
         "properties": {"size": {"type": "integer"}, "quantity": {"const": 2}}}
MALFORMED = ["", "   ", "\n", "{", "```json\n{\n```", "None", "答案：", "🤖" * 50]


def test_exact_and_normalised():
    assert grade_exact("咨询", "咨询").passed
    assert grade_exact(" 咨询\n", ["下单", "咨询"]).passed
    assert not grade_exact("咨询。", "咨询").passed
    assert "咨询" in grade_exact("这是咨询", "咨询").why
    assert grade_normalised("ＯＫ！", "ok").passed  # full-width and punctuation
    assert grade_normalised("4 2 码", "42码").passed
    assert not grade_normalised("43码", "42码").passed


def test_contains_names_what_is_missing():
    assert grade_contains("有白、黑、蓝三色", ["白", "黑", "蓝"]).passed
    verdict = grade_contains("只有白色", ["白", "蓝"])
    assert not verdict.passed and "蓝" in verdict.why and "白" not in verdict.why


@pytest.mark.parametrize("text, number", [
    ("一共 1,057 元", 1057), ("９９ 元", 99), ("第一步 399×2=798，答案：951.3 元", 951.3),
    ("答案是 -3", -3), ("先算 5，再算 7", 7), ("最终答案：约 4 个，共 16 个球", 4)])
def test_final_number(text, number):
    assert final_number(text) == pytest.approx(number)


def test_numeric_tolerance_and_no_number():
    assert grade_numeric("会员价 539.1 元", 539.1, tol=0.01).passed
    assert grade_numeric("约 539 元", 539.1, tol=0.5).passed
    verdict = grade_numeric("约 539 元", 539.1)
    assert not verdict.passed and "539" in verdict.why
    assert grade_numeric("我算不出来", 4).why == "回答里找不到数字"


def test_regex():
    assert grade_regex("防水的", "(?<!不)防水").passed
    assert not grade_regex("不防水", "(?<!不)防水").passed


def test_json_valid_fenced_and_schema_errors():
    assert grade_json('{"size": 42, "quantity": 2}', ORDER).passed
    assert grade_json('```json\n{"size": 42, "quantity": 2}\n```', ORDER).passed
    verdict = grade_json('{"size": "42", "quantity": 2}', ORDER)
    assert not verdict.passed and "size" in verdict.why
    verdict = grade_json('{"size": 42}', ORDER)
    assert not verdict.passed and "required" in verdict.why


@pytest.mark.parametrize("text", [
    "{'size': 42, 'quantity': 2}",                 # Python quotes
    '{"size": 42, "quantity": 2',                  # truncated
    '好的：{"size": 42, "quantity": 2}',           # prose before the JSON
    '{"size": 42, "quantity": 2,}',                # trailing comma
    "[1, 2]", "null", *MALFORMED])
def test_json_malformed_output_fails_with_a_reason(text):
    verdict = grade_json(text, ORDER)
    assert not verdict.passed and verdict.why


def test_parse_json_raises_chinese_value_error():
    with pytest.raises(ValueError, match="不是合法的 JSON"):
        parse_json("好的")


@pytest.mark.parametrize("text", ["抱歉，资料里没有这方面的信息。", "这个我不清楚，建议咨询门店。",
                                  "顾客的个人信息不能透露。", "这超出了我的服务范围。"])
def test_refusal_recognised(text):
    assert grade_refusal(text).passed


@pytest.mark.parametrize("text", ["明年会降价 10%。", "鞋底由 Vibram 工厂生产。", ""])
def test_answer_is_not_a_refusal(text):
    assert not grade_refusal(text).passed


@pytest.mark.parametrize("name", sorted(graders.GRADERS))
@pytest.mark.parametrize("text", MALFORMED)
def test_no_grader_raises_on_malformed_output(name, text):
    args = {"exact": ("x",), "normalised": ("x",), "contains": (["x"],), "numeric": (4,),
            "regex": ("x",), "json": (ORDER,), "refusal": ()}[name]
    verdict = graders.GRADERS[name](text, *args)
    assert isinstance(verdict.passed, bool)
