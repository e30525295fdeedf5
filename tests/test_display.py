"""helpers.display: the stats line, the terminal/notebook stream renderers, the Chinese font switch.

The stream itself is faked here (tests/test_streaming.py runs real replayed streams), so these
tests check only what the renderers print and return.
"""
from __future__ import annotations

import os
import sys
import types

import matplotlib
import pytest

from helpers import display
from helpers.display import markdown_stream, print_stream, stats_line
from helpers.errors import LLMError, stream_broken
from helpers.llm import Reply

PIECES = ["跑步鞋", "和板鞋", "的区别", "有三点。"]
USAGE = {"input_tokens": 37, "output_tokens": 9, "total_tokens": 46}


def make_reply(text: str = "".join(PIECES), finish: str = "stop", **extra) -> Reply:
    return Reply(text=text, finish_reason=finish, usage=dict(USAGE), request_id="rid",
                 model="qwen-plus", seconds=1.2, first_token_seconds=0.41,
                 partial=finish == "interrupted", **extra)


@pytest.fixture
def fake_stream(monkeypatch):
    """Replace stream_chat: feed PIECES to on_text; stop early when on_text raises Ctrl-C."""
    calls = []

    def stream_chat(messages, *, on_text=None, fail_after=None, **params):
        calls.append((messages, params))
        sent = []
        for piece in PIECES:
            if fail_after is not None and len(sent) == fail_after:
                raise stream_broken("".join(sent))
            sent.append(piece)
            try:
                on_text(piece)
            except KeyboardInterrupt:
                return make_reply("".join(sent), "interrupted")
        return make_reply()

    monkeypatch.setattr(display, "stream_chat", stream_chat)
    return calls


# --- stats_line -------------------------------------------------------------------------------
def test_stats_line_has_timing_and_tokens():
    line = stats_line(make_reply())
    assert line == "（首字 0.41 秒 · 总计 1.20 秒 · 输入 37 tokens · 输出 9 tokens）"
    assert "截断" not in line and "中断" not in line


def test_stats_line_mentions_truncation():
    line = stats_line(make_reply(finish="length"))
    assert "max_tokens" in line and "截断" in line and "中断" not in line


def test_stats_line_mentions_interruption():
    line = stats_line(make_reply("跑步鞋", "interrupted"))
    assert "已中断" in line and "部分" in line and "截断" not in line


def test_stats_line_without_usage_or_first_token():
    reply = Reply(text="x", finish_reason="stop", seconds=0.5)
    assert stats_line(reply) == "（总计 0.50 秒 · 输入 ? tokens · 输出 ? tokens）"


# --- print_stream -----------------------------------------------------------------------------
def test_print_stream_writes_pieces_then_a_stats_line(fake_stream):
    written = []
    reply = print_stream("跑步鞋和板鞋有什么区别？", write=written.append, temperature=0.1)
    assert written[:len(PIECES)] == PIECES  # each piece as it arrives, in order
    assert written[len(PIECES):] == ["\n", stats_line(reply) + "\n"]
    assert reply.text == "".join(PIECES) and reply.finish_reason == "stop"
    assert fake_stream == [("跑步鞋和板鞋有什么区别？", {"temperature": 0.1})]


def test_print_stream_to_stdout(fake_stream, capsys):
    reply = print_stream("问题")
    assert capsys.readouterr().out == "".join(PIECES) + "\n" + stats_line(reply) + "\n"


def test_print_stream_without_stats(fake_stream, capsys):
    print_stream("问题", stats=False)
    assert capsys.readouterr().out == "".join(PIECES) + "\n"


def test_print_stream_marks_an_interrupt(fake_stream):
    written = []

    def write(text):
        written.append(text)
        if len(written) == 2:
            raise KeyboardInterrupt

    reply = print_stream("问题", write=write)
    assert reply.partial and reply.text == "".join(PIECES[:2])
    assert "".join(written) == reply.text + "\n……[已中断]\n" + stats_line(reply) + "\n"
    assert "已中断" in stats_line(reply)


def test_print_stream_ends_the_line_before_an_error(fake_stream):
    written = []
    with pytest.raises(LLMError) as caught:
        print_stream("问题", write=written.append, fail_after=2)
    assert caught.value.partial_text == "".join(PIECES[:2])
    assert written == PIECES[:2] + ["\n"]


# --- markdown_stream --------------------------------------------------------------------------
def test_markdown_stream_outside_a_notebook_prints(fake_stream, capsys):
    reply = markdown_stream("问题")
    assert capsys.readouterr().out == "".join(PIECES) + "\n" + stats_line(reply) + "\n"


class FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, obj):
        self.shown.append(obj.data)


@pytest.fixture
def notebook(monkeypatch):
    """Pretend to run in a kernel; collect what the display handle shows."""
    from IPython import display as ipy_display

    shown = []

    def fake_display(obj, display_id=False):
        assert display_id is True
        shown.append(obj.data)
        return FakeHandle(shown)

    monkeypatch.setattr(display, "_in_notebook", lambda: True)
    monkeypatch.setattr(ipy_display, "display", fake_display)
    return shown


def test_markdown_stream_updates_one_display(fake_stream, notebook, capsys):
    reply = markdown_stream("问题")
    assert notebook[0] == "▌"
    assert notebook[1] == PIECES[0] + "▌"  # the cursor follows the text while it arrives
    assert notebook[-1] == reply.text == "".join(PIECES)  # no cursor at the end
    assert len(notebook) == len(PIECES) + 2
    assert capsys.readouterr().out == ""  # nothing printed: it all went into the display


def test_markdown_stream_marks_an_interrupt(fake_stream, notebook, monkeypatch):
    original = FakeHandle.update

    def update(self, obj):
        original(self, obj)
        if len(self.shown) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(FakeHandle, "update", update)
    reply = markdown_stream("问题")
    assert reply.partial and notebook[-1] == reply.text + "\n\n*……[已中断]*"


def test_markdown_stream_drops_the_cursor_on_error(fake_stream, notebook):
    with pytest.raises(LLMError):
        markdown_stream("问题", fail_after=2)
    assert notebook[-1] == "".join(PIECES[:2])


def test_in_notebook_is_false_in_a_plain_process(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert display._in_notebook() is False
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert display._in_notebook() is True


# --- Chinese labels in plots ------------------------------------------------------------------
def test_use_chinese_font(monkeypatch):
    from matplotlib import font_manager

    monkeypatch.setattr(display, "FONT_FOLDERS", ())  # no font files to fall back on
    monkeypatch.delenv("LLM_FONT_DIRS", raising=False)
    with matplotlib.rc_context():
        monkeypatch.setattr(font_manager.fontManager, "ttflist",
                            [types.SimpleNamespace(name="DejaVu Sans")])
        assert display.use_chinese_font() is False
        monkeypatch.setattr(font_manager.fontManager, "ttflist",
                            [types.SimpleNamespace(name="DejaVu Sans"),
                             types.SimpleNamespace(name="Noto Sans CJK SC")])
        assert display.use_chinese_font() is True
        assert matplotlib.rcParams["font.sans-serif"][0] == "Noto Sans CJK SC"
        assert matplotlib.rcParams["axes.unicode_minus"] is False


FONT_FOUND_AFTER_CACHE = r"""
import os, shutil, sys
from matplotlib import font_manager
from helpers import display
# A cache built before the font was installed: drop what this machine already has.
font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist
                                    if f.name not in display.CHINESE_FONTS]
display.FONT_FOLDERS = ()
assert display.chinese_font() is None, "no Chinese font yet"
shutil.copy(sys.argv[1], os.environ["LLM_FONT_DIRS"])  # "installed" after the cache
name = display.chinese_font()
print(name)
"""


def test_a_font_installed_after_the_cache_is_still_found(tmp_path):
    """matplotlib never rescans its cache: the lookup must add font files itself."""
    import glob
    import subprocess
    import sys

    fonts = sorted(glob.glob("/usr/share/fonts/**/NotoSansCJK-Regular.ttc", recursive=True))
    if not fonts:
        pytest.skip("no Noto Sans CJK file on this machine to copy (Debian: fonts-noto-cjk)")
    folder = tmp_path / "fonts"
    folder.mkdir()
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl"), "LLM_FONT_DIRS": str(folder)}
    done = subprocess.run([sys.executable, "-c", FONT_FOUND_AFTER_CACHE, fonts[0]], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-800:]
    assert done.stdout.strip().startswith("Noto Sans CJK"), done.stdout
