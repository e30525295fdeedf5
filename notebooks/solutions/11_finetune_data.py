"""Reference solutions of lesson 11's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass.
"""

SOLUTIONS = {
    "11-1": '''\
# 练习 1：参考答案
def has_real_answer(row):
    answers = [m["content"] for m in row["messages"] if m["role"] == "assistant"]
    return bool(answers) and all(len(a) >= 8 for a in answers)
''',
    "11-2": '''\
# 练习 2：参考答案
fixed = {"messages": [{"role": "user", "content": "保修多久"},
                      {"role": "assistant", "content": "一年"}]}
''',
}
