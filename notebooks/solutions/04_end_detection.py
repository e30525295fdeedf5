"""Reference solutions of lesson 04's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass,
and checks that the shipped lesson reports 「还没完成」. Keep them out of the lesson itself.
"""

SOLUTIONS = {
    "04-1": '''\
# 练习 1：参考答案
def f1_score(tp: int, fp: int, fn: int) -> float:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
''',
    "04-2": '''\
# 练习 2：参考答案
import re

MY_CLOSINGS = re.compile(r"心里有(?:数|底)了|妥了|齐活|回聊")


def my_is_goodbye(text: str) -> bool:
    decision = rules_decision(text)
    if decision.rule.startswith(("request:", "mention:")) and not decision.unclear:
        return False  # a question, a new request or a mention: keep talking
    return decision.ends or MY_CLOSINGS.search(text) is not None
''',
}
