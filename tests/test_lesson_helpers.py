"""Helpers that lessons 04b–06 show: listings and tables (listing.py), the strategy comparison
(ending_compare.py) and Project 1's checks (checklist.py). Replay mode, no key."""
from __future__ import annotations

import helpers
from helpers import ending_compare
from helpers.checklist import EXAMPLE, check_turn
from helpers.ending import evaluate, read_jsonl
from helpers.exercises import evaluate as run_check
from helpers.listing import code_html, html_table, show_source, source_text
from lesson_run import NOTEBOOKS


def test_source_excerpt_is_dedented_and_cut():
    text = source_text(helpers.Conversation.add_user)
    assert text.startswith("def add_user(")  # a method without its class indent
    cut = source_text(helpers.Conversation, start="def add_user", lines=2)
    assert cut.splitlines()[0].strip().startswith("def add_user(")
    assert cut.splitlines()[-1].strip() == "..." and len(cut.splitlines()) == 3


def test_listing_never_wraps_and_tables_escape():
    assert "white-space:pre" in code_html("x = 1\n") and "overflow-x:auto" in code_html("")
    assert "Conversation.add_user" in show_source(helpers.Conversation.add_user).data
    table = html_table(["可重试", "怎么办"], [["否", "<b>" + "长" * 20]]).data
    assert "&lt;b&gt;" in table and "<b>" not in table  # text, not markup
    assert table.count("nowrap") == 3 and "min-width" in table  # short cells do not squeeze


def test_compare_measures_like_evaluate_and_counts_model_calls():
    helpers.setup("04b_end_detection_compare")
    rows = read_jsonl(str(NOTEBOOKS / "data" / "end_examples.jsonl"))[:6]
    steps = []
    results, said = ending_compare.compare(rows, ("rules", "llm"),
                                           on_step=lambda s, m: steps.append((s, m is None)))
    assert steps == [("rules", True), ("rules", False), ("llm", True), ("llm", False)]
    assert {k: results["rules"][k] for k in ("tp", "fp", "fn", "tn")} == {
        k: evaluate(rows, "rules")[k] for k in ("tp", "fp", "fn", "tn")}
    assert results["rules"]["calls"] == 0 and results["llm"]["calls"] == len(rows)
    assert sorted(said) == sorted(r["text"] for r in rows)


def test_ask_all_leaves_out_failed_questions(monkeypatch):
    def flaky(text):
        if "谢谢" in text:
            raise ValueError("not a label")
        return True

    monkeypatch.setattr(ending_compare, "llm_classify", flaky)
    assert ending_compare.ask_all(["好的", "谢谢", "再见"], workers=2) == {"好的": True,
                                                                         "再见": True}


def test_check_turn_names_the_missing_step():
    helpers.setup("06_project1_chat")

    def no_farewell(conversation, user_text, detector, on_text=None):
        conversation.add_user(user_text)
        reply = helpers.stream_chat(conversation.messages_for_request(), on_text=on_text)
        conversation.add_assistant(reply.text)
        return reply.text, False

    def no_history(conversation, user_text, detector, on_text=None):
        reply = helpers.stream_chat(user_text, on_text=on_text)
        return reply.text, False

    wrong = run_check("练习 1", no_farewell, check_turn)
    assert wrong.status == "wrong" and "Traceback" not in wrong.message
    assert "告别" in wrong.message
    missing = run_check("练习 1", no_history, check_turn)
    assert missing.status == "wrong" and "conversation" in missing.message
    assert EXAMPLE[-1] == "好的我知道了"
