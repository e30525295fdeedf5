"""Reference solutions of lesson 04b's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass,
and checks that the shipped lesson reports 「还没完成」. Keep them out of the lesson itself.
"""

SOLUTIONS = {
    "04b-1": '''\
# 练习 1：参考答案
def cheapest_good_enough(results: dict, min_f1: float):
    ok = [name for name, m in results.items() if m["f1"] >= min_f1]
    if not ok:
        return None
    return min(ok, key=lambda name: (results[name]["calls"], -results[name]["f1"]))
''',
}
