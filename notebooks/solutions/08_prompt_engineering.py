"""Reference solutions of lesson 08's exercises, keyed by exercise id (see 07's file)."""

SOLUTIONS = {
    "08-1": '''\
# 练习 1：参考答案
def few_shot_messages(text: str) -> list[dict]:
    examples = [("A1 有白色吗？", "咨询"), ("我要一双 T2，43 码", "下单"),
                ("鞋子开胶了怎么办", "售后")]
    messages = [{"role": "system",
                 "content": "你是鞋店的意图分类器。只输出一个标签：咨询、下单、售后、闲聊。"}]
    for example, label in examples:
        messages += [{"role": "user", "content": example},
                     {"role": "assistant", "content": label}]
    return messages + [{"role": "user", "content": text}]
''',
    "08-2": '''\
# 练习 2：参考答案
import json


def extract_json(text: str) -> dict:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("回答里没有 JSON 对象")
    return json.loads(text[start:end + 1])
''',
}
