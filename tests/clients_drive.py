"""Run by tests/test_clients.py with .venv-clients/bin/python: one client library, at its
defaults, against the replay server of the test process (addresses and keys from the
environment setup() wrote). Prints one JSON line per scenario:

    {"scenario": "whole" | "stream" | "miss" | "auth", "text": ..., "error_type": ...,
     "error": ..., "seconds": ...}

Not a test module (no test_ prefix); it imports only the client library it drives.
"""
from __future__ import annotations

import json
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")
QUESTION = "我想买一双鞋，有什么建议吗？请20字以内回答我"
MISS = "回放里没有录制过的问题：火星上能买到鞋吗？"
AUTH = "鉴权测试：这个请求会收到 401"
COMPAT = os.environ["OPENAI_BASE_URL"]
KEY = os.environ["OPENAI_API_KEY"]


def openai_sdk():
    from openai import OpenAI

    client = OpenAI()

    def whole(q):
        return client.chat.completions.create(model="qwen-plus", messages=[
            {"role": "user", "content": q}]).choices[0].message.content

    def stream(q):
        return "".join((c.choices[0].delta.content or "") if c.choices else "" for c in
                       client.chat.completions.create(model="qwen-plus", stream=True, messages=[
                           {"role": "user", "content": q}]))
    return whole, stream


def langchain_openai():
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="qwen-plus", base_url=COMPAT, api_key=KEY)
    return (lambda q: llm.invoke(q).content,
            lambda q: "".join(chunk.content for chunk in llm.stream(q)))


def chat_tongyi():
    from langchain_community.chat_models import ChatTongyi

    llm = ChatTongyi(model="qwen-plus")  # dashscope reads DASHSCOPE_HTTP_BASE_URL at import
    return (lambda q: llm.invoke(q).content,
            lambda q: "".join(chunk.content for chunk in llm.stream(q)))


def litellm_client():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no 8 s fetch offline
    import litellm

    def whole(q):
        return litellm.completion(model="dashscope/qwen-plus", api_base=COMPAT, api_key=KEY,
                                  messages=[{"role": "user", "content": q}]).choices[0].message.content

    def stream(q):
        return "".join((c.choices[0].delta.content or "") for c in litellm.completion(
            model="dashscope/qwen-plus", api_base=COMPAT, api_key=KEY, stream=True,
            messages=[{"role": "user", "content": q}]) if c.choices)
    return whole, stream


def llama_index():
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(model="qwen-plus", api_base=COMPAT, api_key=KEY, is_chat_model=True)

    def whole(q):
        return llm.chat([ChatMessage(role="user", content=q)]).message.content

    def stream(q):
        return "".join(r.delta or "" for r in llm.stream_chat([ChatMessage(role="user", content=q)]))
    return whole, stream


CLIENTS = {"openai": openai_sdk, "langchain-openai": langchain_openai, "ChatTongyi": chat_tongyi,
           "litellm": litellm_client, "llama-index-openai-like": llama_index}


def main(name: str) -> None:
    whole, stream = CLIENTS[name]()
    for scenario, call, question in (("whole", whole, QUESTION), ("stream", stream, QUESTION),
                                     ("miss", whole, MISS), ("miss-stream", stream, MISS),
                                     ("auth", whole, AUTH)):
        started = time.monotonic()
        result = {"scenario": scenario}
        try:
            result["text"] = call(question)
        except Exception as exc:  # noqa: BLE001 - the test judges what surfaced
            result["error_type"] = f"{type(exc).__module__}.{type(exc).__name__}"
            result["error"] = str(exc)
        result["seconds"] = round(time.monotonic() - started, 3)
        print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
