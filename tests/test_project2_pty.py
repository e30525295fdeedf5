"""Project 2's console (`python -m helpers.project2`, lesson 13) in a real pseudo-terminal.

Replay mode, no pacing, no key, no .env: the answers come from
notebooks/recordings/13_project2_kb_chat.json (authored from its spec); retrieval runs for real
(the replay server's local embedding stand-in, Qdrant in a temporary folder shared by the tests
of this file, one process at a time). Timeouts are generous; nothing here measures time.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.platform == "win32":  # pexpect.spawn needs a POSIX pseudo-terminal
    pytest.skip("pseudo-terminal tests need POSIX", allow_module_level=True)
pexpect = pytest.importorskip("pexpect")

from console import PROMPT, ask, finish, start  # noqa: E402,F401
from helpers import rag  # noqa: E402
from helpers.ending import FAREWELL  # noqa: E402
from helpers.project2 import NO_ANSWER  # noqa: E402
from helpers.project2_checks import DEMO  # noqa: E402

TIMEOUT = 90  # seconds; a slow CI machine, not a speed requirement
# What each scripted answer must contain: a phrase of the authored answer, then its sources.
CITED = [
    ("整体偏小半码", "来源：选码与合脚建议 › 各系列的尺码偏差；商品目录：跑鞋 › 疾风 3 Pro"),
    ("7 天内换一次尺码", "来源：退货政策 › 七天无理由退货；退货政策 › 不支持无理由退货的商品；"
                       "商品目录：跑鞋 › 疾风 2（清仓）"),
    ("更推荐云朵慢跑鞋", "来源：商品目录：跑鞋 › 云朵慢跑鞋；商品目录：跑鞋 › 疾风 3 Pro"),
]
# A fault for the second question only: lesson 05's injection, armed inside the real program's
# process (the replay server lives there) before its main() runs; 401 is never retried.
WITH_FAULT = """
import sys
import helpers
from helpers import project2
from helpers.project2_checks import DEMO
from helpers.replay.faults import inject_fault, is_chat

helpers.setup(project2.LESSON)
second = lambda r: is_chat(r) and DEMO[1] in str(r.body)
with inject_fault("invalid_key", when=second):
    sys.exit(project2.main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("project2") / "index"


def spawn(index: Path, *args: str, speed: str = "0", code: str | None = None) -> "pexpect.spawn":
    program = ["-c", code] if code else ["-m", "helpers.project2"]
    return start([*program, "--index", str(index), *args], ["知识库：32 篇文档"], speed=speed,
                 timeout=TIMEOUT)


def goodbye(child: "pexpect.spawn") -> int:
    child.sendline(DEMO[-1])
    child.expect_exact(FAREWELL)
    return finish(child)


def test_scripted_conversation_cites_refuses_and_says_goodbye(index):
    child = spawn(index)
    for line, (phrase, sources) in zip(DEMO, CITED):
        out = ask(child, line)
        assert phrase in out and sources in out, out
    out = ask(child, DEMO[3])  # nothing in the knowledge base: refused, no sources
    assert rag.REFUSAL in out and NO_ANSWER in out and "来源：" not in out
    assert goodbye(child) == 0


def test_sources_shows_what_the_last_answer_was_built_on(index):
    child = spawn(index)
    assert "还没有回答" in ask(child, "/sources")
    ask(child, DEMO[0])
    shown = ask(child, "/sources")
    assert "检索的问题：" + DEMO[0] in shown and "回答引用了它" in shown
    assert "选码与合脚建议 › 各系列的尺码偏差 · 相似度" in shown
    assert "/sources" in ask(child, "/help")
    history = ask(child, "/history")
    assert "/sources" not in history and "整体偏小半码" in history  # commands are not turns
    assert goodbye(child) == 0


def test_a_replay_miss_explains_and_the_history_stays(index):
    child = spawn(index)
    ask(child, DEMO[0])
    out = ask(child, "那 43 码的呢？")  # a follow-up nobody recorded: its rewrite is a miss
    assert "没有这条请求的录制" in out and "Traceback" not in out
    history = ask(child, "/history")
    assert "整体偏小半码" in history and "43 码的呢" not in history
    # The failed question was taken back, so the next follow-up carries exactly the first
    # turn and matches its recording.
    assert CITED[1][1] in ask(child, DEMO[1])
    assert goodbye(child) == 0


def test_an_injected_fault_explains_and_the_history_stays(index):
    child = spawn(index, code=WITH_FAULT)
    ask(child, DEMO[0])
    out = ask(child, DEMO[1])  # its rewrite request gets 401 InvalidApiKey
    assert out.count("✗") == 1 and "Key" in out and "来源：" not in out
    history = ask(child, "/history")
    assert "整体偏小半码" in history and DEMO[1] not in history
    assert CITED[1][1] in ask(child, DEMO[1])  # asked again: answered, history intact
    assert goodbye(child) == 0


def test_ctrl_c_while_streaming_keeps_the_partial_answer(index):
    # Slow pacing (0.1 = ten times slower than real) leaves time to interrupt mid-answer.
    child = spawn(index, speed="0.1")
    child.sendline(DEMO[0])
    child.expect_exact("助手：")  # printed together with the first piece of the answer
    child.sendintr()
    child.expect_exact("已中断")
    child.expect_exact(PROMPT)
    history = ask(child, "/history")
    assert "回复中断" in history and DEMO[0] in history
    child.sendeof()
    child.expect_exact(FAREWELL)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
