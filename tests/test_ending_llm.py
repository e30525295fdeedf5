"""The llm and hybrid end-detection strategies through the real replay server.

tests/test_ending.py checks the strategies with a fake ``classify``; here the model's labels
travel over HTTP like in lesson 04: a spec is authored into a temporary LLM_RECORDINGS folder
(the real SDK sends each classification request, the authoring upstream answers it), then the
same requests are replayed. Requests are counted on the replay server itself.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import helpers
from helpers.ending import EndDetector, evaluate, llm_classify, read_jsonl, rules_decision
from helpers.replay import current_server

from authoring import authored_recordings

KIT = Path(__file__).resolve().parents[1]
EXAMPLES = KIT / "notebooks" / "data" / "end_examples.jsonl"
LESSON_SPEC = KIT / "notebooks" / "recordings" / "specs" / "04_end_detection.yaml"

# sentence -> the label the authored "model" answers
LABELS = {
    "好的我知道了": "END",  # clear for the rules
    "谢谢，再帮我查一下尺码": "CONTINUE",  # clear for the rules
    "再见！": "END",  # clear for the rules
    "42码，谢谢": "CONTINUE",  # unclear for the rules
    "好吧": "END",  # unclear; the rules guess "continue", the model overrules them
    "ok": "CONTINUE",  # unclear
}
UNRECORDED_UNCLEAR = "嗯嗯"  # unclear for the rules, and no recording: a replay miss


# --- lesson 04's own recordings ---------------------------------------------------------------

# The authored labels that deliberately disagree with the kit's (documented in the spec header).
DELIBERATE_MISTAKES = {"好吧": True, "okay then": True, "可以了": False,
                       "客服回了拜拜，是不是就结束了？": True}


def test_lesson_spec_labels_every_kit_example_and_documents_its_mistakes():
    entries = yaml.safe_load(LESSON_SPEC.read_text(encoding="utf-8"))
    header = LESSON_SPEC.read_text(encoding="utf-8").split("\n- ", 1)[0]
    labels = {e["user"].removeprefix("用户的话："): e["reply"] for e in entries
              if "对话结束判定器" in e.get("system_contains", "")}
    for row in read_jsonl(str(EXAMPLES)):
        assert row["text"] in labels, f"没有为例句编写模型答案：{row['text']}"
        model_ends = labels[row["text"]] == "END"
        if row["text"] in DELIBERATE_MISTAKES:
            assert model_ends is DELIBERATE_MISTAKES[row["text"]] is not (row["label"] == 1)
            assert row["text"] in header, f"故意写错的标签要在文件开头说明原因：{row['text']}"
        else:
            assert model_ends is (row["label"] == 1), row["text"]


def test_lesson_recordings_answer_every_kit_example_without_fallback(monkeypatch):
    """Replays the lesson's recordings: a missing one would silently fall back to the rules."""
    monkeypatch.delenv("LLM_RECORDINGS", raising=False)
    monkeypatch.setenv("LLM_MODE", "replay")
    rows = read_jsonl(str(EXAMPLES))
    detector = EndDetector("llm")
    try:
        helpers.setup("04_end_detection")
        decisions = {row["text"]: detector.decide(row["text"]) for row in rows}
    finally:
        monkeypatch.undo()
        helpers.setup()
    assert {d.rule for d in decisions.values()} == {"llm"}
    wrong = {t: d.ends for t, d in decisions.items()
             if d.ends is not ({r["text"]: r["label"] for r in rows}[t] == 1)}
    assert wrong == DELIBERATE_MISTAKES


# --- a temporary spec, authored then replayed ---------------------------------------------


def _spec() -> str:
    return "".join(f"- user: {json.dumps('用户的话：' + text, ensure_ascii=False)}\n"
                   f"  system_contains: 对话结束判定器\n  reply: {label}\n"
                   for text, label in LABELS.items())


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    authored = {}

    def send() -> None:
        authored.update({text: llm_classify(text) for text in LABELS})

    with authored_recordings(tmp_path_factory.mktemp("recordings"), _spec(), send):
        yield authored


def _requests() -> int:
    return current_server().log.requests


def test_unclear_and_clear_sentences_are_what_this_file_assumes():
    unclear = {text for text in LABELS if rules_decision(text).unclear}
    assert unclear == {"42码，谢谢", "好吧", "ok"}
    assert rules_decision(UNRECORDED_UNCLEAR).unclear
    assert rules_decision("好吧").ends is False  # so the model's END visibly overrules the rules


def test_author_mode_saved_one_authored_exchange_per_sentence(replay):
    assert replay == {text: label == "END" for text, label in LABELS.items()}
    exchanges = json.loads((Path(current_server().store.folder) / "t.json").read_text("utf-8"))
    assert len(exchanges["exchanges"]) == len(LABELS)
    assert {e["source"] for e in exchanges["exchanges"]} == {"authored"}


def test_llm_strategy_returns_the_authored_label(replay):
    detector = EndDetector("llm")
    for text, label in LABELS.items():
        before = _requests()
        decision = detector.decide(text)
        assert _requests() == before + 1, f"llm asks the model once for every sentence: {text}"
        assert decision.ends is (label == "END"), text
        assert (decision.strategy, decision.rule) == ("llm", "llm")


def test_hybrid_sends_only_unclear_cases_to_the_model(replay):
    detector = EndDetector("hybrid")
    asked = []
    for text in LABELS:
        before = _requests()
        decision = detector.decide(text)
        if _requests() != before:
            assert _requests() == before + 1
            asked.append(text)
            assert decision.rule == "llm" and decision.unclear
        else:
            assert decision.rule == rules_decision(text).rule and not decision.unclear
        assert decision.ends is (LABELS[text] == "END"), text
    assert asked == ["42码，谢谢", "好吧", "ok"]


def test_hybrid_evaluation_costs_one_request_per_unclear_row(replay):
    rows = [{"text": text, "label": int(label == "END")} for text, label in LABELS.items()]
    before = _requests()
    metrics = evaluate(rows, "hybrid")
    assert _requests() - before == 3
    assert (metrics["tp"], metrics["fp"], metrics["fn"], metrics["tn"]) == (3, 0, 0, 3)


@pytest.mark.parametrize("strategy", ["hybrid", "rules"])
def test_a_clear_goodbye_makes_no_request(replay, strategy):
    before = _requests()
    decision = EndDetector(strategy).decide("好的我知道了")
    assert _requests() == before
    assert decision.ends and decision.rule == "closing:done" and not decision.unclear
    assert helpers.is_goodbye("再见！") and _requests() == before


def test_a_replay_miss_falls_back_to_rules(replay):
    server = current_server()
    misses, before = len(server.log.misses), _requests()
    decision = EndDetector("hybrid").decide(UNRECORDED_UNCLEAR)
    assert _requests() == before + 1, "a replay miss is asked once, not retried"
    assert len(server.log.misses) == misses + 1
    expected = rules_decision(UNRECORDED_UNCLEAR)
    assert decision.ends is expected.ends is False
    assert (decision.strategy, decision.rule, decision.unclear) == ("hybrid", "fallback:rules", True)

    text = "这句话没有录制过，再见"
    decision = EndDetector("llm").decide(text)
    assert (decision.ends, decision.rule) == (rules_decision(text).ends, "fallback:rules")


def test_a_miss_surfaces_as_an_llm_error_when_called_directly(replay):
    with pytest.raises(helpers.LLMError) as err:
        llm_classify(UNRECORDED_UNCLEAR)
    assert err.value.kind == "not_found"
