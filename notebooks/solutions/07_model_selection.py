"""Reference solutions of lesson 07's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass,
and checks that the shipped lesson reports 「还没完成」. Keep them out of the lesson itself.
"""

SOLUTIONS = {
    "07-1": '''\
# 练习 1：参考答案
def pick_model(candidates: list[dict], bar: float) -> str | None:
    ok = [c for c in candidates if c["accuracy"] >= bar]
    return min(ok, key=lambda c: c["cost"])["name"] if ok else None
''',
    "07-2": '''\
# 练习 2：参考答案
my_item = {"id": "math-09", "category": "多步计算",
           "question": "不是会员，买一双 T2 和两双羊毛袜 W6，一共多少钱？",
           "grader": {"type": "numeric", "gold": 677}}
''',
}
