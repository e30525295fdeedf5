"""Streams end to end: interrupts, odd chunks, and stream == non-stream for every client.

Recordings are authored by this module into a temp folder (no lesson's recordings are
involved), then replayed through the real SDKs on loopback at speed 0.
"""
from __future__ import annotations


import dashscope
import pytest
from openai import OpenAI

import helpers
from authoring import authored_recordings
from helpers.display import print_stream
from helpers.replay import wire

QUESTION = "流式测试：请分几点介绍一下怎样挑选跑步鞋。"
ANSWER = ("挑选跑步鞋可以看三点：第一，脚型和足弓，扁平足选支撑型；第二，中底缓震，"
          "体重大或跑量大要缓震好；第三，一定要试穿，鞋头留一指宽。")
MESSAGES = [{"role": "user", "content": QUESTION}]
MODEL = helpers.DEFAULT_MODEL


def legacy_stream(**params):
    return dashscope.Generation.call(model=MODEL, messages=MESSAGES, result_format="message",
                                     stream=True, **params)


def author_every_shape() -> None:
    helpers.chat(MESSAGES)  # native, not streamed
    helpers.stream_chat(MESSAGES)  # native stream: also the legacy and 2.0 clients' wire body
    client = OpenAI()
    client.chat.completions.create(model=MODEL, messages=MESSAGES)
    list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """Author this module's answers into a temp folder, then switch to replaying them."""
    spec = f"- user: {QUESTION}\n  reply: {ANSWER}\n"
    with authored_recordings(tmp_path_factory.mktemp("streaming_recordings"), spec,
                             author_every_shape, topic="streaming_test") as server:
        assert len(server.store) == 4
        yield server


def full_text() -> str:
    return helpers.chat(MESSAGES).text


# --- interrupts -------------------------------------------------------------------------------
def stop_after(n: int, seen: list[str]):
    def on_text(piece: str) -> None:
        seen.append(piece)
        if len(seen) == n:
            raise KeyboardInterrupt

    return on_text


def test_interrupt_keeps_the_partial_text_and_marks_it(replay):
    seen: list[str] = []
    reply = helpers.stream_chat(MESSAGES, on_text=stop_after(3, seen))
    full = full_text()
    assert full == ANSWER
    assert reply.partial is True
    assert reply.finish_reason == "interrupted"
    assert reply.text == "".join(seen) and len(seen) == 3
    assert reply.text and full.startswith(reply.text) and reply.text != full  # a proper prefix
    assert 0 < reply.usage["output_tokens"] < helpers.count_tokens(full)
    assert reply.first_token_seconds is not None


def test_the_next_stream_after_an_interrupt_is_complete(replay):
    helpers.stream_chat(MESSAGES, on_text=stop_after(2, []))
    reply = helpers.stream_chat(MESSAGES)
    assert (reply.text, reply.finish_reason, reply.partial) == (ANSWER, "stop", False)


def test_print_stream_shows_the_interrupt(replay):
    written: list[str] = []
    pieces = 0

    def write(text: str) -> None:
        nonlocal pieces
        written.append(text)
        pieces += 1
        if pieces == 4:  # the 4th piece of the answer: like pressing Ctrl-C while it prints
            raise KeyboardInterrupt

    reply = print_stream(MESSAGES, write=write)
    out = "".join(written)
    assert reply.partial and out.startswith(reply.text + "\n……[已中断]\n")
    assert "已中断" in out.splitlines()[-1]


# --- odd chunks -------------------------------------------------------------------------------
def native_event(n: int, output: dict, output_tokens: int) -> dict:
    return {"id": str(n), "event": "result", "comment": "HTTP_STATUS/200",
            "data": {"output": output, "usage": wire.native_usage(9, output_tokens),
                     "request_id": "odd-chunks"}}


def choice(content, finish: str = "null") -> dict:
    message = {"role": "assistant"} if content is ... else {"role": "assistant", "content": content}
    return {"choices": [{"message": message, "finish_reason": finish}]}


def test_none_and_empty_deltas_and_usage_only_chunks_do_not_break_stream_chat(replay):
    outputs = [
        (choice("挑选"), 1),
        (choice(None), 1),  # a None delta
        (choice(""), 1),  # an empty delta
        (choice(...), 1),  # a message without content
        ({"choices": []}, 1),  # a usage-only chunk
        ({}, 1),  # no choices at all
        (choice("跑步鞋"), 3),
        (choice("", "stop"), 3),
        ({"choices": []}, 3),  # usage-only, after the closing frame
    ]
    events = [native_event(n, out, tokens) for n, (out, tokens) in enumerate(outputs, 1)]
    replay.push_fault({"status": 200, "events": events,
                       "headers": {"Content-Type": wire.SSE_CONTENT_TYPE}})
    seen: list[str] = []
    reply = helpers.stream_chat(MESSAGES, on_text=seen.append)
    assert seen == ["挑选", "跑步鞋"]
    assert (reply.text, reply.finish_reason, reply.partial) == ("挑选跑步鞋", "stop", False)
    assert reply.usage["output_tokens"] == 3 and reply.request_id == "odd-chunks"


# --- stream joined == non-stream, per client ---------------------------------------------------
def join_legacy_incremental() -> str:
    return "".join(r.output.choices[0].message.content or "" for r in legacy_stream(incremental_output=True))


def join_legacy_snapshots() -> str:
    # incremental_output=False: the legacy SDK merges deltas into snapshots (wire ref §1.6).
    snapshots = [r.output.choices[0].message.content for r in legacy_stream(incremental_output=False)]
    assert all(b.startswith(a) for a, b in zip(snapshots, snapshots[1:])), "snapshots only grow"
    return snapshots[-1]


def join_client_v2() -> str:
    stream = dashscope.Client().chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    return "".join(chunk.delta.content or "" for chunk in stream if chunk.delta is not None)


def join_openai() -> str:
    stream = OpenAI().chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def non_stream_openai() -> str:
    return OpenAI().chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content


@pytest.mark.parametrize("join, non_stream", [
    (join_legacy_incremental, full_text),
    (join_legacy_snapshots, full_text),
    (join_client_v2, full_text),
    (join_openai, non_stream_openai),
    (lambda: helpers.stream_chat(MESSAGES).text, full_text),
], ids=["legacy", "legacy-snapshots", "client-2.0", "openai", "stream_chat"])
def test_joining_the_stream_equals_the_non_stream_text(replay, join, non_stream):
    joined = join()
    assert joined == non_stream() == ANSWER


def test_legacy_stream_chunks_carry_null_then_stop(replay):
    reasons = [r.output.choices[0].finish_reason for r in legacy_stream(incremental_output=True)]
    assert len(reasons) > 3
    assert set(reasons[:-1]) == {"null"} and reasons[-1] == "stop"
