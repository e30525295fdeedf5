"""Tests for helpers.ending: rule families, normalization, strategies, CLI.

Every example here was written for the kit (shoe-shop customer service).
No test calls a model: the llm path is replaced by an injected classify.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from helpers import ending
from helpers.ending import (FAREWELL, Decision, EndDetector, classification_messages, decide,
                            evaluate, is_goodbye, normalize, parse_label, rules_decision)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "notebooks" / "data" / "end_examples.jsonl"


def test_farewell_text():
    assert FAREWELL == "感谢您的咨询，再见"


def test_course_examples():
    assert is_goodbye("好的我知道了")
    assert not is_goodbye("谢谢，再帮我查一下尺码")


# --- one test per rule family: (text, family that must decide) -------------

FAMILY_CASES = [
    # closing:bye — farewell formulas
    ("再见！", "closing:bye"), ("谢谢，拜拜～", "closing:bye"), ("好的，祝您工作顺利", "closing:bye"),
    ("有问题再找你，谢谢", "closing:bye"), ("ok bye", "closing:bye"), ("see you next time", "closing:bye"),
    ("Thanks, take care!", "closing:bye"),
    # closing:done — nothing more to ask, with or without thanks
    ("好的我知道了", "closing:done"), ("没有了", "closing:done"), ("就这样吧", "closing:done"),
    ("不用了，谢谢", "closing:done"), ("暂时不需要了", "closing:done"), ("我的问题就这么多", "closing:done"),
    ("谢谢！这就是我想知道的", "closing:done"), ("that's all", "closing:done"),
    ("thank you, that's all i needed", "closing:done"), ("no thanks, i'm good", "closing:done"),
    # closing:pleasant — "nice talking to you"
    ("和你聊天很开心", "closing:pleasant"), ("it was great chatting with you today", "closing:pleasant"),
    # closing:command — the user asks the program to stop
    ("结束对话", "closing:command"), ("quit", "closing:command"),
    # closing:thanks — thanks with nothing else
    ("谢谢", "closing:thanks"), ("谢谢你的耐心解答！", "closing:thanks"), ("好嘞，辛苦了", "closing:thanks"),
    ("thanks a lot, you've been very helpful", "closing:thanks"),
    # generalisations (issue 16): particles and terms of address around a thanks, slang and
    # phonetic spellings, tokenised English, leaving to decide elsewhere, understanding acks
    ("嗯嗯谢谢", "closing:thanks"), ("恩恩，谢谢啦", "closing:thanks"), ("谢谢亲", "closing:thanks"),
    ("cheers mate", "closing:thanks"), ("3q", "closing:thanks"),
    ("88", "closing:bye"), ("我先撤了", "closing:bye"), ("好的，溜了", "closing:bye"),
    ("that 's all , thanks", "closing:done"), ("i wo n't need anything else", "closing:done"),
    ("got it, thanks", "closing:done"), ("算了，不问了", "closing:done"),
    ("我再考虑考虑", "closing:leave"), ("我问问我老公再说", "closing:leave"),
    ("I'll ask my wife first", "closing:leave"), ("just browsing, thanks", "closing:leave"),
    # issue 16, second pass (written for the kit): angry exits, deferral, self-reliance, the
    # user's own next step next to a thanks, wording and spacing variants, last words that leave
    ("我不想再跟你们说了", "closing:done"), ("以后再也不来了", "closing:done"),
    ("那我等发完工资再来", "closing:leave"), ("好吧好吧，我自己想办法", "closing:leave"),
    ("好嘞，那我先去付款了，谢谢", "closing:wrapup"), ("ok, I'll just sort it out myself", "closing:leave"),
    ("I'll hold on to my old pair then", "closing:leave"), ("cool, I'll order it tonight, thanks", "closing:wrapup"),
    ("i do n't have any other questions", "closing:done"), ("I will come back when payday hits", "closing:leave"),
    ("alright, off to bed", "closing:bye"), ("我要去开会了，回头聊", "closing:bye"),
    ("这种服务态度，什么玩意儿，再见", "closing:bye"),
    ("好的，我会准时到店的，谢谢", "closing:wrapup"), ("ok, thank you. i will.", "closing:thanks"),
    ("not at this time, thanks", "closing:wrapup"), ("no, that should be all", "closing:done"),
    # issue 16, third pass (after fresh set v2; written for the kit): gratitude after an answer,
    # deferral with its object, negated 再, ending as its own clause, done with the business
    ("size 9 it is, thanks so much for your help", "closing:thanks"), ("好的，辛苦了", "closing:thanks"),
    ("好的，改天再来问你", "closing:bye"), ("行吧，我也不想再等了，就这样吧", "closing:done"),
    ("算了，结束吧", "closing:done"), ("我想好了，回头再说", "closing:bye"),
    ("i'm finished with this shop", "closing:done"), ("we are all good now", "closing:done"),
    ("ok, i'm off then", "closing:bye"), ("i don't think i need anything else", "closing:done"),
    # fourth pass (written for the kit): resignation, the problem solved in other words, doing
    # it oneself or in person, deliberating over a choice, satisfaction without thanks or bye
    ("行吧，我放弃了", "closing:done"), ("算了，不指望你们了", "closing:done"),
    ("没必要再聊下去了", "closing:done"), ("讲得很明白，我没什么疑问了", "closing:done"),
    ("好的，那我自己去快递点寄吧，不麻烦你了", "closing:bye"), ("那我改天去门店试穿看看", "closing:leave"),
    ("我再琢磨一下选哪双", "closing:leave"), ("嗯，以后再说吧", "closing:leave"),
    ("好的亲，早点休息", "closing:bye"), ("了解，那我先 logout 了", "closing:bye"),
    ("太好了，机票订好了，拜拜", "closing:bye"), ("ok, that fixes it", "closing:done"),
    ("Nothing further from me.", "closing:done"), ("I have nothing more to say to you.", "closing:done"),
    ("Fine, we are finished.", "closing:done"), ("You can stop messaging me now.", "closing:done"),
    ("clearly you cannot help", "closing:done"), ("I won't shop here again", "closing:done"),
    ("ok, that's me done", "closing:done"), ("alright, I'll leave it there", "closing:done"),
    ("i'll just browse the app for a bit", "closing:leave"), ("you guys rock", "closing:pleasant"),
    ("I'll think it over and decide at the weekend", "closing:leave"),
    ("gonna go eat now 🍔", "closing:bye"), ("all good, thanks a bunch", "closing:done"),
]

CONTINUE_CASES = [
    # request:question_or_task — thanks or a closing followed by a request or a question
    ("谢谢，再帮我查一下尺码", "request:question_or_task"), ("谢谢，这双有42码吗？", "request:question_or_task"),
    ("没有了，不过我想问一下退货流程", "request:question_or_task"), ("好的谢谢，那运费怎么算", "request:question_or_task"),
    ("谢谢你，这款能包邮不", "request:question_or_task"), ("谢谢，但是鞋子有点挤脚", "request:question_or_task"),
    ("thanks, can you also check the size chart?", "request:question_or_task"),
    ("ok thanks, and what about the black pair", "request:question_or_task"),
    ("thanks. now find me a cheaper pair", "request:question_or_task"),
    # request:zai — 再 that is not 再见
    ("再来一双一样的", "request:zai"), ("好的，再来两双", "request:zai"), ("我再问最后一个问题", "request:zai"),
    # mention:quoted — the farewell is talked about, not said
    ("他说“再见”是什么意思", "mention:quoted"), ("拜拜用日语怎么说", "mention:quoted"),
    ("how do you say goodbye in French", "mention:quoted"), ('what does "ttyl" mean', "mention:quoted"),
    # mention:how_to_end — a question about ending
    ("怎么结束对话？", "mention:how_to_end"), ("how do i end this chat?", "mention:how_to_end"),
    # unclear:answer_then_thanks — an answer, the thanks means "please"
    ("42码，谢谢", "unclear:answer_then_thanks"), ("size 9, thanks", "unclear:answer_then_thanks"),
    # request:not_done — "wait", or an accidental goodbye taken back
    ("thanks, hang on let me check", "request:not_done"), ("不是再见，我按错了", "request:not_done"),
    ("sorry, didn't mean bye", "request:not_done"), ("谢谢，稍等一下", "request:not_done"),
    # a leave verb with a complement is a travel plan; 88 next to a unit is a number
    ("i'm leaving on friday", "no_closing"), ("I need to go to the station", "request:question_or_task"),
    ("88码有吗", "request:question_or_task"), ("价格是88元", "no_closing"),
    # thanks, then the task goes on (a statement, not a question): continue, unsure
    ("谢谢，鞋底开胶了", "unclear:thanks_then_more"), ("ok thanks, the box was damaged", "unclear:thanks_then_more"),
    # ordinary requests: no closing at all
    ("我想买一双跑鞋", "request:question_or_task"), ("上周买的鞋开胶了", "no_closing"),
    # issue 16, second pass: farewell-like words inside a task, reported goodbyes, the user
    # handing the assistant something, negated goodbyes, a plan without any closing
    ("I need the shoes before I leave on Sunday", "request:question_or_task"),
    ("i'll be leaving from the downtown store", "no_closing"),
    ("please draft a goodbye email to my team", "mention:quoted"),
    ("she said bye and hung up on me", "mention:quoted"),
    ("bye the way, is there a student discount", "request:question_or_task"),
    ("thanks, i'll send you the receipt", "unclear:thanks_then_more"),
    ("别急着说拜拜，鞋还没到", "mention:quoted"), ("先别说再见，还有一件事", "mention:quoted"),
    ("I'll keep the receipt", "unclear:wrapup"), ("好的，我等一下再说", "request:not_done"),
    ("算了，你帮我退了吧", "request:question_or_task"),
    ("not right now", "unclear:wrapup"), ("i'll leave it up to you, thanks", "unclear:answer_then_thanks"),
    # third pass: a pause with a promised return, a farewell refused, 再见 as "see again"
    ("brb, grabbing my tape measure", "request:not_done"), ("我去拿一下鞋盒，一会儿回来", "request:not_done"),
    ("keep this chat open for me", "request:not_done"),
    ("don't say bye, I still need the invoice", "mention:quoted"),
    ("以后再见到这个牌子我绕着走", "no_closing"),
    # fourth pass: giving up one thing, 麻烦 + an action, 申请 is not 请, a condition is not an
    # outcome, a farewell refused, a code is not a numeric bye, a question about a choice
    ("我放弃了这张优惠券，换一张可以吗", "request:question_or_task"), ("麻烦把发票寄到公司", "request:question_or_task"),
    ("我申请了退款", "no_closing"), ("我自己去门店退的话要带什么", "request:question_or_task"),
    ("I won't be home until this is fixed", "no_closing"),
    ("not bye, I still need the tracking number", "mention:quoted"),
    ("the code SAVE886 does not work", "no_closing"), ("考虑一下买哪个好呢？", "request:question_or_task"),
]


@pytest.mark.parametrize("text,family", FAMILY_CASES)
def test_closing_families(text, family):
    d = rules_decision(text)
    assert (d.ends, d.rule, d.strategy) == (True, family, "rules")


@pytest.mark.parametrize("text,family", CONTINUE_CASES)
def test_continue_families(text, family):
    d = rules_decision(text)
    assert (d.ends, d.rule) == (False, family)


@pytest.mark.parametrize("text", ["好的", "嗯", "ok", "OK", "好吧", "嗯嗯"])
def test_bare_acknowledgement_is_unclear(text):
    d = rules_decision(text)
    assert not d.ends and d.unclear and d.rule == "unclear:ack"


@pytest.mark.parametrize("text", ["好的我知道了", "谢谢，再见", "没有了，谢谢", "that's all, thanks"])
def test_clear_goodbye_is_confident(text):
    assert not rules_decision(text).unclear


def test_long_mixed_sentence_is_unclear():
    d = rules_decision("谢谢，我收到的那双鞋子鞋底颜色和网页上图片展示的好像不太一样")
    assert d.unclear


# --- normalization -------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", [
    ("ＯＫ，谢谢！", "ok,谢谢!"),                 # full width -> half width, case
    ("谢谢 ， 再见 。", "谢谢,再见."),            # stray spaces before punctuation
    ("  好的   我知道了  ", "好的我知道了"),
    ("THANKS , Bye", "thanks,bye"),
    ("That’s  all", "that's all"),              # curly apostrophe, repeated spaces
    ("that 's all", "that's all"), ("i wo n't", "i won't"),  # tokenised text
    ("Thats all, THX", "that's all,thanks"), ("byeeee", "bye"), ("3q", "谢谢"),  # typed casually
    ("That is all I will need", "that's all i'll need"), ("i do not", "i don't"),  # long forms
    ("gr8, l8r", "great,later"), ("木有问题了", "没有问题了"),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("variants", [
    ["谢谢，再见", "谢谢 ， 再见 。", "谢谢,再见!"],
    ["好的我知道了", "好的 我知道了", "好的，我知道了！"],
    ["Thanks, bye", "THANKS,BYE", "Ｔｈａｎｋｓ，ｂｙｅ"],
    ["谢谢，再帮我查一下尺码", "谢谢 ，再帮我查一下尺码 ？"],
    ["that's all i need", "that 's all i need", "thats all i need"],
    ["I don't need anything else", "i do n't need anything else", "i dont need anything else",
     "I do not need anything else"],
    ["i'll figure it out myself", "i 'll figure it out myself", "I will figure it out myself"],
])
def test_same_decision_after_normalization(variants):
    assert len({rules_decision(v) for v in variants}) == 1


# --- strategies ---------------------------------------------------------------

class Spy:
    """A stand-in for the model call: records the texts, answers or raises."""

    def __init__(self, answer: bool = True, error: Exception | None = None) -> None:
        self.calls: list[str] = []
        self.answer, self.error = answer, error

    def __call__(self, text: str) -> bool:
        self.calls.append(text)
        if self.error:
            raise self.error
        return self.answer


def test_hybrid_clear_goodbye_makes_no_call():
    spy = Spy()
    d = EndDetector("hybrid", classify=spy).decide("好的我知道了")
    assert d == Decision(True, "hybrid", "closing:done", False)
    assert spy.calls == []


def test_hybrid_clear_request_makes_no_call():
    spy = Spy()
    assert not EndDetector(classify=spy).decide("谢谢，再帮我查一下尺码").ends
    assert spy.calls == []


def test_hybrid_unclear_goes_to_classify():
    spy = Spy(answer=True)
    d = EndDetector("hybrid", classify=spy).decide("好的")
    assert spy.calls == ["好的"]
    assert (d.ends, d.rule, d.unclear) == (True, "llm", True)


def test_hybrid_falls_back_when_classify_raises():
    spy = Spy(error=ConnectionError("network down"))
    d = EndDetector("hybrid", classify=spy).decide("好的")
    assert spy.calls == ["好的"]
    assert (d.ends, d.strategy, d.rule) == (False, "hybrid", "fallback:rules")


def test_llm_strategy_always_asks_and_falls_back():
    spy = Spy(answer=False)
    d = EndDetector("llm", classify=spy).decide("再见")
    assert (d.ends, d.rule, spy.calls) == (False, "llm", ["再见"])
    d = EndDetector("llm", classify=Spy(error=RuntimeError("no recording"))).decide("再见")
    assert (d.ends, d.rule) == (True, "fallback:rules")


def test_rules_strategy_never_asks():
    spy = Spy()
    EndDetector("rules", classify=spy).decide("好的")
    assert spy.calls == []


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError):
        EndDetector("magic")


def test_module_decide_falls_back_without_model(monkeypatch):
    def no_model(text):
        raise RuntimeError("回放里没有这条请求的录制")

    monkeypatch.setattr(ending, "llm_classify", no_model)
    assert decide("好的我知道了") == rules_decision("好的我知道了")
    assert decide("嗯", "hybrid").rule == "fallback:rules"


def test_llm_classify_uses_the_exact_messages(monkeypatch):
    seen = {}

    def fake_chat(messages, **params):
        seen["messages"], seen["params"] = messages, params
        return types.SimpleNamespace(text="END")

    monkeypatch.setitem(sys.modules, "helpers.llm", types.SimpleNamespace(chat=fake_chat))
    assert ending.llm_classify("好的") is True
    assert seen["messages"] == classification_messages("好的")
    assert seen["params"]["temperature"] == 0 and seen["params"]["max_tokens"] <= 10


def test_classification_messages():
    messages = classification_messages("谢谢，再帮我查一下尺码")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "END" in messages[0]["content"] and "CONTINUE" in messages[0]["content"]
    assert "谢谢，再帮我查一下尺码" in messages[1]["content"]


@pytest.mark.parametrize("reply,ends", [
    ("END", True), ("CONTINUE", False), (" end\n", True), ("标签：CONTINUE。", False), ("结束", True),
])
def test_parse_label(reply, ends):
    assert parse_label(reply) is ends


@pytest.mark.parametrize("reply", ["", "不确定", "END or CONTINUE", "ENDING"])
def test_parse_label_refuses_unclear_replies(reply):
    with pytest.raises(ValueError):
        parse_label(reply)


# --- evaluation and the kit's examples -----------------------------------------

CLI_ROWS = [  # rules: 3 tp, 1 fp, 1 fn, 2 tn (two labels are wrong on purpose)
    {"text": "好的我知道了", "label": 1, "kind": "closing_plain"},
    {"text": "谢谢，再见", "label": 1},
    {"text": "没有了，谢谢", "label": 1},
    {"text": "不用了，谢谢", "label": 0},
    {"text": "谢谢，再帮我查一下尺码", "label": 1},
    {"text": "这双有没有43码？", "label": 0},
    {"text": "再来一双一样的", "label": 0, "note": "ignored"},
]


def test_evaluate_counts():
    m = evaluate(CLI_ROWS, "rules")
    assert (m["tp"], m["fp"], m["fn"], m["tn"], m["n"]) == (3, 1, 1, 2, 7)
    assert m["precision"] == pytest.approx(0.75) and m["recall"] == pytest.approx(0.75)
    assert m["f1"] == pytest.approx(0.75)


def test_evaluate_empty():
    assert evaluate([], "rules")["f1"] == 0.0


def test_kit_examples_file():
    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 100
    assert all({"text", "label", "kind"} <= set(r) and r["label"] in (0, 1) for r in rows)
    assert sum(r["kind"].startswith("hard_negative") for r in rows) * 3 >= len(rows)
    texts = {r["text"]: r["label"] for r in rows}
    assert texts["好的我知道了"] == 1 and texts["谢谢，再帮我查一下尺码"] == 0
    assert evaluate(rows, "rules")["f1"] >= 0.95  # regression guard on our own examples


# --- command line (real subprocesses) --------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers.ending", *args], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=60)


def test_cli_eval(tmp_path):
    data = tmp_path / "small.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in CLI_ROWS) + "\n\n",
                    encoding="utf-8")
    proc = run_cli("eval", str(data), "--strategy", "rules")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert re.match(r"^precision=\d\.\d{3} recall=\d\.\d{3} f1=\d\.\d{3} n=\d+$", lines[-1])
    assert lines[-1] == "precision=0.750 recall=0.750 f1=0.750 n=7"
    assert "实际结束" in proc.stdout and "判为继续" in proc.stdout


def test_cli_eval_missing_file(tmp_path):
    proc = run_cli("eval", str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 2 and "无法读取" in proc.stderr


def test_cli_one_sentence():
    proc = run_cli("好的我知道了")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "结束对话 ✓（规则 closing:done）"
    proc = run_cli("谢谢，再帮我查一下尺码")
    assert proc.stdout.strip() == "继续对话（规则 request:question_or_task）"


# --- the speed guard in front of English branches changes no match ------------------

def test_top_level_split_respects_groups_classes_and_escapes():
    from helpers.ending_patterns import _top_level

    assert _top_level(r"a|(b|c)|[|]|\||d") == ["a", "(b|c)", "[|]", r"\|", "d"]


def test_word_start_guard_matches_like_the_plain_alternation():
    from helpers.ending_patterns import _word_start_first

    branches = [r"\bsee (?:you|ya)\b|^later\b", r"\?", r"(?<![^,.!;|])all good", r"\bta\b"]
    plain, guarded = re.compile("|".join(branches), re.ASCII), re.compile(
        _word_start_first(branches), re.ASCII)
    for text in ["ok see you", "later,bye", "what?", "thanks,all good", "data tab", "i see youth",
                 "好的see you", "all good?", "seeyou", "ta"]:
        assert plain.sub("|", text) == guarded.sub("|", text), text
