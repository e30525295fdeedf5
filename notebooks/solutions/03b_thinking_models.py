"""Reference solutions of lesson 03b's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass,
and checks that the shipped lesson reports 「还没完成」. Keep them out of the lesson itself.
"""

SOLUTIONS = {
    "03b-1": '''\
# 练习 1：参考答案
def native_parts(question: str) -> list[tuple[str, str]]:
    responses = dashscope.Generation.call(
        model=settings.model, messages=[{"role": "user", "content": question}],
        result_format="message", stream=True, incremental_output=True,
        enable_thinking=True)
    parts = []
    for r in responses:
        message = r.output.choices[0].message
        if message.get("reasoning_content"):
            parts.append(("思考", message["reasoning_content"]))
        if message.content:
            parts.append(("回答", message.content))
    return parts
''',
    "03b-2": '''\
# 练习 2：参考答案
from openai import OpenAI


def compatible_parts(question: str) -> list[tuple[str, str]]:
    stream = OpenAI().chat.completions.create(
        model=settings.model, messages=[{"role": "user", "content": question}],
        stream=True, extra_body={"enable_thinking": True})
    parts = []
    for chunk in stream:
        delta = chunk.choices[0].delta
        if getattr(delta, "reasoning_content", None):
            parts.append(("思考", delta.reasoning_content))
        if delta.content:
            parts.append(("回答", delta.content))
    return parts
''',
    "03b-3": '''\
# 练习 3：参考答案
from openai import OpenAI


def thought_tokens(question: str, budget: int) -> int:
    stream = OpenAI().chat.completions.create(
        model=settings.model, messages=[{"role": "user", "content": question}],
        stream=True, stream_options={"include_usage": True},
        extra_body={"enable_thinking": True, "thinking_budget": budget})
    usage = [c.usage for c in stream if c.usage][-1]
    return usage.completion_tokens_details.reasoning_tokens
''',
}
