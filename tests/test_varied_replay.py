"""Varied replay (LLM_REPLAY_VARIED=1): fresh well-formed answers over real HTTP, and lessons
that run to the end under it with their reference solutions passing.

VARIED_LESSONS is every lesson (a new one joins the day it lands); run some of them with
    python -m pytest tests/test_varied_replay.py -k "01_first_call or 02_multi_turn"
and add a notebook that is not a lesson with LLM_VARIED_LESSONS=name1,name2.
"""
from __future__ import annotations

import json
import os

import pytest
from openai import OpenAI

import helpers
from helpers.replay import current_server
from helpers.replay.varied import VariedResponder
from helpers.tokens import count_message_tokens, count_tokens
from helpers.replay.rebuild import lesson_notebooks
from lesson_run import check_cells, run_lesson, stdout_of

VARIED_LESSONS = [p.stem for p in lesson_notebooks()] + [
    name.strip() for name in os.environ.get("LLM_VARIED_LESSONS", "").split(",") if name.strip()]


@pytest.fixture
def varied():
    os.environ.update(LLM_REPLAY_VARIED="1", LLM_REPLAY_VARIED_SEED="7")
    settings = helpers.setup("varied_test")
    try:
        yield settings
    finally:
        for name in ("LLM_REPLAY_VARIED", "LLM_REPLAY_VARIED_SEED"):
            os.environ.pop(name, None)
        helpers.setup()  # unregisters the responder: later tests get the recordings again


def test_registered_only_when_asked(varied):
    assert sum(isinstance(r, VariedResponder) for r in current_server().responders) == 1
    helpers.setup("varied_test")  # a second setup() does not stack responders
    assert sum(isinstance(r, VariedResponder) for r in current_server().responders) == 1
    os.environ.pop("LLM_REPLAY_VARIED")
    helpers.setup()
    assert not any(isinstance(r, VariedResponder) for r in current_server().responders)


def test_native_whole_and_stream_vary_with_recomputed_usage(varied):
    question = [{"role": "user", "content": "A1 跑鞋多少钱？"}]
    replies = [helpers.chat(question) for _ in range(4)] + [helpers.stream_chat(question)]
    assert len({r.text for r in replies}) == len(replies)  # a new text every time
    assert len({len(r.text) for r in replies}) > 1  # and a new length
    for r in replies:
        assert r.finish_reason == "stop" and r.text
        assert r.usage["input_tokens"] == count_message_tokens(question)
        assert r.usage["output_tokens"] == count_tokens(r.text)


def test_compatible_whole_stream_and_max_tokens(varied):
    client = OpenAI(base_url=varied.compatible_url, api_key="not-needed")
    messages = [{"role": "user", "content": "你好"}]
    whole = client.chat.completions.create(model="qwen-plus", messages=messages)
    assert whole.choices[0].message.content
    assert whole.usage.completion_tokens == count_tokens(whole.choices[0].message.content)
    chunks = list(client.chat.completions.create(model="qwen-plus", messages=messages,
                                                 stream=True,
                                                 stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].usage.completion_tokens == count_tokens(text)
    cut = helpers.chat("请详细介绍一下 A1", max_tokens=2)
    assert cut.finish_reason == "length" and cut.usage["output_tokens"] <= 2


def test_json_mode_gives_valid_json_with_the_prompt_keys(varied):
    prompt = '只输出 JSON：{"product": "…", "size": 42, "quantity": 1}'
    for _ in range(5):
        reply = helpers.chat(prompt, response_format={"type": "json_object"})
        data = json.loads(reply.text)
        assert isinstance(data, dict) and set(data) <= {"product", "size", "quantity"}
        assert all(isinstance(data[k], int) for k in ("size", "quantity") if k in data)


@pytest.mark.parametrize("lesson", VARIED_LESSONS)
def test_lesson_runs_under_varied_replay_with_solutions(lesson):
    nb = run_lesson(lesson, solutions=True, env={"LLM_REPLAY_VARIED": "1"})  # raises on error
    printed = check_cells(nb)
    assert all(text.startswith("✓") for text in printed.values()), printed
    everything = "".join(stdout_of(c) + json.dumps(c.get("outputs", []), ensure_ascii=False)
                         for c in nb.cells if c.cell_type == "code")
    if "evals.Report(" in "".join(c.source for c in nb.cells):
        assert helpers.evals.LABELS["varied"] in everything  # tables say what their numbers are
        assert helpers.evals.ILLUSTRATIVE not in everything
