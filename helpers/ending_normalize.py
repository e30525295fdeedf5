"""Lesson 04: one spelling for the many ways people type the same thing.

Before any rule of helpers/ending_rules.py is tried, ``normalize`` folds width, case,
punctuation, stray spaces, tokenised English ("that 's all", "wo n't") and slang, phonetic
and typo spellings (88, 3q, thx, byeeee) onto one form, so each rule is written once.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Callable

# --- one spelling: slang, phonetic and typo forms folded onto one word -----------------------
# Whole words (English) or character runs (Chinese), replaced before any rule is tried.
# Tokenised text ("that 's", "wo n't"), numeric 88/886 and "byeeee" are handled in normalize().
EN_SPELLINGS = {
    "thats": "that's", "theres": "there's", "whats": "what's", "im": "i'm", "ive": "i've",
    "youre": "you're", "theyre": "they're", "dont": "don't", "didnt": "didn't", "doesnt": "doesn't",
    "isnt": "isn't", "cant": "can't", "wont": "won't", "wasnt": "wasn't", "arent": "aren't",
    **dict.fromkeys(["thx", "thanx", "thnx", "thnks", "thks", "tks", "tnx", "tahnks", "thankyou",
                     "thanku", "thank u", "tysm", "tyvm", "ty"], "thanks"),
    **dict.fromkeys(["byee", "byebye", "bye bye", "bb", "buhbye", "bai", "goodby", "gudbye"], "bye"),
    **dict.fromkeys(["fairwell", "farwell", "farewel"], "farewell"),
    **dict.fromkeys(["tootles", "tootaloo"], "toodles"),
    **dict.fromkeys(["okk", "kk", "k", "okie", "okey", "oki", "okey dokey", "okie dokie"], "ok"),
    **dict.fromkeys(["baii", "buhbai", "byez"], "bye"), "l8r": "later", "l8er": "later", "gr8": "great",
    "gud": "good", "bye the way": "by the way", "gotcha": "got it", "np": "no problem",
    # long forms folded onto the contraction, so "i will"/"i'll", "that is"/"that's" are one rule
    "i will": "i'll", "i am": "i'm", "that is": "that's", "it is": "it's", "there is": "there's",
    "do not": "don't", "does not": "doesn't", "did not": "didn't", "will not": "won't",
    "cannot": "can't", "can not": "can't", "we are": "we're", "you are": "you're",
    "gtg": "got to go", "g2g": "got to go", "nvm": "never mind", "nevermind": "never mind",
    "pls": "please", "plz": "please", "u": "you", "ur": "your",
    **dict.fromkeys(["3q", "3x", "3ks", "xiexie", "xie xie"], "谢谢"), "laterz": "later",  # typed on a Latin keyboard
}
ZH_SPELLINGS = {
    **dict.fromkeys(["蟹蟹", "射射", "谢谢谢"], "谢谢"),
    **dict.fromkeys(["白白", "掰掰", "拜了拜", "拜了个拜", "拜拜拜"], "拜拜"),
    **dict.fromkeys(["木有", "米有", "莫有", "莫得"], "没有"), "就酱": "就这样", "酱紫": "这样子", "米问题": "没问题", "知到": "知道",
    "好得": "好的", "懂辣": "懂啦",
}



# NFKC already folds full-width ！？，Ａ１ to ASCII; these are the leftovers.
_PUNCT = str.maketrans({"。": ".", "、": ",", "～": "~", "…": ".", "’": "'", "‘": "'",
                        "“": '"', "”": '"', "「": '"', "」": '"', "『": '"', "』": '"'})
_LONE_SPACE = re.compile(r" (?=[^a-z0-9'])|(?<=[^a-z0-9']) ")  # not between two English words


def _words(table: dict, pattern: str) -> tuple[re.Pattern, Callable[[re.Match], str]]:
    alternatives = "|".join(sorted(map(re.escape, table), key=len, reverse=True))
    return re.compile(pattern.format(alternatives), re.ASCII), lambda m: table[m.group()]


# Phrases ("thank u", "i will") by one alternation; single words by a dict look-up per word,
# which is much faster than an alternation of every spelling tried at each word.
_EN_PHRASES = _words({k: v for k, v in EN_SPELLINGS.items() if " " in k}, r"\b(?:{})\b")
_EN_WORD = re.compile(r"[a-z0-9]+", re.ASCII)
_EN_SINGLE = frozenset(k for k in EN_SPELLINGS if " " not in k)


def _en_word(m: re.Match) -> str:
    return EN_SPELLINGS.get(m.group(), m.group())
_ZH_WORDS = _words(ZH_SPELLINGS, r"{}")
_TOKENISED = re.compile(r"(?<=[a-z]) (?=n't\b|'(?:s|m|re|ve|ll|d)\b)")  # "that 's", "wo n't"
_REPEATED = re.compile(r"([a-z])\1{2,}")  # "byeeee" -> "byee" (then EN_SPELLINGS: "bye")
_NUMERIC_BYE = re.compile(r"(?:^|(?<=[,.!~ 了啦的哈嗯谢]))88+6?(?=$|[,.!~ 啦哈呀哦])|(?<![0-9a-z])886(?![0-9a-z])")


def normalize(text: str) -> str:
    """Width, case, punctuation, spaces and spelling variants folded so rules stay simple."""
    t = unicodedata.normalize("NFKC", text).lower()
    if not t.isascii():
        t = _ZH_WORDS[0].sub(_ZH_WORDS[1], t.translate(_PUNCT))
    t = " ".join(t.split())  # any run of whitespace -> one space
    if "'" in t or " n't" in t:
        t = _TOKENISED.sub("", t)
    if "88" in t:
        t = _NUMERIC_BYE.sub("拜拜", t)
    t = _EN_PHRASES[0].sub(_EN_PHRASES[1], _REPEATED.sub(r"\1\1", t))
    if not _EN_SINGLE.isdisjoint(_EN_WORD.findall(t)):  # most texts have no variant: skip
        t = _EN_WORD.sub(_en_word, t)
    return _LONE_SPACE.sub("", t) if " " in t else t  # "谢谢 ！" -> "谢谢!"
