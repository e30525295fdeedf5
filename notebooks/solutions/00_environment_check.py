"""Reference solutions of lesson 00's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass.
"""

SOLUTIONS = {
    "00-1": '''\
# 练习 1：参考答案
line = "LLM_MODE=replay"
''',
    "00-2": '''\
# 练习 2：参考答案
answer = 2
''',
}
