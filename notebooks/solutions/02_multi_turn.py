"""Reference solutions of lesson 02's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass.
"""

SOLUTIONS = {
    "02-1": '''\
# 练习 1：参考答案
def build_messages(system: str, history: list[tuple[str, str]],
                   question: str) -> list[dict]:
    result = [{"role": "system", "content": system}]
    for asked, answered in history:
        result.append({"role": "user", "content": asked})
        result.append({"role": "assistant", "content": answered})
    result.append({"role": "user", "content": question})
    return result
''',
    "02-2": '''\
# 练习 2：参考答案
def trim(messages: list[dict], budget: int) -> list[dict]:
    head, turns = messages[:1], messages[1:]
    while len(turns) > 1 and count_message_tokens(head + turns) > budget:
        turns = turns[2:]  # drop the oldest user/assistant pair
    return head + turns
''',
}
