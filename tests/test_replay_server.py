"""The replay server over real HTTP, driven by the three clients a learner might use."""
from __future__ import annotations

import json

import pytest
import requests

import helpers
from authoring import authored_recordings
from helpers.replay import current_server
from helpers.replay.store import load_file

SPEC = """
- user: 介绍一下西湖。
  reply: 西湖位于杭州市西部，三面环山，以苏堤春晓、断桥残雪等十景闻名，是世界文化遗产。
- user: 写两句关于雨的诗。
  reply: |-
    细雨敲窗夜未眠，
    一灯如豆照诗篇。
"""
QUESTION = [{"role": "user", "content": "介绍一下西湖。"}]
ANSWER = "西湖位于杭州市西部，三面环山，以苏堤春晓、断桥残雪等十景闻名，是世界文化遗产。"
NATIVE = "/api/v1/services/aigc/text-generation/generation"


def _author_all() -> None:
    """Send every request shape the tests replay, so author mode records each one."""
    import dashscope
    from openai import OpenAI

    model = helpers.DEFAULT_MODEL
    for stream in (False, True):
        for question in (QUESTION, [{"role": "user", "content": "写两句关于雨的诗。"}]):
            kwargs = {"stream": True, "incremental_output": True} if stream else {}
            result = dashscope.Generation.call(model=model, messages=question,
                                               result_format="message", **kwargs)
            list(result) if stream else result
            list(dashscope.Client().chat.completions.create(model=model, messages=question,
                                                            stream=True)) if stream else \
                dashscope.Client().chat.completions.create(model=model, messages=question)
            response = OpenAI().chat.completions.create(model=model, messages=question,
                                                        stream=stream)
            list(response) if stream else response
    dashscope.TextEmbedding.call(model="text-embedding-v4", input=["西湖", "雨"], dimension=64)
    OpenAI().embeddings.create(model="text-embedding-v4", input=["西湖"], dimensions=64)


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recordings")
    with authored_recordings(folder, SPEC, _author_all):
        yield helpers.config.current(), folder


def test_three_clients_stream_the_same_text_as_the_whole_reply(replay):
    import dashscope
    from openai import OpenAI

    settings, _ = replay
    whole = dashscope.Generation.call(model=settings.model, messages=QUESTION,
                                      result_format="message")
    assert whole.status_code == 200
    assert whole.output.choices[0].message.content == ANSWER

    legacy = dashscope.Generation.call(model=settings.model, messages=QUESTION,
                                       result_format="message", stream=True,
                                       incremental_output=True)
    legacy_text = "".join(r.output.choices[0].message.content for r in legacy)

    client = dashscope.Client()
    v2_text = "".join(c.choices[0].delta.content or "" for c in
                      client.chat.completions.create(model=settings.model, messages=QUESTION,
                                                     stream=True) if c.choices)
    assert client.chat.completions.create(model=settings.model,
                                          messages=QUESTION).choices[0].message.content == ANSWER

    openai_client = OpenAI()
    openai_text = "".join(c.choices[0].delta.content or "" for c in
                          openai_client.chat.completions.create(model=settings.model,
                                                                messages=QUESTION, stream=True)
                          if c.choices)
    assert openai_client.chat.completions.create(
        model=settings.model, messages=QUESTION).choices[0].message.content == ANSWER
    assert legacy_text == v2_text == openai_text == ANSWER


def _post(settings, path, body, stream, **headers):
    if stream and path == NATIVE:
        headers["X-DashScope-SSE"] = "enable"
    return requests.post(settings.host + path, json=body, headers=headers, timeout=5)


def test_native_stream_is_wire_exact(replay):
    settings, _ = replay
    body = {"model": settings.model, "parameters": {"result_format": "message",
                                                    "incremental_output": True},
            "input": {"messages": QUESTION}}
    response = _post(settings, NATIVE, body, stream=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream;charset=UTF-8"
    text = response.content.decode("utf-8")
    frames = text.split("\n\n")
    assert frames[-1] == "", "every frame ends with a blank line"
    frames = frames[:-1]
    outputs, usages = [], []
    for n, frame in enumerate(frames, 1):
        lines = frame.split("\n")
        assert lines[:3] == [f"id:{n}", "event:result", ":HTTP_STATUS/200"]
        assert lines[3].startswith("data:{")
        data = json.loads(lines[3][5:])
        outputs.append(data["output"]["choices"][0])
        usages.append(data["usage"])
        assert data["request_id"] == json.loads(frames[0].split("data:", 1)[1])["request_id"]
    assert all(o["finish_reason"] == "null" for o in outputs[:-1])
    assert outputs[-1] == {"message": {"content": "", "role": "assistant"}, "finish_reason": "stop"}
    output_tokens = [u["output_tokens"] for u in usages]
    assert output_tokens == sorted(output_tokens) and output_tokens[-1] > 0
    assert {u["input_tokens"] for u in usages} == {usages[0]["input_tokens"]}
    assert "".join(o["message"]["content"] for o in outputs) == ANSWER
    assert "[DONE]" not in text


def test_compatible_stream_ends_with_done(replay):
    settings, _ = replay
    body = {"model": settings.model, "messages": QUESTION, "stream": True}
    response = _post(settings, "/compatible-mode/v1/chat/completions", body, stream=True)
    events = response.content.decode("utf-8").split("\n\n")
    assert events[-1] == "" and events[-2] == "data: [DONE]"
    chunks = [json.loads(e[len("data: "):]) for e in events[:-2]]
    assert chunks[0]["choices"][0]["delta"] == {"content": "", "role": "assistant"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == ANSWER


def test_matching_ignores_headers_and_json_formatting(replay):
    settings, _ = replay
    raw = ('{ "input": {"messages": [{"content": "介绍一下西湖。", "role": "user"}]},\n'
           '  "parameters": {"result_format": "message"}, "model": "%s" }' % settings.model)
    response = requests.post(settings.host + NATIVE, data=raw.encode("utf-8"), timeout=5,
                             headers={"Authorization": "Bearer another-key",
                                      "User-Agent": "curl/8.0", "Content-Type": "application/json",
                                      "x-dashscope-sdk-session-id": "abc"})
    assert response.status_code == 200
    assert response.json()["output"]["choices"][0]["message"]["content"] == ANSWER


def test_a_miss_is_a_dashscope_error_that_says_how_to_go_live(replay):
    import dashscope
    from dashscope.v2.errors import DashScopeError

    settings, _ = replay
    question = [{"role": "user", "content": "这个问题没有录制过"}]
    legacy = dashscope.Generation.call(model=settings.model, messages=question,
                                       result_format="message")
    assert legacy.status_code >= 400 and legacy.code == "ReplayMiss"
    assert "DASHSCOPE_API_KEY" in legacy.message and "live" in legacy.message
    assert "这个问题没有录制过" in legacy.message
    with pytest.raises(DashScopeError) as raised:
        dashscope.Client(max_retries=0).chat.completions.create(model=settings.model,
                                                                messages=question, stream=True)
    assert "DASHSCOPE_API_KEY" in str(raised.value)
    compat = _post(settings, "/compatible-mode/v1/chat/completions",
                   {"model": settings.model, "messages": question}, stream=False)
    assert compat.status_code == 400  # issue 17: 404 means ModelNotFound and ChatTongyi retries it
    assert compat.json()["error"]["code"] == "replaymiss"
    with pytest.raises(helpers.LLMError) as err:
        helpers.chat(question)
    assert err.value.kind == "not_found"


def test_embeddings_native_and_compatible(replay):
    import dashscope
    from openai import OpenAI

    native = dashscope.TextEmbedding.call(model="text-embedding-v4", input=["西湖", "雨"],
                                          dimension=64)
    assert native.status_code == 200
    vectors = native.output["embeddings"]
    assert [v["text_index"] for v in vectors] == [0, 1] and len(vectors[0]["embedding"]) == 64
    compat = OpenAI().embeddings.create(model="text-embedding-v4", input=["西湖"], dimensions=64)
    assert compat.data[0].embedding == vectors[0]["embedding"]


def test_recordings_are_readable_authored_and_hold_no_secrets(replay):
    _, folder = replay
    text = (folder / "t.json").read_text(encoding="utf-8")
    assert "介绍一下西湖" in text  # Chinese unescaped
    assert "authorization" not in text.lower() and "bearer" not in text.lower()
    exchanges = load_file(folder / "t.json")
    assert exchanges and {e["source"] for e in exchanges} == {"authored"}
    for e in exchanges:
        assert set(e["request"]) == {"method", "path", "stream", "body"}


def test_the_server_thread_never_prints(replay, capfd):
    settings, _ = replay
    _post(settings, NATIVE, {"model": "x", "input": {"messages": QUESTION}}, stream=False)
    requests.post(settings.host + NATIVE, data=b"{not json", timeout=5)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert current_server().log.errors == []


def test_identical_requests_are_answered_in_turn(tmp_path):
    authored = []
    send = lambda: authored.extend(helpers.chat("抛一次硬币").text for _ in range(2))  # noqa: E731
    with authored_recordings(tmp_path, "- user: 抛一次硬币\n  replies: [正面。, 反面。]\n", send):
        replayed = [helpers.chat("抛一次硬币").text for _ in range(3)]
    assert authored == ["正面。", "反面。"]
    assert replayed == ["正面。", "反面。", "正面。"]


def test_another_recordings_folder_keeps_the_shared_server(replay, tmp_path):
    # Issue 10.10: authoring into a folder of its own used to stop the server this module's
    # fixture uses (ECONNREFUSED for every later test). One server per process now: the
    # folder is swapped, the port stays, and the module's recordings come back afterwards.
    settings, _ = replay
    port = current_server().port
    with authored_recordings(tmp_path, "- user: 抛一次硬币\n  reply: 正面。\n",
                             lambda: helpers.chat("抛一次硬币")):
        assert current_server().port == port
    assert current_server().port == port
    reply = _post(settings, NATIVE, {"model": settings.model, "input": {"messages": QUESTION},
                                     "parameters": {"result_format": "message"}}, stream=False)
    assert reply.status_code == 200
    assert reply.json()["output"]["choices"][0]["message"]["content"] == ANSWER
