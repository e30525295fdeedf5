"""helpers.evals: question sets, the runner over real replay HTTP, the table and its label."""
from __future__ import annotations

import json

import pytest

import helpers
from authoring import authored_recordings
from helpers import evals
from lesson_run import NOTEBOOKS

SPEC = """
- user: 评测测试：A1 多少钱？
  reply: A1 售价 399 元。
- user: 评测测试：T2 多少钱？
  reply: T2 售价 699 元。
- user: 评测测试：老板电话？
  reply: 抱歉，我不能提供个人联系方式。
"""
ITEMS = [evals.Item("a", "评测测试：A1 多少钱？", "价格", {"type": "numeric", "gold": 399}),
         evals.Item("b", "评测测试：T2 多少钱？", "价格", {"type": "numeric", "gold": 599}),
         evals.Item("c", "评测测试：老板电话？", "拒答", {"type": "refusal"})]


def test_load_items_reads_the_course_set_and_refuses_bad_lines(tmp_path):
    items = evals.load_items(NOTEBOOKS / "data" / "shoe_store_questions.jsonl")
    assert len(items) == 30 and len({i.id for i in items}) == 30
    assert {i.category for i in items} == {"商品事实", "多步计算", "结构化抽取", "应拒答"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "q", "category": "c", "grader": {"type": "exact"}}\n'
                   '{"id": "y"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="第 2 行"):
        evals.load_items(bad)
    bad.write_text('{"id": "x", "question": "q", "category": "c", "grader": {"type": "magic"}}',
                   encoding="utf-8")
    with pytest.raises(ValueError, match="magic"):
        evals.load_items(bad)


def test_bootstrap_interval_is_seeded_and_brackets_the_accuracy():
    passed = [True] * 24 + [False] * 6
    low, high = evals.bootstrap_ci(passed)
    assert evals.bootstrap_ci(passed) == (low, high)
    assert low < 0.8 < high and round(high - low, 1) == 0.3  # 30 questions: a wide interval
    many = evals.bootstrap_ci([True] * 300 + [False] * 75)
    assert many[1] - many[0] < 0.1  # 375 questions: much narrower
    assert evals.bootstrap_ci([]) == (0.0, 0.0)


def test_runner_over_replay_with_a_miss_and_the_table(tmp_path):
    send = lambda: evals.run(ITEMS, "qwen-plus", workers=3, progress=False)  # noqa: E731
    with authored_recordings(tmp_path, SPEC, send=send):
        rows = evals.run(ITEMS + [evals.Item("d", "评测测试：没录过", "价格",
                                             {"type": "exact", "gold": "x"})],
                         "qwen-plus", workers=3, progress=False)
        report = evals.Report({"qwen-plus": rows})
    assert [r.item.id for r in rows] == ["a", "b", "c", "d"]  # item order, despite threads
    assert [r.verdict.passed for r in rows] == [True, False, True, False]
    assert rows[3].verdict.why.startswith("调用失败") and rows[3].text == ""
    summary = report.summaries[0]
    assert summary.accuracy == 0.5 and summary.by_category == {"价格": 1 / 3, "拒答": 1.0}
    assert summary.input_tokens == sum(r.usage.get("input_tokens", 0) for r in rows) > 0
    assert summary.cost == pytest.approx(sum(helpers.estimate_cost(r.usage, "qwen-plus")
                                             for r in rows[:3]))
    assert report.source == "authored" and report.label == evals.ILLUSTRATIVE
    assert report._repr_markdown_().startswith(f"**{evals.ILLUSTRATIVE}**")
    assert repr(report).splitlines()[0] == evals.ILLUSTRATIVE
    assert report.cheapest_above(0.5).name == "qwen-plus" and report.cheapest_above(0.9) is None


def test_cheapest_above_the_bar():
    def rows(n_right, cost):
        return [evals.Row(ITEMS[0], "", evals.Verdict(i < n_right), cost=cost / 10)
                for i in range(10)]
    report = evals.Report({"big": rows(10, 3.0), "mid": rows(9, 1.0), "small": rows(6, 0.2)},
                          source="live")
    assert report.label == evals.LABELS["live"]
    assert report.cheapest_above(0.85).name == "mid"
    assert report.cheapest_above(0.95).name == "big"
    assert report.cheapest_above(0.5).name == "small"


@pytest.mark.parametrize("lesson", ["07_model_selection", "08_prompt_engineering"])
def test_every_stored_accuracy_table_of_authored_runs_carries_the_label(lesson):
    nb = json.loads((NOTEBOOKS / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    tables = 0
    for cell in nb["cells"]:
        text = json.dumps(cell.get("outputs", []), ensure_ascii=False)
        if "准确率" in text:
            tables += 1
            assert evals.ILLUSTRATIVE in text, "".join(cell["source"])[:80]
    assert tables >= 1
    recordings = json.loads((NOTEBOOKS / "recordings" / f"{lesson}.json").read_text("utf-8"))
    assert {e["source"] for e in recordings["exchanges"]} == {"authored"}
