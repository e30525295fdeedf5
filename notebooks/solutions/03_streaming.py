"""Reference solutions of lesson 03's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass.
"""

SOLUTIONS = {
    "03-1": '''\
# 练习 1：参考答案
def stream_text(responses) -> str:
    text = ""
    for response in responses:
        piece = response.output.choices[0].message.content
        if piece:  # skips None and ""
            text += piece
    return text
''',
    "03-2": '''\
# 练习 2：参考答案
def new_parts(snapshots: list[str]) -> list[str]:
    parts, previous = [], ""
    for snapshot in snapshots:
        parts.append(snapshot[len(previous):])
        previous = snapshot
    return parts
''',
}
