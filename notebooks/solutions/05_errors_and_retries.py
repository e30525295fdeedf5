"""Reference solutions of lesson 05's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass,
and checks that the shipped lesson reports 「还没完成」. Keep them out of the lesson itself.
"""

SOLUTIONS = {
    "05-1": '''\
# 练习 1：参考答案
def next_step(err: helpers.LLMError) -> str:
    if err.retryable:
        return "稍后重试"
    if err.kind in ("content_filter", "bad_request", "bad_input"):
        return "改输入"
    return "改配置"
''',
    "05-2": '''\
# 练习 2：参考答案
def answer_text(question: str) -> str:
    try:
        return helpers.stream_chat(question).text
    except helpers.LLMError as err:
        if err.partial_text:
            return err.partial_text + "……[回答中断]"
        raise
''',
}
