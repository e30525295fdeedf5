"""The SFT data checks of lesson 11: every rule refuses what it should, with its line number."""
from __future__ import annotations

import json

import pytest

from helpers import sft_data
from helpers.sft_data import Problem, check_row, validate_file

GOOD = {"messages": [{"role": "system", "content": "你是鞋店客服。"},
                     {"role": "user", "content": "37 码是多少厘米？"},
                     {"role": "assistant", "content": "37 码约 23.5 厘米。"}]}


def conversation(*pairs: tuple[str, object]) -> dict:
    return {"messages": [{"role": r, "content": c} for r, c in pairs]}


def test_a_good_conversation_passes():
    assert check_row(GOOD) == []
    assert check_row(conversation(("user", "在吗"), ("assistant", "在的"),
                                  ("user", "谢谢"), ("assistant", "不客气"))) == []


@pytest.mark.parametrize("row, expected", [
    ([1, 2], "JSON 对象"),
    ({"msgs": []}, "缺少 messages"),
    ({"messages": []}, "缺少 messages"),
    ({"messages": "hi"}, "缺少 messages"),
    ({**GOOD, "weight": 1}, "不支持的字段 weight"),
    ({"messages": ["hi"]}, "不是对象"),
    (conversation(("user", "a"), ("bot", "b")), "role 应为"),
    (conversation(("user", ""), ("assistant", "b")), "content 为空"),
    (conversation(("user", "a"), ("assistant", 5)), "content 为空或不是文字"),
    ({"messages": [{"role": "user", "content": "a", "name": "x"},
                   {"role": "assistant", "content": "b"}]}, "不支持的字段 name"),
    (conversation(("user", "a"), ("system", "s"), ("assistant", "b")), "system 消息只能"),
    (conversation(("system", "s")), "只有 system"),
    (conversation(("assistant", "a"), ("user", "b")), "交替出现"),
    (conversation(("user", "a"), ("user", "b"), ("assistant", "c")), "交替出现"),
    (conversation(("user", "a"), ("assistant", "b"), ("user", "c")), "最后一条应是 assistant"),
])
def test_each_rule_refuses_with_a_chinese_reason(row, expected):
    problems = check_row(row)
    assert problems and any(expected in p for p in problems), problems


def test_length_limit_counts_real_tokens():
    long = conversation(("user", "鞋" * 50), ("assistant", "好" * 50))
    assert check_row(long, max_tokens=1000) == []
    problems = check_row(long, max_tokens=20)
    assert len(problems) == 1 and "超过上限 20" in problems[0]


def test_file_problems_carry_line_numbers(tmp_path):
    path = tmp_path / "train.jsonl"
    lines = [json.dumps(GOOD, ensure_ascii=False), "", "{not json",
             json.dumps(conversation(("user", "a")), ensure_ascii=False),
             json.dumps(GOOD, ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = validate_file(path)
    assert [p.line for p in problems] == [3, 4]
    assert str(problems[0]).startswith("第 3 行：不是合法的 JSON")
    assert "最后一条应是 assistant" in str(problems[1])
    assert isinstance(problems[0], Problem)


def test_a_notepad_bom_is_not_a_problem(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_text(json.dumps(GOOD, ensure_ascii=False) + "\n", encoding="utf-8-sig")
    assert validate_file(path) == []


def test_private_data_is_masked():
    text = "我的手机 13812345678，订单 DD2026112012345678，邮箱 li.ming@example.com。"
    masked = sft_data.mask_private(text)
    assert masked == "我的手机 [手机号]，订单 [订单号]，邮箱 [邮箱]。"
    assert sft_data.mask_private("37 码，价格 399 元") == "37 码，价格 399 元"


def test_near_duplicates_found_by_character_ngrams():
    texts = ["请问 37 码有货吗？", "请问37码有货吗", "退货运费谁出？", "请问 38 码有货吗？"]
    pairs = sft_data.near_duplicates(texts, threshold=0.8)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]
    assert pairs[0][2] == 1.0
    assert sft_data.deduplicate(texts) == [0, 2, 3]
    # one changed digit in a short question costs 3 of its trigrams (Jaccard 1/3): only a
    # low bar joins the 38 码 question, which is a different question. The threshold matters.
    assert sft_data.deduplicate(texts, threshold=0.3) == [0, 2]


def test_training_tokens_and_cost():
    tokens = sft_data.training_tokens([GOOD, GOOD])
    assert tokens == 2 * sft_data.conversation_tokens(GOOD["messages"])
    assert 20 < sft_data.conversation_tokens(GOOD["messages"]) < 60
    assert sft_data.training_cost(1_000_000, 3, 0.006) == pytest.approx(18.0)


def test_split_is_reproducible_and_complete():
    rows = [{"id": i} for i in range(20)]
    train, validation = sft_data.split(rows, 0.1, seed=7)
    again = sft_data.split(rows, 0.1, seed=7)
    assert (train, validation) == again
    assert len(validation) == 2 and len(train) == 18
    assert sorted(r["id"] for r in train + validation) == list(range(20))
    assert sft_data.split([{"id": 0}], 0.5) == ([{"id": 0}], [])
