"""Graders: does a model's answer pass? (lessons 07, 08; used by ``helpers.evals``).

Each grader takes the model's text (and the item's gold answer or pattern) and returns a
Verdict. Malformed output (no number, broken JSON, an empty reply) is a failed Verdict with a
short Chinese reason, never an exception.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable


@dataclass
class Verdict:
    passed: bool
    why: str = ""


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return "".join(ch for ch in text if not unicodedata.category(ch)[0] in "PZS")


def _golds(gold) -> list[str]:
    return [str(g) for g in (gold if isinstance(gold, list) else [gold])]


def grade_exact(text: str, gold) -> Verdict:
    ok = text.strip() in [g.strip() for g in _golds(gold)]
    return Verdict(ok, "" if ok else f"应当正好是「{_golds(gold)[0]}」")


def grade_normalised(text: str, gold) -> Verdict:
    ok = normalise(text) in [normalise(g) for g in _golds(gold)]
    return Verdict(ok, "" if ok else f"规范化后应当等于「{_golds(gold)[0]}」")


def grade_contains(text: str, gold) -> Verdict:
    """Every gold piece must appear in the answer (after normalisation)."""
    missing = [g for g in _golds(gold) if normalise(g) not in normalise(text)]
    return Verdict(not missing, "" if not missing else f"回答里没有「{'」「'.join(missing)}」")


_NUMBER = r"-?\d+(?:\.\d+)?"


def final_number(text: str) -> float | None:
    """The answer's number: after 「答案」 if the model wrote one, else the last number."""
    text = unicodedata.normalize("NFKC", str(text)).replace(",", "")
    marked = re.findall(r"(?:最终答案|答案)\s*[:是为]?\s*(?:约|共)?\s*(" + _NUMBER + ")", text)
    found = marked or re.findall(_NUMBER, text)
    return float(found[-1]) if found else None


def grade_numeric(text: str, gold: float, tol: float = 0.0) -> Verdict:
    got = final_number(text)
    if got is None:
        return Verdict(False, "回答里找不到数字")
    ok = abs(got - float(gold)) <= tol
    return Verdict(ok, "" if ok else f"得到 {got:g}，应为 {float(gold):g}")


def grade_regex(text: str, pattern: str) -> Verdict:
    ok = re.search(pattern, str(text)) is not None
    return Verdict(ok, "" if ok else f"不符合格式 /{pattern}/")


def parse_json(text: str):
    """The JSON value in a reply, tolerating a ```json fence; raises ValueError in Chinese."""
    body = str(text).strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", body, flags=re.S)
    try:
        return json.loads(fenced.group(1) if fenced else body)
    except ValueError as err:
        raise ValueError(f"不是合法的 JSON（{err.args[0].split(':')[0]}）") from None


def grade_json(text: str, schema: dict) -> Verdict:
    import jsonschema

    try:
        data = parse_json(text)
    except ValueError as err:
        return Verdict(False, str(err))
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is None:
        return Verdict(True)
    where = "/".join(str(p) for p in error.absolute_path) or "整体"
    return Verdict(False, f"JSON 不符合要求（{where}：{error.validator} 不满足）")


REFUSAL = re.compile(r"抱歉|无法(?:回答|提供|确定|透露)|不能(?:回答|提供|透露|保证)|不清楚|不提供|"
                     r"没有(?:相关|这方面的|该)?(?:信息|资料|数据)|不便透露|超出.{0,6}范围|sorry|cannot")


def grade_refusal(text: str) -> Verdict:
    ok = REFUSAL.search(str(text).lower()) is not None
    return Verdict(ok, "" if ok else "这道题应当拒答（说明无法回答），回答却给出了内容")


GRADERS: dict[str, Callable[..., Verdict]] = {
    "exact": grade_exact, "normalised": grade_normalised, "contains": grade_contains,
    "numeric": grade_numeric, "regex": grade_regex, "json": grade_json, "refusal": grade_refusal}
