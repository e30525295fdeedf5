"""Bad input is refused before anything is sent, with one short Chinese message.

Covers what a learner typically gets wrong: an empty or whitespace question, content that is
not a string, a conversation longer than the model's context window, a misspelt model name, a
malformed .env line, a missing or damaged recording file.
"""
from __future__ import annotations

import json
import re

import pytest

import helpers
import helpers.replay as replay_pkg
from helpers.config import ConfigError, read_env_file
from helpers.errors import LLMError
from helpers.replay import current_server
from helpers.replay.store import FORMAT, RecordingError, RecordingStore, load_file, save_file

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def server():
    helpers.setup()
    return current_server()


def assert_refused_before_sending(server, call, *words: str) -> LLMError:
    before = server.log.requests
    with pytest.raises(LLMError) as info:
        call()
    err = info.value
    text = str(err)
    assert err.kind == "bad_input" and not err.retryable
    assert text.startswith("✗ 输入有误：") and CJK.search(text) and "Traceback" not in text
    assert len(text) < 400, "short, please"
    for word in words:
        assert word in text, text
    assert server.log.requests == before, "nothing may reach the server"
    return err


# --- messages ---------------------------------------------------------------------------------
@pytest.mark.parametrize("question", ["", "   ", "\n\t　"])  # the last one has a full-width space
@pytest.mark.parametrize("fn", ["chat", "stream_chat"])
def test_empty_or_whitespace_question(server, fn, question):
    assert_refused_before_sending(server, lambda: getattr(helpers, fn)(question), "空的")


def test_empty_message_inside_a_history(server):
    messages = [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好！"},
                {"role": "user", "content": "  "}]
    assert_refused_before_sending(server, lambda: helpers.chat(messages), "第 3 条")


@pytest.mark.parametrize("content, type_name", [(123, "int"), (None, "NoneType"),
                                                ([{"type": "text", "text": "你好"}], "list")])
def test_non_string_content(server, content, type_name):
    messages = [{"role": "user", "content": content}]
    assert_refused_before_sending(server, lambda: helpers.chat(messages), "字符串", type_name)


@pytest.mark.parametrize("messages", [None, [], 42, [{"content": "你好"}], [{"role": "robot", "content": "你好"}],
                                      [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "嗯"}]])
def test_malformed_message_lists(server, messages):
    assert_refused_before_sending(server, lambda: helpers.chat(messages))


def test_longer_than_the_max_input(server):
    # The check uses the catalogue's max input, not the context: for qwen-max 30,720 of 32,768.
    # A request in between would pass a context check and fail on the server.
    from helpers.models import CATALOGUE

    qwen_max = CATALOGUE["qwen-max"]
    assert qwen_max.max_input < qwen_max.context
    size = (qwen_max.max_input + qwen_max.context) // 2  # "你好" is one token, + 8 for ChatML
    err = assert_refused_before_sending(
        server, lambda: helpers.chat("你好" * size, model="qwen-max"),
        "最大输入", str(qwen_max.max_input), "qwen-max")
    assert "02 课" in str(err)  # points at the lesson that teaches token budgets


def test_max_input_limit_is_exact(server, monkeypatch):
    """One token under the catalogue's limit is sent, one over is refused."""
    from helpers import models
    from helpers.tokens import count_message_tokens

    limit = count_message_tokens([{"role": "user", "content": "你好" * 50}])
    monkeypatch.setattr(models, "max_input", lambda name, thinking=False: limit)
    assert_refused_before_sending(server, lambda: helpers.chat("你好" * 51), "最大输入", str(limit))
    with pytest.raises(LLMError) as info:  # not refused locally: it reaches the replay server
        helpers.chat("你好" * 50)
    assert info.value.kind == "not_found" and info.value.code == "ReplayMiss"


def test_stream_is_refused_too_when_too_long(server):
    assert_refused_before_sending(server, lambda: helpers.stream_chat("你好" * 33_000, model="qwen-max"),
                                  "最大输入")


def test_retired_model_is_refused_with_its_replacement(server):
    from helpers.models import CATALOGUE

    for name, model in CATALOGUE.items():
        if model.status_on() == "retired" and model.replacement:
            err = assert_refused_before_sending(server, lambda: helpers.chat("你好", model=name),
                                                name, "下线", f"LLM_MODEL={model.replacement}")
            assert model.replacement in str(err)


@pytest.mark.parametrize("model, suggestion", [("qwen-plsu", "qwen-plus"), ("gpt-4o", None),
                                               ("Qwen-Plus", None)])
def test_unknown_model_name(server, model, suggestion):
    err = assert_refused_before_sending(server, lambda: helpers.chat("你好", model=model), model,
                                        "LLM_EXTRA_MODELS")
    if suggestion:
        assert f"你是不是想用 {suggestion}" in str(err)


def test_dated_snapshot_of_a_known_model_is_accepted():
    from helpers.config import check_model

    assert check_model("qwen-plus-2025-07-28") == "qwen-plus-2025-07-28"


# --- .env -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, line", [
    ("LLM_MODE=replay\nthis line is not valid\n", 2),
    ("# comment\nLLM_MODEL=qwen-plus\nDASHSCOPE_API_KEY = 'sk-unclosed\n", 3),
])
def test_malformed_env_line_names_the_line(tmp_path, text, line):
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_env_file(path)
    message = str(info.value)
    assert str(path) in message and f"第 {line} 行" in message and "NAME=value" in message


def test_setup_refuses_a_malformed_env_file_before_any_request(server, tmp_path, monkeypatch):
    path = tmp_path / ".env"
    path.write_text("LLM_MODE=replay\nLLM_MODEL qwen-plus\n", encoding="utf-8")
    before = server.log.requests
    monkeypatch.setenv("LLM_ENV_FILE", str(path))
    with pytest.raises(ConfigError, match="第 2 行"):
        helpers.setup()
    assert server.log.requests == before


def test_malformed_env_line_after_a_blank_line(tmp_path):
    path = tmp_path / ".env"
    path.write_text("LLM_MODEL=qwen-plus\n\nDASHSCOPE_API_KEY = 'sk-unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="第 3 行"):
        read_env_file(path)


def test_full_width_colon_in_env_is_reported(tmp_path):
    path = tmp_path / ".env"
    path.write_text("LLM_MODE=replay\nDASHSCOPE_API_KEY：sk-abc\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="第 2 行"):
        read_env_file(path)


# --- recordings -------------------------------------------------------------------------------
def _exchange(**changes) -> dict:
    exchange = {"name": "x", "source": "authored",
                "request": {"method": "POST", "path": "/api/v1/services/aigc/text-generation/generation",
                            "stream": False, "body": {"model": "qwen-plus"}},
                "response": {"status": 200, "headers": {}, "body": {"output": {}}}}
    exchange.update(changes)
    return exchange


def test_corrupt_json_names_file_line_and_column(tmp_path):
    path = tmp_path / "05_demo.json"
    save_file(path, [_exchange(), _exchange()])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[5].startswith('  {"name"')  # line 6: the second exchange starts
    lines[5] = lines[5].replace('"source": "authored"', '"source": authored')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RecordingError) as info:
        load_file(path)
    message = str(info.value)
    assert str(path) in message and "第 6 行" in message and "git checkout -- 05_demo.json" in message


def test_invalid_exchange_names_its_line(tmp_path):
    path = tmp_path / "05_demo.json"
    save_file(path, [_exchange(), _exchange(source="typed by hand")])
    with pytest.raises(RecordingError) as info:
        load_file(path)
    assert str(path) in str(info.value) and "第 6 行" in str(info.value) and "第 2 条记录" in str(info.value)


@pytest.mark.parametrize("text", ['{"exchanges": []}', "[]", "\ufeff" + json.dumps({"format": FORMAT})])
def test_not_a_recordings_file(tmp_path, text):
    path = tmp_path / "other.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RecordingError) as info:
        load_file(path)
    assert str(path) in str(info.value)


def test_not_utf8(tmp_path):
    path = tmp_path / "gbk.json"
    path.write_bytes('{"format": "录制"}'.encode("gbk"))
    with pytest.raises(RecordingError, match="UTF-8"):
        load_file(path)


def test_missing_recording_file_is_a_recording_error(tmp_path):
    with pytest.raises(RecordingError) as info:
        load_file(tmp_path / "05_errors_and_retries.json")
    assert "05_errors_and_retries.json" in str(info.value)


def test_missing_recordings_mean_a_replay_miss_in_chinese(server, tmp_path, monkeypatch):
    # A lesson whose recordings file is gone: the request reaches the local server only,
    # which answers 400 ReplayMiss; the helper explains how to get an answer.
    monkeypatch.setenv("LLM_RECORDINGS", str(tmp_path))
    try:
        helpers.setup()
        srv = current_server()
        with pytest.raises(LLMError) as info:
            helpers.chat("这个问题没有录制过")
        assert info.value.kind == "not_found" and info.value.code == "ReplayMiss" and info.value.attempts == 1
        assert "回放" in str(info.value) and "这个问题没有录制过" in str(info.value)
        assert srv.log.requests == 1
    finally:
        monkeypatch.undo()
        helpers.setup()


def test_corrupt_recordings_folder_stops_setup(tmp_path):
    (tmp_path / "05_demo.json").write_text('{"format": "%s",\n "exchanges": [\n  {"name": 1,,}\n ]}\n' % FORMAT,
                                           encoding="utf-8")
    with pytest.raises(RecordingError, match="第 3 行"):
        RecordingStore(tmp_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(replay_pkg, "_server", None)  # a throwaway server; the shared one is put back
        mp.setenv("LLM_RECORDINGS", str(tmp_path))
        with pytest.raises(RecordingError) as info:
            helpers.setup()
        assert "05_demo.json" in str(info.value)
    helpers.setup()


def test_setup_recovers_after_a_corrupt_recordings_folder(tmp_path):
    (tmp_path / "05_demo.json").write_text("{not json", encoding="utf-8")
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(replay_pkg, "_server", None)
            helpers.setup()
            mp.setenv("LLM_RECORDINGS", str(tmp_path))
            with pytest.raises(RecordingError):
                helpers.setup()
            mp.delenv("LLM_RECORDINGS")
            helpers.setup()  # the learner fixed the file (or went back): this must work again
    finally:
        helpers.setup()
