"""Lesson 04: the building blocks of the ``rules`` strategy, and the families that keep talking.

``Rule`` and ``make_rule`` (one family = a Chinese and an English regular expression), shared
fragments (``END``: the clause ends here; people, "later" and task words), and the families
other than the closings (those are in helpers/ending_rules.py, which re-exports these):
- ``MENTION_RULES``: the farewell is talked *about* (「“再见”用英语怎么说」): keep talking.
- ``REQUEST_RULES``: looked for in what is left: a question, a task, "wait": keep talking.
- ``ACK`` / ``FILLER``: words that carry no decision (好的, 嗯, 亲, really, buddy).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Optional

# Sentence-final particles, interjections and terms of address: they never decide anything.
PARTICLES = r"嗯+|恩+|哦+|噢+|喔+|哇+|啊+|呀+|啦+|吧+|呢|嘛|哈+|嘿+|嘻+|哟|咯|喽|嘞|滴|哒|捏|呐|哼"
ADDRESS = r"亲爱的|亲+|客服|小姐姐|小哥哥?|美女|帅哥|老板|掌柜|店家|宝+|姐|哥"


@dataclass(frozen=True)
class Rule:
    name: str
    zh: Optional[re.Pattern]  # tried only when the text has Chinese characters
    en: Optional[re.Pattern]  # tried only when the text has Latin letters

    def patterns(self, has_zh: bool, has_en: bool) -> Iterable[re.Pattern]:
        return self._by_script[has_zh, has_en]

    @cached_property
    def _by_script(self) -> dict[tuple[bool, bool], tuple[re.Pattern, ...]]:
        """The patterns to try for each (has Chinese, has English), computed once."""
        return {(zh, en): tuple(p for p, on in ((self.zh, zh), (self.en, en)) if p and on)
                for zh in (False, True) for en in (False, True)}


def make_rule(name: str, zh: Iterable[str] = (), en: Iterable[str] = ()) -> Rule:
    # re.ASCII: \b and \w see Chinese characters as non-letters, so "好的bye" has a word "bye".
    zh, en = list(zh), list(en)
    return Rule(name, re.compile("|".join(zh)) if zh else None,
                re.compile(_word_start_first(en), re.ASCII) if en else None)


_WORD_START = ("\\b", "^", "(?<![^", "(?:\\b")  # English branches that begin at a word's start


def _word_start_first(branches: list[str]) -> str:
    """The same alternation, with one guard in front of the branches that begin a word.

    Python's ``re`` tries every branch at every position; behind one "a word starts here"
    check, the many English branches are skipped at once inside words (about 2x faster).
    """
    alts = [a for b in branches for a in _top_level(b)]
    words, other = [a for a in alts if a.startswith(_WORD_START)], [
        a for a in alts if not a.startswith(_WORD_START)]
    guarded = [r"(?<![a-z0-9_])(?=[a-z0-9])(?:" + "|".join(words) + ")"] if words else []
    return "|".join(guarded + other)


def _top_level(pattern: str) -> list[str]:
    """Split a regular expression at its top-level ``|`` (not inside groups or classes)."""
    parts, depth, in_class, start, i = [], 0, False, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 1
        elif in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c in "()":
            depth += 1 if c == "(" else -1
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    return parts + [pattern[start:]]


BYE_ZH, BYE_EN = r"再见|拜拜|谢谢|晚安", r"bye|goodbye|good bye|thanks|thank you"
# The clause ends here: "I need to leave" is a goodbye, "I need to leave on Tuesday" a plan.
# An emoji after a clause only decorates it ("going to eat now 🍕"): it does not continue it.
END = r"(?=[哈啊呀啦吧哦嗯~\u2600-\u27bf\ufe0f\U0001f300-\U0001faff]*(?:$|[,.!~;|]| (?:thanks|thank you|bye|cheers)\b|谢|拜))"
PEOPLE_ZH = r"(?:我)?(?:的)?(?:老公|老婆|家人|家里人?|男朋友|女朋友|朋友|爸妈|爸爸|妈妈|对象|媳妇|室友|领导|同事|孩子)"
LATER_ZH = r"再(?:说|来问?|问|找(?:你|您|你们)|联系|决定|买|看|定)(?:吧|哈|啦)?"  # "...then I'll come back"
# "I'll need a taxi", "I'll send you the photo": a task for the assistant, not the user's own next step
NOT_TASK_EN = (r"(?!(?:need|want|like|have|be|take|book|get|go with|do that|also|leave|let you|send|upload|attach|forward"
               r"|paste|share|tell|show|explain|describe|check(?! my))\b|[a-z']+ (?:you|it to you)\b)")
PEOPLE_EN = r"(?:my )?(?:wife|husband|partner|boss|mom|mum|dad|parents|family|friend|girlfriend|boyfriend)"

MENTION_RULES: tuple[Rule, ...] = (
    make_rule("mention:quoted", zh=[
        rf'"[^"]{{0,12}}(?:{BYE_ZH})[^"]{{0,12}}"',                    # 他说"再见"是什么意思
        rf"(?:{BYE_ZH}|{BYE_EN})[^,.!?]{{0,6}}(?:什么意思|的意思|怎么说|怎么写|怎么读|怎么翻译)",
        r"(?:用|拿)(?:英语|英文|日语|法语|韩语|德语|中文)[^,.!?]{0,6}怎么说",
        r"(?:他|她|他们|别人|对方|客服|老师|朋友|同事|卖家|商家|店员|人家)[^,.!?]{0,4}?(?:说|讲|写|回)了?声?[:,]?"
        r"(?:再见|拜拜|谢谢)",
        r"(?:再见|拜拜)(?:说|讲)得|(?:别|不要|先别)[^,.!?]{0,3}说(?:再见|拜拜)|说了?(?:再见|拜拜)(?:以后|之后|的时候|后)|(?:告别|再见|欢送)(?:信|演讲|致辞|派对|聚会|礼物|卡片?|文案)",
    ], en=[
        rf'"[^"]{{0,12}}(?:{BYE_EN})[^"]{{0,12}}"',
        r"\b(?:don't|do not|never) say (?:bye|good ?bye)\b|\bnot (?:saying )?(?:bye|good ?bye)(?: yet)?\b",  # not said
        r"\bhow (?:do|would|can|should|to) (?:you |i |we )?say\b",    # how do you say goodbye in French
        r"\bwhat (?:does|do|is)\b[^?]{0,25}\bmean\b",
        r"\b(?:translate|the word|the phrase|meaning of)\b",
        r"\b(?:farewell|good ?bye|bye)[- ](?:speech|party|card|letter|gift|message|email|note|dinner|sale|deal|offer"
        r"|lunch|present|song|post|tour|scene|video)s?\b",                    # a farewell speech
        rf"\b(?:{BYE_EN}|ttyl|see you)\b[^,.!?]{{0,12}}\b(?:is|was) what\b",   # "bye" is what he said
        rf"\b(?:said|say|says|saying) (?:{BYE_EN}) to\b",                      # I said bye to the courier
        r"\b(?:he|she|they|agent|rep|bot|someone|somebody|staff)(?: just)? (?:said|says|told me|wrote"
        r"|replied|typed)\b",
    ]),
    make_rule("mention:how_to_end", zh=[                                  # 怎么结束对话？
        r"(?:怎么|怎样|如何|要怎么|能不能|可以|能)(?:才能)?(?:结束|退出|关闭|关掉|停止|挂断)",
        r"(?:结束|退出)(?:对话|聊天)?[^,.!]{0,6}(?:吗|\?)",
    ], en=[
        r"\bhow (?:do|can|could|would|to) (?:i |we |you )?(?:end|exit|quit|close|stop|leave)\b",
    ]),
)

_NOT_NOUN = r"(?!(?:要|帮助|帮忙|知道|了解|问|帮)?的)"  # a verb followed by 的 is a noun phrase

REQUEST_RULES: tuple[Rule, ...] = (
    make_rule("request:question_or_task", zh=[
        r"\?|吗|(?<!么)么(?=$|[,.!~])|(?<![|好的了啦嗯哦])呢(?=$|[,.!~])",      # a question
        r"(?:能|可以|会|是|有|要)[\u4e00-\u9fff]{1,6}(?:不|没有?)(?=$|[,.!~])",  # 能包邮不 (A-not-A)
        r"(?<![申邀聘])请|帮(?:我|忙)" + _NOT_NOUN + r"|麻烦(?:你|您)?(?:帮|给|把|告诉|查|找|看|尽快)",
        r"能不能|能否|可不可以|可否|是否|有没有|是不是|会不会|要不要",
        r"(?:能|可以)(?:帮|给|告诉|查|找|推荐|订|换|退|便宜|发)" + _NOT_NOUN,
        r"(?<![不别想])(?:想(?!想|一想|好|通|清楚)|要|需要|打算|希望|(?<=[我还就也都你您先那])得(?!到)|准备)" + _NOT_NOUN + r"[\u4e00-\u9fffa-z0-9]",  # 我还想看看…
        r"另外|此外|顺便|还有(?:一|个|什么|事|问题)|还(?:想|要|需要|得|能)",
        r"(?:但是?|不过|可是|只是)(?!还是)",                               # 谢谢，但是鞋子有点挤脚
        r"告诉我|给我|发我|推荐|查|找|订(?!单|好)|预约|换(?!货)|退(?!款|货)|寄|发货|试穿",  # not 订单/退款
        r"多少|什么|啥|哪|几|怎么|如何|为什么|为何|谁",
    ], en=[
        r"\?",
        # a question word or an imperative verb opening a clause: "thanks, and what's …"
        r"(?<![^,.!;|])(?:(?:and|so|then|but|now|also|ok|okay|please|just) )?"
        r"(?:what|how|where|when|why|who|which|whose|can|could|would|will|do|does|did|is|are|should|may"
        r"|find|book|get|reserve|send|check|show|give|look|search|order|cancel|change|add|call|make|tell"
        r"|write|draft|translate|explain|help|list|compare|refund|ship)\b",
        r"\b(?:can|could|would|will) you\b|\b(?:please|also|another|one more|anything|what about|how about"
        r"|by the way|btw)\b",
        r"\b(?:tell me|show me|help me|let me know|remind me)\b",
        r"\b(?:i|we)(?:'ll|'d| will| would| still| also| really| just)* (?:need|want|wanna|like)\b",
    ]),
    make_rule("request:not_done", zh=[                                    # wait, I'm not finished
        r"等(?:一)?(?:下|等|会儿?)|稍等|先别|别(?:走|挂|关|结束)|不对|(?:说|打|按|发|点)错了"
        r"|还没(?:说完|问完|完|结束|好)|没说完|不是(?:要)?(?:再见|拜拜|结束|走)|(?:马上|一会儿?|待会儿?|等下)(?:就)?回来",
    ], en=[
        r"(?<![^,.!;|])(?:oh |um |no )?wait\b|\bwait (?:a|one) (?:sec|second|moment|minute)\b"
        r"|\b(?:hold on|hang on|one sec(?:ond)?|just a (?:sec|second|moment|minute)|actually"
        r"|let me (?:check|see|look|find|think|ask)|not (?:yet|done|finished)|oops|my bad"
        r"|didn't mean|wrong (?:button|key|chat)|still (?:have|need|got)|don't (?:say (?:bye|goodbye)|go|leave|close))\b",
        r"\b(?:brb|be right back|back in a (?:sec|second|minute|min)|keep (?:this|the) (?:chat|window) open)\b",
    ]),  # a pause with a promised return (马上回来, brb) is not a goodbye
    make_rule("request:zai", zh=[r"(?<![不别])(?<!不想|不会|不要|不用|不必)再(?!见|次|也|会(?!员)|考虑|想想|想一想|商量|讨论|研究|琢磨|决定|说|联系|聊)(?![^,.!?|]{1,4}也)"]),
)

# Gratitude, not "please": thanks with an intensifier or a reason (「辛苦了」, "thanks again",
# "thank you so much", "thanks for your help") closes even after an answer.
GRATEFUL = make_rule("closing:grateful", zh=[r"非常感谢|太感谢|十分感谢|万分感谢|(?:谢谢|感谢)(?:你|您)?(?:们)?的?"
                                            r"(?:帮助|帮忙|耐心|解答)|辛苦(?:你|您)?了"],
                     en=[r"\b(?:thank(?:s| you)|appreciate (?:it|that|your help))(?: (?:so|very) much"
                         r"| a (?:lot|ton|bunch)| again| for (?:the|your|all|everything))|\bmuch appreciated\b"])
ACK = make_rule("ack", zh=[r"了解|明白|懂|知道|收到|好的|好吧|好啊|好滴|好嘞|好哒|得嘞|行吧|可以的|是的|对的|ok|" + PARTICLES],
            en=[r"\b(?:ok(?:ay)?|alright|all right|sure|got it|i see|yes|yeah|yep|yup|no|nope|cool|kk|will do)\b"
                r"|(?<![^,.!;|])i(?:'ll| do| did)" + END])
FILLER = make_rule("filler", zh=[
    r"那个|就是|然后|太好了|太棒了|好极了|很好|不错|完美|满意|很有帮助|听起来|没问题|没关系|好|行|对|是|那么|那|就|也|都|还是"
    r"|这些|这样|已经|再次|万分|今天|目前|现在|暂时|先|我们|我|你们|你|您|非常|十分|真|太|很|挺|的|了|帮助"
    r"|么么哒|" + ADDRESS + "|" + PARTICLES,
], en=[
    r"\b(?:great|perfect|cool|awesome|nice|good|fine|excellent|wonderful|sounds|that's|that|is|was|it|this"
    r"|then|well|so|and|oh|ah|hmm|um|you|too|very|much|really|again|today|now|for|with|me|my|friend|buddy"
    r"|assistant|bot|ai|device|helpful|the|a|mate|man|dude|guys|lol|haha|anyway|all|okay|ok|stuff"
    r"|um|uh|er|brilliant|sweet|lovely|fab|superb|amazing|excellent)\b",
])
