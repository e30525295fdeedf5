"""Tests for the learned end detector (helpers/ending_model.py) and its training script.

The shipped weights are checked for shape and behaviour on the kit's own sentences; the
training code is checked on a tiny set written here (fast, deterministic with its seed).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import ending, ending_model, ending_train
from helpers.ending import Decision, EndDetector, evaluate, read_jsonl
from helpers.ending_model import BUCKETS, features, learned_ends, probability

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "notebooks" / "data" / "end_examples.jsonl"


def test_features_are_stable_and_follow_normalization():
    assert features("谢谢") == features("谢谢")  # crc32, not Python's salted hash()
    assert features("ＯＫ，谢谢！") == features("ok,谢谢!")
    assert all(0 <= i < BUCKETS for i in features("that 's all , thanks"))
    assert len(features("ab")) == 4 + 3 + 2 + 1  # "^ab$": 4 unigrams, 3 bigrams, ...


def test_shipped_weights():
    weights, bias, threshold = ending_model.load()
    assert len(weights) == BUCKETS and 0.3 <= threshold <= 0.95
    assert ending_model.WEIGHTS.stat().st_size < 200_000  # a small file


@pytest.mark.parametrize("text,ends", [("好的我知道了", True), ("谢谢，再帮我查一下尺码", False),
                                       ("再见！", True), ("这双有没有43码？", False)])
def test_learned_course_examples(text, ends):
    assert 0.0 <= probability(text) <= 1.0
    assert learned_ends(text) is ends


def test_learned_on_its_training_examples():
    m = evaluate(read_jsonl(str(EXAMPLES)), "learned")
    assert m["f1"] >= 0.95  # seen in training: a regression guard, not a fair score


def test_combined_lets_the_rules_guard_and_the_model_decide():
    clear = EndDetector("combined").decide("谢谢，再帮我查一下尺码")
    assert (clear.ends, clear.rule) == (False, "request:question_or_task")  # a request guards
    unsure = EndDetector("combined").decide("谢谢，鞋底开胶了")
    p = probability("谢谢，鞋底开胶了")
    assert unsure.ends is (p >= ending.SURE_END) and unsure.unclear


def test_combined_overrules_the_rules_only_with_a_margin(monkeypatch):
    # precision first: outside the guards, ending a chat the rules keep needs p >= SURE_END,
    # keeping one they end needs p < SURE_CONTINUE
    from helpers import ending_model as model

    keep, end = "谢谢，鞋底开胶了", "拜拜啦，今天天气真不错适合出门散步"
    assert not ending.rules_decision(keep).ends and ending.rules_decision(keep).unclear
    assert ending.rules_decision(end).ends and ending.rules_decision(end).unclear
    combined = EndDetector("combined")
    for p, keep_ends, end_ends in [(0.85, False, True), (0.9, True, True), (0.05, False, False)]:
        monkeypatch.setattr(model, "probability", lambda text, p=p: p)
        assert (combined.decide(keep).ends, combined.decide(end).ends) == (keep_ends, end_ends)
    assert EndDetector("learned").decide("88").rule == "learned"


def test_combined_overrules_a_reasoned_keep_only_when_very_sure(monkeypatch):
    # the rules keep this for a request word (但是) next to closings; only p >= OVERRULE ends it
    from helpers import ending_model as model

    text = "好吧，虽然不太满意，但是就这样吧，谢谢"
    rules = ending.rules_decision(text)
    assert not rules.ends and not rules.unclear and rules.rule.startswith("request:")
    for p, ends in [(ending.OVERRULE - 0.01, False), (ending.OVERRULE, True)]:
        monkeypatch.setattr(model, "probability", lambda text, p=p: p)
        d = EndDetector("combined").decide(text)
        assert d.ends is ends and d.rule == ("learned" if ends else rules.rule)
    monkeypatch.setattr(model, "probability", lambda text: 1.0)
    for guarded in ("这双有42码吗？", "thanks, bye. wait, is it waterproof?",
                    "“再见”这个词怎么翻译"):
        assert not EndDetector("combined").decide(guarded).ends  # a question, a mention: kept


TOY = [("bye now", 1), ("thanks bye", 1), ("goodbye friend", 1), ("bye bye", 1),
       ("find shoes", 0), ("size nine", 0), ("find a red pair", 0), ("what size", 0)]


def test_training_learns_and_is_deterministic(monkeypatch):
    monkeypatch.setattr(ending_train, "EPOCHS", 60)
    texts, y = [t for t, _ in TOY], np.array([label for _, label in TOY], dtype=float)
    X = ending_train.sparse(texts)
    w1, b1 = ending_train.fit(X, y)
    w2, b2 = ending_train.fit(X, y)
    assert np.array_equal(w1, w2) and b1 == b2
    p = ending_train.predict(X, len(y), w1, b1)
    assert ((p >= 0.5) == (y == 1)).all()


def test_threshold_is_chosen_for_precision(monkeypatch):
    p = np.array([0.95, 0.9, 0.6, 0.55, 0.2])
    y = np.array([1, 1, 0, 1, 0], dtype=float)
    assert ending_train.choose_threshold(p, y) == pytest.approx(0.90)  # never below the floor
    monkeypatch.setattr(ending_train, "MIN_THRESHOLD", 0.0)
    assert ending_train.choose_threshold(p, y) == pytest.approx(0.61)  # above the false one


def test_cli_learned_strategy():
    proc = subprocess.run([sys.executable, "-m", "helpers.ending", "eval", str(EXAMPLES),
                           "--strategy", "learned"], cwd=ROOT, capture_output=True, text=True,
                          encoding="utf-8", timeout=60)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("precision=") and last.endswith(" n=152")


# Fresh sets, each written blind and held out until measured once; after that its errors
# were studied and it became training data. The newest one stays held out.
FRESH_SETS = {"end_fresh": "trained on", "end_fresh2": "trained on", "end_fresh3": "trained on",
              "end_fresh4": "trained on", "end_fresh5": "trained on", "end_fresh6": "trained on",
              "end_fresh7": "trained on", "end_fresh8": "held out", "end_fresh9": "held out",
              "end_task": "trained on", "end_task2": "held out"}
# Written to train on, in businesses no fresh set uses (bench/data/end_train6?_README.md).
TRAINING_FILES = sorted(p.name for p in (ROOT / "bench" / "data").glob("end_train*_??.jsonl"))


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("stem", list(FRESH_SETS))
def test_fresh_set_is_shipped_well_formed_and_used_as_documented(stem, language):
    path = ROOT / "bench" / "data" / f"{stem}_{language}.jsonl"
    rows = read_jsonl(str(path))
    assert len(rows) >= 300 and {r["label"] for r in rows} == {0, 1}
    assert all(set(r) == {"text", "label", "register"} for r in rows)
    trained = path.name in ending_train.training_rows()[1]
    assert trained == (FRESH_SETS[stem] == "trained on")


@pytest.mark.parametrize("name", TRAINING_FILES)
def test_training_set_is_well_formed_and_trained_on(name):
    path = ROOT / "bench" / "data" / name
    rows = read_jsonl(str(path))
    share = sum(r["label"] for r in rows) / len(rows)
    assert len(rows) >= 400 and 0.2 <= share <= 0.5  # 40% customer service, 25% task dialogues
    assert all(set(r) == {"text", "label", "register"} and r["label"] in (0, 1) for r in rows)
    assert path.name in ending_train.training_rows()[1]


def test_training_never_reads_a_newer_blind_set():
    # only the files it names (and ../shared's development sets): the newest sets stay blind
    assert len(TRAINING_FILES) >= 10
    blind = ("end_fresh8", "end_fresh9", "end_task2")
    assert not any(p.name.startswith(blind) for p in ending_train.KIT_FILES)
    assert not any(name.startswith(blind) for name in ending_train.training_rows()[1])


@pytest.mark.parametrize("module", ["ending", "ending_rules", "ending_patterns", "ending_normalize",
                                    "ending_score", "ending_llm", "ending_model", "ending_cli"])
def test_each_end_detector_module_imports_alone_without_the_replay_machinery(module):
    code = (f"import sys, helpers.{module}; "
            "assert not any(m.startswith('helpers.replay') for m in sys.modules), sorted(sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr[-500:]
