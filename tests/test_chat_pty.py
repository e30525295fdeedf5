"""The console chat (`python -m helpers.project1`) driven through a real pseudo-terminal.

Replay mode, no pacing, no key, no .env: every answer comes from
notebooks/recordings/06_project1_chat.json. Timeouts are generous; nothing here measures time.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

if sys.platform == "win32":  # pexpect.spawn needs a POSIX pseudo-terminal
    pytest.skip("pseudo-terminal tests need POSIX", allow_module_level=True)
pexpect = pytest.importorskip("pexpect")

from console import PROMPT, ROOT, ask, console_env, finish, start  # noqa: E402,F401
from helpers.conversation import Conversation  # noqa: E402
from helpers.ending import FAREWELL  # noqa: E402

TIMEOUT = 60  # seconds; a slow CI machine, not a speed requirement
EXAMPLE = [  # the course's example conversation and the answers authored for it
    ("我想买一双鞋，有什么建议吗？请20字以内回答我", "先想好用途，再选合脚、舒适透气的款式。"),
    ("有哪些尺码呢？请20字以内回答我", "常见35到45码，建议按脚长选或到店试穿。"),
    ("颜色有什么建议吗", "如果只买一双，推荐白色或黑色，最容易搭配。"),
    ("怎么搭配衣服呢", "小窍门：让鞋子和上衣或包的颜色呼应，全身主色不超过三种。"),
]
NOT_RECORDED = "你们店晚上几点关门？"


def spawn(*args: str, speed: str = "0", cwd: Path = ROOT) -> "pexpect.spawn":
    return start(["-m", "helpers.project1", *args], ["qwen-plus"], speed=speed, cwd=cwd,
                 timeout=TIMEOUT)


def test_example_conversation_then_farewell():
    child = spawn()
    for question, answer in EXAMPLE:
        assert answer in ask(child, question)
    child.sendline("好的我知道了")
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


def test_ctrl_d_at_prompt_ends_politely():
    child = spawn()
    child.sendeof()
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


def test_ctrl_c_at_prompt_ends_politely():
    child = spawn()
    child.sendintr()
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


def test_empty_input_gets_a_hint():
    child = spawn()
    assert "请输入内容" in ask(child, "")
    assert "请输入内容" in ask(child, "   ")
    child.sendeof()
    assert finish(child) == 0


def test_unrecorded_request_explains_and_chat_goes_on():
    child = spawn()
    assert EXAMPLE[0][1] in ask(child, EXAMPLE[0][0])
    out = ask(child, NOT_RECORDED)
    assert "没有这条请求的录制" in out
    history = ask(child, "/history")
    assert EXAMPLE[0][1] in history and NOT_RECORDED not in history
    # The failed question was taken back, so the next request carries exactly the first turn
    # and matches its recording.
    assert EXAMPLE[1][1] in ask(child, EXAMPLE[1][0])
    child.sendline("再见")
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


def test_save_json_loads_back_and_markdown(tmp_path):
    child = spawn()
    ask(child, EXAMPLE[0][0])
    assert "已保存" in ask(child, f"/save {tmp_path / 'chat.json'}")
    assert "已保存" in ask(child, f"/save {tmp_path / 'chat.md'}")
    assert "保存失败" in ask(child, f"/save {tmp_path / 'chat.txt'}")
    child.sendeof()
    assert finish(child) == 0
    loaded = Conversation.load(tmp_path / "chat.json")
    assert [t.content for t in loaded.turns] == list(EXAMPLE[0])
    assert "导购助手" in loaded.system
    assert EXAMPLE[0][1] in (tmp_path / "chat.md").read_text(encoding="utf-8")


def test_help_reset_and_unknown_command():
    child = spawn()
    assert "Ctrl-C" in ask(child, "/help")
    ask(child, EXAMPLE[0][0])
    assert "已清空" in ask(child, "/reset")
    assert "还没有对话" in ask(child, "/history")
    assert "未知命令" in ask(child, "/nope")
    child.sendeof()
    assert finish(child) == 0


def test_ctrl_c_while_streaming_keeps_partial_answer():
    # Slow pacing (0.1 = ten times slower than real) leaves time to interrupt mid-answer.
    child = spawn(speed="0.1")
    child.sendline(EXAMPLE[0][0])
    child.expect_exact("助手：")  # printed together with the first piece of the answer
    child.sendintr()
    child.expect_exact("已中断")
    child.expect_exact(PROMPT)
    history = ask(child, "/history")
    assert "回复中断" in history and EXAMPLE[0][0] in history
    child.sendeof()
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


def test_no_stream_mode_gives_the_same_answers():
    child = spawn("--no-stream")
    for question, answer in EXAMPLE[:2]:
        assert answer in ask(child, question)
    child.sendline("好的我知道了")
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


# --- nothing is lost (issue 10, items 5 and 6) ---------------------------------------------
def test_a_line_that_is_not_utf8_gets_a_hint_and_the_history_stays():
    child = spawn()
    assert EXAMPLE[0][1] in ask(child, EXAMPLE[0][0])
    os.write(child.child_fd, "你好".encode("gbk") + b"\r")  # a GBK terminal
    child.expect_exact(PROMPT)
    assert "不是有效的 UTF-8" in child.before and "Traceback" not in child.before
    assert EXAMPLE[0][1] in ask(child, "/history")  # still running, the history kept
    # (GNU readline may keep a stray byte of the bad line for the next one: that line gets the
    # same hint; the piped test below shows the chat answering normally afterwards.)
    child.sendeof()
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


def test_piped_bytes_that_are_not_utf8_and_surrogates_get_a_hint(tmp_path):
    import subprocess

    env = console_env()
    lines = [EXAMPLE[0][0].encode(), "你好".encode("gbk"), b"\xed\xa0\x80",  # not UTF-8; a surrogate
             EXAMPLE[1][0].encode(), b"/history"]
    out = subprocess.run([sys.executable, "-m", "helpers.project1"], input=b"\n".join(lines) + b"\n",
                         capture_output=True, env=env, cwd=tmp_path, timeout=TIMEOUT)
    text = out.stdout.decode("utf-8")
    assert out.returncode == 0 and "Traceback" not in out.stderr.decode("utf-8", "replace")
    assert text.count("不是有效的 UTF-8") == 2 and EXAMPLE[1][1] in text  # answered with history
    assert EXAMPLE[0][1] in text.split("/history")[-1]


def test_a_second_ctrl_c_right_after_the_first_does_not_end_the_chat():
    child = spawn(speed="0.1")
    child.sendline(EXAMPLE[0][0])
    child.expect_exact("助手：")
    child.sendintr()
    time.sleep(0.05)  # the reflex: a second Ctrl-C 50 ms later
    child.sendintr()
    child.expect(["再按一次 Ctrl-C", "已取消"])
    child.expect_exact(PROMPT)
    history = ask(child, "/history")
    assert "回复中断" in history and EXAMPLE[0][0] in history  # still running, history kept
    child.sendintr()  # a deliberate Ctrl-C at the prompt still ends it
    child.expect_exact(FAREWELL)
    assert finish(child) == 0


def test_save_never_overwrites_without_force_and_uses_my_chats(tmp_path):
    child = spawn(cwd=tmp_path)
    ask(child, EXAMPLE[0][0])
    assert "已保存到 my_chats/chat.json" in ask(child, "/save chat.json")
    saved = tmp_path / "my_chats" / "chat.json"
    before = saved.read_bytes()
    out = ask(child, "/save chat.json")
    assert "已经存在" in out and "--force" in out and saved.read_bytes() == before
    ask(child, EXAMPLE[1][0])
    assert "已保存" in ask(child, "/save chat.json --force")
    assert len(Conversation.load(saved)) == 4
    child.sendeof()
    assert finish(child) == 0
    assert sorted(p.name for p in saved.parent.iterdir()) == ["chat.json"]  # no temporary files


def test_save_refuses_the_course_recordings_and_symbolic_links(tmp_path):
    recordings = ROOT / "notebooks" / "recordings"
    course_file = recordings / "06_project1_chat.json"
    before = course_file.read_bytes()
    victim = tmp_path / "victim.json"
    victim.write_text("keep me", encoding="utf-8")
    (tmp_path / "link.json").symlink_to(victim)
    child = spawn(cwd=tmp_path)
    ask(child, EXAMPLE[0][0])
    for target in (course_file, recordings / "new.json", recordings / "specs" / ".." / "x.json"):
        assert "录制文件夹" in ask(child, f"/save {target} --force")
    assert "符号链接" in ask(child, f"/save {tmp_path / 'link.json'} --force")
    child.sendeof()
    assert finish(child) == 0
    assert course_file.read_bytes() == before and not (recordings / "new.json").exists()
    assert victim.read_text(encoding="utf-8") == "keep me"
