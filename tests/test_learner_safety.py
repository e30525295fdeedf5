"""Clumsy and hostile input on the learner's side (issue 10): a malformed or oddly encoded
.env, a key echoed back by the server, a .env in a parent folder, strict conversation files,
atomic saves, a stream that stalls after its headers. Each test reproduces one breakage."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import helpers
from helpers import envfile
from helpers.config import ConfigError, read_env_file, setup
from helpers.conversation import Conversation
from helpers.errors import LLMError, error_from_response
from helpers.redaction import SECRET_RUN, forget_secrets, remember_secret

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-" + "0123456789abcdef" * 2  # made up, the shape of a real key (built: the kit's
TOKEN = "abcdefgh" + "12345678"  # own secret scanner would flag it written out whole)


def leaks(text: str, secret: str = KEY) -> list[str]:
    """Every run of SECRET_RUN characters of ``secret`` that ``text`` still contains."""
    return [secret[i:i + SECRET_RUN] for i in range(len(secret) - SECRET_RUN + 1)
            if secret[i:i + SECRET_RUN] in text]


# --- item 1: a malformed .env line never shows the key ------------------------------------
MALFORMED = {
    "space instead of =": f"DASHSCOPE_API_KEY {KEY}",
    "full-width ＝": f"DASHSCOPE_API_KEY＝{KEY}",
    "colon": f"DASHSCOPE_API_KEY:{KEY}",
    "full-width colon": f"DASHSCOPE_API_KEY：{KEY}",
    "unclosed quote": f'DASHSCOPE_API_KEY="{KEY}',
    "export without =": f"export DASHSCOPE_API_KEY {KEY}",
    "only the key": KEY,
}


@pytest.mark.parametrize("line", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_line_is_reported_by_file_and_line_with_the_value_masked(tmp_path, line):
    env = tmp_path / ".env"
    env.write_text(f"# my settings\nLLM_MODE=replay\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_env_file(env)
    message = str(info.value)
    assert f"{env} 第 3 行无法解析" in message and "sk-01…cdef" in message
    assert not leaks(message) and line not in message


def test_setup_and_the_doctor_report_a_malformed_line_without_the_key(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text(f"DASHSCOPE_API_KEY {KEY}\n", encoding="utf-8")
    monkeypatch.setenv("LLM_ENV_FILE", str(env))
    with pytest.raises(ConfigError) as info:
        setup()
    assert "第 1 行" in str(info.value) and not leaks(str(info.value))
    report = tmp_path / "report.txt"
    out = subprocess.run([sys.executable, "-m", "helpers.doctor", str(report)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "LLM_ENV_FILE": str(env)})
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    text = report.read_text(encoding="utf-8")  # written although setup() raised
    assert "第 1 行无法解析" in text and "✗ 配置" in text and "Python 版本" in text
    assert not leaks(text + out.stdout + out.stderr)


# --- item 2: a key echoed back by the service is hidden in every error text ----------------
@pytest.mark.parametrize("status, code", [(400, "InvalidParameter"), (404, "ModelNotFound"),
                                          (404, "ReplayMiss"), (418, "Whatever"), (None, None)])
def test_server_text_quoting_a_key_is_redacted(status, code):
    err = error_from_response(status, code, f"bad api_key {KEY}; bearer {TOKEN}")
    for text in (str(err), err.explain(), err.explain(verbose=True), repr(err)):
        assert not leaks(text) and TOKEN not in text


def test_a_remembered_key_of_any_shape_is_redacted_in_error_text():
    odd = "ZXCVbnm1234567890qwertyuiop"  # not sk-shaped: only remembering it can hide it
    remember_secret(odd)
    try:
        err = helpers.errors.error_from_exception(RuntimeError(f"upstream said: key {odd[2:20]}"))
        assert not leaks(str(err) + err.explain(verbose=True), odd)
    finally:
        forget_secrets()


# --- item 11: which .env, and how it is read -----------------------------------------------
def test_a_env_above_the_kit_never_beats_the_kits_own(tmp_path, monkeypatch):
    home, kit = tmp_path, tmp_path / "kit"
    (kit / "notebooks").mkdir(parents=True)
    (home / ".env").write_text("LLM_MODE=live\n", encoding="utf-8")
    monkeypatch.setattr(envfile, "KIT_ROOT", kit)
    monkeypatch.delenv("LLM_ENV_FILE")
    for where in (kit / "notebooks", kit, home):
        monkeypatch.chdir(where)
        assert envfile.find_env_file() is None, where  # ~/.env is not the kit's
    (kit / ".env").write_text("LLM_MODE=replay\n", encoding="utf-8")
    for where in (kit / "notebooks", kit, home):
        monkeypatch.chdir(where)
        assert envfile.find_env_file() == kit / ".env", where
    (kit / "notebooks" / ".env").write_text("LLM_MODEL=qwen-max\n", encoding="utf-8")
    monkeypatch.chdir(kit / "notebooks")
    assert envfile.find_env_file() == kit / "notebooks" / ".env"  # the folder you work in


def test_a_comment_right_after_the_value_is_not_part_of_the_key(tmp_path):
    env = tmp_path / ".env"
    env.write_text(f"DASHSCOPE_API_KEY={KEY}#my work key\nLLM_MODEL='qwen#plus'\n",
                   encoding="utf-8")
    assert read_env_file(env) == {"DASHSCOPE_API_KEY": KEY, "LLM_MODEL": "qwen#plus"}


@pytest.mark.parametrize("encoding, words", [("utf-16", "UTF-16"), ("gbk", "UTF-8")])
def test_a_env_that_is_not_utf8_gives_a_chinese_config_error(tmp_path, encoding, words):
    env = tmp_path / ".env"
    env.write_bytes(f"LLM_MODEL=qwen-plus  # 模型\n".encode(encoding))
    with pytest.raises(ConfigError, match=words) as info:
        read_env_file(env)
    assert "另存为" in str(info.value)


@pytest.mark.parametrize("value", ["abc", "0", "-5", "inf", "nan"])
def test_a_bad_timeout_gives_a_chinese_config_error(monkeypatch, value):
    monkeypatch.setenv("LLM_TIMEOUT", value)
    with pytest.raises(ConfigError, match="LLM_TIMEOUT"):
        setup()
    monkeypatch.setenv("LLM_TIMEOUT", "12.5")
    assert setup().timeout == 12.5


# --- item 11: conversation files ------------------------------------------------------------
GOOD = {"version": 1, "system": None, "budget_tokens": None,
        "turns": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "您好"}]}


@pytest.mark.parametrize("data", [
    {**GOOD, "turns": [GOOD["turns"][0], {**GOOD["turns"][1], "partial": "false"}]},
    {**GOOD, "turns": [{"content": "你好"}]},
    {**GOOD, "turns": [{"role": "user", "content": 5}]},
    {**GOOD, "turns": ["你好"]},
    {**GOOD, "turns": {"role": "user"}},
    {**GOOD, "system": 5},
    [GOOD],
    "你好",
], ids=["partial as text", "no role", "content a number", "turn a string", "turns a dict",
        "system a number", "a list", "a string"])
def test_conversation_load_is_strict_with_chinese_errors(tmp_path, data):
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError) as info:
        Conversation.load(path)
    assert type(info.value) is ValueError and "对话文件" in str(info.value)


def test_conversation_load_of_broken_json_or_bytes_is_a_chinese_error(tmp_path):
    path = tmp_path / "chat.json"
    path.write_text('{"turns": [', encoding="utf-8")
    with pytest.raises(ValueError, match="不是有效的 JSON"):
        Conversation.load(path)
    path.write_bytes("你好".encode("gbk"))
    with pytest.raises(ValueError, match="UTF-8"):
        Conversation.load(path)


def test_save_is_all_or_nothing_and_never_overwrites_unasked(tmp_path, monkeypatch):
    conv = Conversation.from_dict(GOOD)
    path = tmp_path / "chat.json"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(FileExistsError):
        conv.save(path, overwrite=False)
    assert path.read_text(encoding="utf-8") == "old"

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        conv.save(path)
    assert path.read_text(encoding="utf-8") == "old" and os.listdir(tmp_path) == ["chat.json"]
    monkeypatch.undo()
    conv.save(path)
    assert len(Conversation.load(path)) == 2 and os.listdir(tmp_path) == ["chat.json"]


def test_save_hides_a_key_the_learner_pasted_into_the_chat(tmp_path):
    conv = Conversation()
    conv.add_user(f"我的 Key 是 {KEY}，为什么不能用？")
    for name in ("chat.json", "chat.md"):
        conv.save(tmp_path / name)
        assert not leaks((tmp_path / name).read_text(encoding="utf-8"))


# --- item 11: a stream that stalls after its headers is a timeout, not a network failure ----
def test_a_stream_that_stalls_after_its_headers_is_reported_as_a_timeout(monkeypatch):
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            held.append(conn)  # headers sent, then nothing

    threading.Thread(target=serve, daemon=True).start()
    monkeypatch.setenv("LLM_TIMEOUT", "0.3")
    setup()
    import dashscope

    monkeypatch.setattr(dashscope, "base_http_api_url",
                        f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1")
    started = time.monotonic()
    try:
        with pytest.raises(LLMError) as info:
            helpers.stream_chat("你好")
    finally:
        listener.close()
        for conn in held:
            conn.close()
    assert info.value.kind == "timeout" and "请求超时" in str(info.value)
    assert info.value.attempts == 3 and time.monotonic() - started < 30


# --- item 10: the suite never reads the learner's .env, ~/.env or OS key ---------------------
def test_lesson_00_stays_offline_with_a_hostile_env_in_the_kit_and_in_home(tmp_path):
    """A learner's .env (live mode, a key) in the kit folder and in $HOME: lesson 00 run the way
    the suite runs it must stay in replay mode and connect to nothing but 127.0.0.1."""
    import nbformat
    from nbclient import NotebookClient

    hostile = f"LLM_MODE=live\nDASHSCOPE_API_KEY={KEY}\n"
    (tmp_path / ".env").write_text(hostile, encoding="utf-8")
    kit_env = ROOT / ".env"
    if kit_env.exists():
        pytest.skip("the kit folder has a real .env: not touching it")
    trap = socket.create_server(("127.0.0.1", 0))  # every outside connection goes here
    caught = []
    threading.Thread(target=lambda: caught.append(trap.accept()), daemon=True).start()
    proxy = f"http://127.0.0.1:{trap.getsockname()[1]}"
    saved = dict(os.environ)
    os.environ.update(HOME=str(tmp_path), HTTP_PROXY=proxy, HTTPS_PROXY=proxy, ALL_PROXY=proxy,
                      NO_PROXY="127.0.0.1,localhost")
    kit_env.write_text(hostile, encoding="utf-8")
    try:
        nb = nbformat.read(ROOT / "notebooks" / "00_environment_check.ipynb", as_version=4)
        NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=False,
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    finally:
        kit_env.unlink()
        os.environ.clear()
        os.environ.update(saved)
        trap.close()
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert not caught, "a cell connected outside 127.0.0.1"
    assert "在线模式" not in text and text.count("回放模式") >= 2 and not leaks(text)
