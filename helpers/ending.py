"""Does the user want to end the conversation?

The console chat of the first project must answer exactly FAREWELL and stop
when the user, in any words, is done. A keyword list ("谢谢" → end) fails on
「谢谢，再帮我查一下尺码」, so this module decides in three ways:

- ``rules``:  offline and instant; named rule families over a normalized text.
- ``llm``:    one short classification call to the model (strict prompt).
- ``hybrid``: rules for clear cases, the model only when the rules are unsure.

Run ``python -m helpers.ending eval FILE.jsonl`` to measure a strategy.
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Optional

FAREWELL = "感谢您的咨询，再见"

STRATEGIES = ("rules", "llm", "hybrid")


@dataclass(frozen=True)
class Decision:
    ends: bool  # True: reply FAREWELL and stop
    strategy: str  # "rules", "llm" or "hybrid"
    rule: str  # which rule family (or "llm", "fallback:rules") decided
    unclear: bool = False  # the rules were not confident


# ---------------------------------------------------------------------------
# 1. Normalization: one spelling for the many ways people type the same thing
# ---------------------------------------------------------------------------

# NFKC already folds full-width ！？，Ａ１ to ASCII; these are the leftovers.
_PUNCT = str.maketrans({"。": ".", "、": ",", "～": "~", "…": ".", "’": "'", "‘": "'",
                        "“": '"', "”": '"', "「": '"', "」": '"', "『": '"', "』": '"'})
_LONE_SPACE = re.compile(r" (?=[^a-z0-9'])|(?<=[^a-z0-9']) ")  # not between two English words


def normalize(text: str) -> str:
    """Width, case, punctuation and stray spaces folded so rules stay simple."""
    t = unicodedata.normalize("NFKC", text).lower()
    if not t.isascii():
        t = t.translate(_PUNCT)
    t = " ".join(t.split())  # any run of whitespace -> one space
    return _LONE_SPACE.sub("", t) if " " in t else t  # "谢谢 ！" -> "谢谢!", "thanks , bye" -> "thanks,bye"


# ---------------------------------------------------------------------------
# 2. Rule families: a name plus Chinese and English alternatives (regexes).
#    To teach the detector a new phrase, add one alternative to a family.
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    name: str
    zh: Optional[re.Pattern]  # tried only when the text has Chinese characters
    en: Optional[re.Pattern]  # tried only when the text has Latin letters

    def patterns(self, has_zh: bool, has_en: bool) -> Iterable[re.Pattern]:
        return [p for p, on in ((self.zh, has_zh), (self.en, has_en)) if p is not None and on]


_WORD_START = r"(?<![a-z0-9'])"


def _alt(alternatives: Iterable[str], flags: int = 0) -> Optional[re.Pattern]:
    alternatives = list(alternatives)
    # Speed: English alternatives that begin with \b share one look-behind, so the
    # engine tries them only where a word starts instead of at every character.
    words = [a[2:] for a in alternatives if a.startswith(r"\b")]
    others = [a for a in alternatives if not a.startswith(r"\b")]
    parts = ([_WORD_START + "(?:" + "|".join(f"(?:{w})" for w in words) + ")"] if words else [])
    parts += [f"(?:{a})" for a in others]
    return re.compile("|".join(parts), flags) if parts else None


def _rule(name: str, zh: Iterable[str] = (), en: Iterable[str] = ()) -> Rule:
    # re.ASCII: \b and \w see Chinese characters as non-letters, so "好的bye" has a word "bye".
    return Rule(name, _alt(zh), _alt(en, re.ASCII))


_BYE_ZH = r"再见|拜拜|谢谢|晚安"
_BYE_EN = r"bye|goodbye|good bye|thanks|thank you"

# Checked first, on the whole text: the farewell is talked *about*, not said.
NEGATIVE_RULES: tuple[Rule, ...] = (
    _rule("negative:quoted", zh=[
        rf'"[^"]{{0,12}}(?:{_BYE_ZH})[^"]{{0,12}}"',                    # 他说"再见"是什么意思
        rf"(?:{_BYE_ZH}|{_BYE_EN})[^,.!?]{{0,6}}(?:什么意思|的意思|怎么说|怎么写|怎么读|怎么翻译)",
        r"(?:用|拿)(?:英语|英文|日语|法语|韩语|德语|中文)[^,.!?]{0,6}怎么说",
        r"(?:他|她|他们|别人|对方|客服|老师)(?:说|讲|写|回)了?[:,]?(?:再见|拜拜|谢谢)",
    ], en=[
        rf'"[^"]{{0,12}}(?:{_BYE_EN})[^"]{{0,12}}"',
        r"\bhow (?:do|would|can|should|to) (?:you |i |we )?say\b",    # how do you say goodbye in French
        r"\bwhat (?:does|do|is)\b[^?]{0,25}\bmean\b",
        r"\b(?:translate|the word|the phrase|meaning of)\b",
    ]),
    _rule("negative:meta_question", zh=[                              # 怎么结束对话？
        r"(?:怎么|怎样|如何|要怎么|能不能|可以|能)(?:才能)?(?:结束|退出|关闭|关掉|停止|挂断)",
        r"(?:结束|退出)(?:对话|聊天)?[^,.!]{0,6}(?:吗|\?)",
    ], en=[
        r"\bhow (?:do|can|could|would|to) (?:i |we |you )?(?:end|exit|quit|close|stop|leave)\b",
    ]),
)

# Closing formulas. Their spans are cut out; what is left decides the rest.
# Order matters only for the name reported: the first family that matched.
CLOSING_RULES: tuple[Rule, ...] = (
    _rule("closing:bye", zh=[
        r"再见|拜拜|拜了|回见|回头见|下次见|改天见|明天见|晚安|告辞|先走了|我走了|下线了|(?:先|就)?挂了",
        r"(?:回头|改天|下次|有空)再(?:联系|聊|来|说)|再联系|有(?:问题|需要|事)再(?:找|问|联系|来)|不打扰(?:你|您)?了",
        r"祝(?:你|您|你们)[^,.!?]{0,10}(?:愉快|顺利|开心|快乐|好运|一天)",
    ], en=[
        r"\b(?:good ?bye|bye|farewell|so long|adios|ciao|sayonara|ttyl|ttfn|cya|toodles)\b",
        r"\bbye[- ]?bye\b|\bta[- ]?ta\b|^(?:best |kind |warm )?regards\b|^peace(?: out)?!?$",
        r"\b(?<!to )see (?:you|ya|u)\b(?: later| soon| around| next time| tomorrow| then)?",  # not "good to see you"
        r"\b(?:talk|speak|chat|catch) (?:to |with )?(?:you |ya )?(?:later|soon|again|around|next time)\b",
        r"(?<![^,.!;])laters?(?=$|[,.!;])|^later\b",
        r"\btake (?:care|it easy)\b|\bpeace out\b|\bgood ?night\b",
        r"\bhave a (?:good|nice|great|lovely|wonderful|fantastic) (?:one|day|night|evening|weekend|afternoon|time)\b",
        r"\bi(?:'m| am|'ve| have)? (?:have to|must|need to|got to|gotta|should) (?:go|leave|run|get going|head out)\b",
        r"\bi(?:'m| am|'ll be| will be) (?:leaving|heading out|off|going|out)(?: now)?(?=$|[,.!;])",
        r"\b(?:gotta (?:go|run)|(?:out of|outta) here|signing off|until next time|till next time)\b",
    ]),
    _rule("closing:done", zh=[                                        # nothing more to ask
        r"(?:没有|没|无)(?:别的|其他|其它|什么|啥|任何)*(?:需要|要|想)?(?:帮忙|帮助|问|买)?的?"
        r"(?:问题|事情?|需要|需求|要求)?(?:了|啦)(?!解)",
        r"没有(?:别的|其他|其它|任何)(?:问题|事情?|需要|需求|要求)",
        r"不(?:需要|用|要)(?:什么|别的|其他)*(?:帮助|帮忙)?(?:了|啦)?|不必了|不了|没事了|算了|不买了|不看了|不(?=[,.!]?谢)",
        r"(?:就|只)先?(?:问|聊|说|买|看|需要|要|想知道|是)?(?:这些|这么多|这样|这么着|到这(?:里|儿)?)(?:了|吧|啦)?|先这样",
        r"(?:需要|要问|想问|想知道|要买)的[^,.!?]{0,4}?(?:就|只)?是?(?:这些|这么多)",
        r"(?:这|那)(?:些)?(?:就|正|正好|刚好|也)?是(?:我|我们)[^,.!?]{0,6}?(?:需要|想要|想知道|要找|要|想问)[^,.!?]{0,3}?的",
        r"(?:足?够|可以|行)了",
        r"什么都不(?:需要|用|要)了?|解决了|没问题了",
        r"(?:都|已经)+(?:帮我|为我|给我)?[\u4e00-\u9fff]{0,4}?(?:过|好)了",   # 都帮我查过了: done, not a request
        r"(?:知道|明白|了解|清楚|懂|记下|记住)了",                              # 好的我知道了
        r"(?:再|回去)(?:考虑|想想|想一想|商量|研究)(?:考虑|一下|下)?",  # polite leave-taking
    ], en=[
        r"\bthat(?:'?s| is| was| will be| would be|'ll be) (?:all|it|everything|enough)\b"
        r"(?: (?:that )?i (?:need|needed|want|wanted|have|had)(?: to (?:know|ask))?)?(?: for (?:now|today|the day))?",
        r"\bthat'?s (?:exactly |just )?what i (?:need|needed|wanted|was looking for)\b",
        r"(?<![^,.!;])(?:there's |there is )?(?:nothing|no) (?:else|more)\b(?: for (?:now|today))?",
        r"\bi (?:don't|do not) (?:need|have) anything (?:else|more)\b|\bno (?:more|further|other) questions\b",
        r"\bi(?:'m| am) (?:all )?(?:done|set|good|finished)\b|\ball (?:set|done)\b|\bwe(?:'re| are) (?:done|good|all set)\b",
        r"\bno,? thanks?\b|\bno,? thank you\b|\bi think that'?s (?:it|all)\b|\bthat covers (?:it|everything)\b",
    ]),
    _rule("closing:pleasant", zh=[                                    # 聊得很开心 / nice talking to you
        r"(?:聊得|谈得)(?:很|真|挺|非常)?(?:开心|愉快)|(?:跟|和|与)(?:你|您)(?:聊天|交谈|聊)(?:很|真|挺|非常)?(?:开心|愉快)",
    ], en=[
        r"\b(?:nice|good|great|lovely|fun|awesome|cool|pleasant|wonderful|enjoyable|pleasure|fantastic|glad|enjoyed)\b"
        r"[^,.!?]{0,25}?\b(?:talking|chatting|speaking|conversing|talked|chatted|spoke|seeing you|catching up|catch up"
        r"|to (?:talk|chat|speak|converse)|talk|chat|conversation)\b",
    ]),
    _rule("closing:command", zh=[
        r"^(?:结束|退出)(?:对话|聊天|会话)?$|不聊了|聊到这(?:里|儿)?|先聊到这",
    ], en=[
        r"^(?:exit|quit)$|\bend (?:the |this |our )?(?:chat|conversation|session)\b",
    ]),
    _rule("closing:thanks", zh=[
        r"(?:感谢|谢谢|谢啦|谢了|多谢|感激|谢)(?:你|您|你们)?(?:今天|刚才|一直以来)?的?"
        r"(?:(?:帮助|帮忙|耐心|时间|服务|解答|协助|介绍|信息|推荐|建议|支持|提醒|解释)(?:和|与|及|,)?)*(?:了|啦|啊|呀)?",
        r"辛苦(?:你|您)?(?:了|啦)|麻烦(?:你|您)?了|(?:你|您)?(?:真是)?帮了(?:我)?(?:一个)?大忙",
    ], en=[
        r"\b(?:thank(?:s| you)|thx|ty|many thanks|much appreciated|appreciate (?:it|that|your help)|cheers)\b"
        r"(?: (?:so|very) much| a lot| a ton| again| kindly)*"
        r"(?: for (?:(?:the|your|all|our|this|of|everything) )*(?:help|time|patience|information|info|assistance"
        r"|advice|chat|chatting|talk|talking|conversation|support|everything)\b)?",
        r"\byou(?:'ve| have) been (?:\w+ )?(?:helpful|(?:a |such a )?(?:\w+ )?help)\b",
    ]),
)

# A verb followed by 的 is a noun phrase ("what I wanted"), not a request.
_NOT_NOUN = r"(?!(?:要|帮助|帮忙|知道|了解|问|帮)?的)"

# Looked for in what is left after cutting the closings out (any hit: keep talking).
REQUEST_RULES: tuple[Rule, ...] = (
    _rule("negative:new_request", zh=[
        r"\?|吗|么(?=$|[,.!~])|(?<!好的)呢(?=$|[,.!~])",                # a question
        r"(?:能|可以|会|是|有|要)[\u4e00-\u9fff]{1,6}(?:不|没有?)(?=$|[,.!~])",  # 能包邮不 (A-not-A)
        r"请|帮(?:我|忙)" + _NOT_NOUN + r"|麻烦(?:你|您)?(?:帮|给|告诉|查|找|看|尽快)",
        r"能不能|能否|可不可以|可否|是否|有没有|是不是|会不会|要不要",
        r"(?:能|可以)(?:帮|给|告诉|查|找|推荐|订|换|退|便宜|发)" + _NOT_NOUN,
        r"(?:想|要|需要|打算|希望|得|准备)" + _NOT_NOUN + r"[\u4e00-\u9fffa-z0-9]",  # 我还想看看… (not a bare 我想)
        r"另外|此外|顺便|还有(?:一|个|什么)|还(?:想|要|需要|得|能)",
        r"(?:但是?|不过|可是|只是)(?!还是)",                               # 谢谢，但是鞋子有点挤脚
        r"告诉我|给我|发我|推荐|查|找|订|预约|换|退|寄|发货|试穿",
        r"多少|什么|啥|哪|几|怎么|如何|为什么|为何|谁",
    ], en=[
        r"\?",
        # a question word or an imperative verb opening a clause: "thanks, and what's …", "now find me …"
        r"(?<![^,.!;|])(?:(?:and|so|then|but|now|also|ok|okay|please) )?"
        r"(?:what|how|where|when|why|who|which|whose|can|could|would|will|do|does|did|is|are|should|may"
        r"|find|book|get|reserve|send|check|show|give|look|search|order|cancel|change|add|call|make|tell)\b",
        r"\b(?:can|could|would|will) you\b|\b(?:please|also|another|one more|anything|what about|how about)\b",
        r"\b(?:tell me|show me|help me|let me know|remind me)\b",
        r"\b(?:i|we)(?:'ll|'d| will| would| still| also| really| just)* (?:need|want|wanna|like)\b",
    ]),
    _rule("negative:zai", zh=[r"再(?!见|次|考虑|想想|想一想|商量|讨论|研究)"]),  # 再来一个, 再问一下
)

# Words that carry no decision: acknowledgements, then pronouns, particles, praise.
ACK = _rule("ack", zh=[r"了解|明白|懂|知道|收到|好的|好吧|好啊|好滴|好嘞|行吧|可以的|是的|对的|嗯+|哦+|噢|ok"], en=[
    r"\b(?:ok(?:ay)?|alright|all right|sure|got it|i see|yes|yeah|yep|no|nope)\b"])
FILLER = _rule("filler", zh=[
    r"太好了|太棒了|好极了|很好|不错|完美|满意|很有帮助|听起来|没问题|没关系|好|行|对|是|那么|那|就|也|都|还是"
    r"|这些|这样|已经|再次|万分|今天|目前|现在|暂时|先|我们|我|你们|你|您|非常|十分|真|太|很|挺|的|了|啊|呀|啦|吧|呢|哈+|帮助",
], en=[
    r"\b(?:great|perfect|cool|awesome|nice|good|fine|excellent|wonderful|sounds|that's|that|is|was|it|this|then"
    r"|well|so|and|oh|ah|hmm|um|you|too|very|much|really|again|today|now|for|with|me|my|friend|buddy|assistant"
    r"|bot|ai|device|helpful|the|a)\b",
])
_HAS_ZH = re.compile(r"[\u4e00-\u9fff]")
_HAS_EN = re.compile(r"[a-z]")
_CONTENT = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]+")
_CUT = "|"  # what a removed span becomes, so neighbours never join into new words
_MAX_LEFTOVER = 3  # content units the rules tolerate next to a closing


# ---------------------------------------------------------------------------
# 3. The rules strategy
# ---------------------------------------------------------------------------

def _cut(rule: Rule, text: str, has_zh: bool, has_en: bool) -> tuple[str, int]:
    """Replace every span the rule matches with _CUT; also return how many."""
    total = 0
    for pattern in rule.patterns(has_zh, has_en):
        text, hits = pattern.subn(_CUT, text)
        total += hits
    return text, total


def _found(rule: Rule, text: str, has_zh: bool, has_en: bool) -> bool:
    return any(p.search(text) for p in rule.patterns(has_zh, has_en))


def _content(fragment: str, has_zh: bool, has_en: bool) -> int:
    """Meaningful units (Chinese characters, English words) once fillers are gone."""
    fragment = _cut(ACK, fragment, has_zh, has_en)[0]
    return len(_CONTENT.findall(_cut(FILLER, fragment, has_zh, has_en)[0]))


def rules_decision(text: str) -> Decision:
    """Decide with the rule families alone; ``unclear`` marks a low-confidence guess."""
    t = normalize(text)
    zh, en = _HAS_ZH.search(t) is not None, _HAS_EN.search(t) is not None
    for rule in NEGATIVE_RULES:
        if _found(rule, t, zh, en):
            return Decision(False, "rules", rule.name)
    closings: list[str] = []
    rest = t
    for rule in CLOSING_RULES:
        rest, hits = _cut(rule, rest, zh, en)
        if hits:
            closings.append(rule.name)
    for rule in REQUEST_RULES:  # a request or question anywhere outweighs any closing
        if _found(rule, rest, zh, en):
            return Decision(False, "rules", rule.name)
    leftover = _content(rest, zh, en)
    if closings == ["closing:thanks"] and _content(rest.split(_CUT, 1)[0], zh, en):
        # "欧洲的餐厅，谢谢" / "two people, thanks": here the thanks means "please".
        return Decision(False, "rules", "negative:answer_then_thanks", unclear=True)
    if closings:
        # Words we cannot read next to a closing: probably still a goodbye, but unsure.
        return Decision(True, "rules", closings[0], unclear=leftover > _MAX_LEFTOVER)
    if leftover == 0 and _found(ACK, rest, zh, en):
        return Decision(False, "rules", "unclear:ack", unclear=True)  # bare 好的 / ok / 嗯
    return Decision(False, "rules", "no_closing", unclear=leftover > 12)


def is_goodbye(text: str) -> bool:
    """The fast path: True when the rules say the user is ending the chat."""
    return rules_decision(text).ends


# ---------------------------------------------------------------------------
# 4. The llm strategy: one strict classification call
# ---------------------------------------------------------------------------

_SYSTEM_PROMPT = (
    "你是一个对话结束判定器。客服对话中，判断用户这句话是否表示想结束对话"
    "（例如道谢后不再提问、说再见、表示没有别的问题了）。"
    "如果用户道谢后又提出新的请求或问题，或者只是在谈论“再见”这个词，都不算结束。"
    "例如「好的我知道了」是 END，「谢谢，再帮我查一下尺码」是 CONTINUE。"
    "只输出一个标签：END（想结束）或 CONTINUE（还要继续），不要输出任何其他内容。"
)
_LABEL = re.compile(r"\b(END|CONTINUE)\b|(结束|继续)", re.ASCII)  # ASCII: "标签END" still has a word END


def classification_messages(text: str) -> list[dict]:
    """The exact messages sent to the model; recordings are authored for these."""
    return [
        {"role": "system", "content": _SYSTEM_PROMPT},
        {"role": "user", "content": f"用户的话：{text}"},
    ]


def parse_label(reply: str) -> bool:
    """Read END/CONTINUE from a reply; raise ValueError if there is no single label."""
    labels = {m.group(1) or m.group(2) for m in _LABEL.finditer(reply.upper())}
    if len(labels) != 1:
        raise ValueError(f"无法识别的分类结果：{reply!r}")
    return labels.pop() in ("END", "结束")


def llm_classify(text: str) -> bool:
    """Ask the model; any failure (no recording, no network) propagates to the caller."""
    from helpers.llm import chat  # lazy: the rules path must work without it

    reply = chat(classification_messages(text), temperature=0, max_tokens=5)
    return parse_label(reply.text)


# ---------------------------------------------------------------------------
# 5. Putting strategies together
# ---------------------------------------------------------------------------

class EndDetector:
    """Decides with one strategy; ``classify`` replaces the model call (tests, offline)."""

    def __init__(self, strategy: str = "hybrid",
                 classify: Optional[Callable[[str], bool]] = None) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"未知策略：{strategy}（可选：{'、'.join(STRATEGIES)}）")
        self.strategy = strategy
        self.classify = classify or llm_classify

    def decide(self, text: str) -> Decision:
        rules = rules_decision(text)
        if self.strategy == "rules":
            return rules
        if self.strategy == "hybrid" and not rules.unclear:
            return Decision(rules.ends, "hybrid", rules.rule)  # clear: no model call
        try:
            ends = bool(self.classify(text))
        except Exception:  # the chat must go on even when the model cannot answer
            return Decision(rules.ends, self.strategy, "fallback:rules", rules.unclear)
        return Decision(ends, self.strategy, "llm", rules.unclear)


def decide(text: str, strategy: str = "rules") -> Decision:
    """One decision with the named strategy (see EndDetector)."""
    if strategy == "rules":
        return rules_decision(text)
    return EndDetector(strategy).decide(text)


def evaluate(rows: Iterable[Mapping], strategy: str = "rules",
             classify: Optional[Callable[[str], bool]] = None) -> dict:
    """Confusion counts and precision/recall/F1 of a strategy on labeled rows."""
    detector = EndDetector(strategy, classify)
    tp = fp = fn = tn = 0
    for row in rows:
        actual = int(row["label"]) == 1
        predicted = detector.decide(str(row["text"])).ends
        tp += actual and predicted
        fp += predicted and not actual
        fn += actual and not predicted
        tn += not actual and not predicted
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision,
            "recall": recall, "f1": f1, "n": tp + fp + fn + tn}


def read_jsonl(path: str) -> list[dict]:
    """Rows of a JSON Lines file, blank lines skipped."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------------------
# 6. Command line: python -m helpers.ending eval FILE.jsonl | "一句话"
# ---------------------------------------------------------------------------

def _format_decision(d: Decision) -> str:
    verdict = "结束对话 ✓" if d.ends else "继续对话"
    source = "模型判定 llm" if d.rule == "llm" else f"规则 {d.rule}"
    return f"{verdict}（{source}{'，规则不确定' if d.unclear else ''}）"


def main(argv: Optional[list[str]] = None) -> int:
    import argparse

    argv = list(sys.argv[1:] if argv is None else argv)
    evaluating = bool(argv) and argv[0] == "eval"
    parser = argparse.ArgumentParser(
        prog="python -m helpers.ending",
        description="判断一句话是否表示想结束对话，或在标注数据上评估。")
    parser.add_argument("target", nargs="+",
                        help="要评估的 JSONL 文件" if evaluating else "要判断的一句话")
    parser.add_argument("--strategy", choices=STRATEGIES, default="rules",
                        help="判定策略（默认 rules）")
    args = parser.parse_args(argv[1:] if evaluating else argv)

    if not evaluating:
        print(_format_decision(decide(" ".join(args.target), args.strategy)))
        return 0
    try:
        rows = read_jsonl(args.target[0])
    except (OSError, ValueError) as exc:
        print(f"无法读取数据文件：{exc}", file=sys.stderr)
        return 2
    m = evaluate(rows, args.strategy)
    print(f"策略：{args.strategy}    数据：{args.target[0]}")
    print(" " * 10 + "判为结束  判为继续")  # a Chinese character is two columns wide
    print(f"实际结束  {m['tp']:>8}  {m['fn']:>8}")
    print(f"实际继续  {m['fp']:>8}  {m['tn']:>8}")
    print(f"precision={m['precision']:.3f} recall={m['recall']:.3f} f1={m['f1']:.3f} n={m['n']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
