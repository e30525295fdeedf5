"""Reference solutions of lesson 01's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass.
"""

SOLUTIONS = {
    "01-1": '''\
# 练习 1：参考答案
def short_answer(question: str) -> helpers.Reply:
    return helpers.chat(question, max_tokens=20)
''',
    "01-2": '''\
# 练习 2：参考答案
def is_complete(reply: helpers.Reply) -> bool:
    return reply.finish_reason == "stop"
''',
}
