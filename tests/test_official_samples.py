"""Issue 18 item 10: DashScope's official first-call samples, pasted unchanged into a lesson,
work offline. The native one answers from the authored recording
(notebooks/recordings/official_first_call.json); the OpenAI-compatible one, which hard-codes
the live address, ends in the kit's Chinese hint with the one-line change, not in a bare
``APIConnectionError``; with that line changed it answers too. Real kernel, real SDKs, real
HTTP to the replay server (and a real failed connection to the live host: no network here).
"""
from __future__ import annotations

import json
import os
import socket

import nbformat
import pytest
from nbclient import NotebookClient

from lesson_run import NOTEBOOKS
from official_samples import COMPATIBLE, COMPATIBLE_FIXED, FIXED_LINE, HARD_CODED, NATIVE

RECORDING = NOTEBOOKS / "recordings" / "official_first_call.json"


def recorded_answer() -> str:
    data = json.loads(RECORDING.read_text(encoding="utf-8"))
    exchanges = data["exchanges"] if isinstance(data, dict) else data
    (native,) = [e for e in exchanges if not e["request"]["path"].startswith("/compatible-mode")]
    assert native["source"] == "authored"
    return native["response"]["body"]["output"]["choices"][0]["message"]["content"]


def shown(cell) -> str:
    return "".join(o.get("text", "") + "\n".join(o.get("traceback", []))
                   + "".join(str(v) for v in o.get("data", {}).values())
                   for o in cell.outputs)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ran():
    """One kernel, as a learner would: lesson 01's first cell, then the samples. A proxy on a
    closed port makes the live host unreachable even on a machine with a network (as for a
    learner offline or behind a dead proxy); the kit's loopback server bypasses proxies."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        'import helpers\nhelpers.setup("01_first_call")', NATIVE, COMPATIBLE, COMPATIBLE_FIXED)]
    saved = dict(os.environ)
    proxy = f"http://127.0.0.1:{closed_port()}"
    os.environ.update(HTTPS_PROXY=proxy, HTTP_PROXY=proxy, https_proxy=proxy, http_proxy=proxy)
    try:
        NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb.cells


def test_the_samples_are_the_published_ones():
    assert "'content': '你是谁？'" in NATIVE and "You are a helpful assistant." in NATIVE
    assert "dashscope.Generation.call(" in NATIVE and "base_url" not in NATIVE
    assert HARD_CODED in COMPATIBLE and COMPATIBLE.count("\n") == COMPATIBLE_FIXED.count("\n")


def test_native_sample_answers_offline(ran):
    text = shown(ran[1])
    assert not [o for o in ran[1].outputs if o.output_type == "error"], text
    assert recorded_answer() in json.loads(text)["output"]["choices"][0]["message"]["content"]


def test_hard_coded_live_url_ends_in_the_chinese_hint(ran):
    (error,) = [o for o in ran[2].outputs if o.output_type == "error"]
    lines = "\n".join(error.traceback)
    assert error.ename == "APIConnectionError"
    assert "写死" in lines and "回放模式" in lines and "https://dashscope.aliyuncs.com" in lines
    assert FIXED_LINE.rstrip(",") in lines  # the one-line change, spelled out
    assert "Traceback" not in lines and "httpx" not in lines and len(error.traceback) <= 6


def test_with_the_one_line_change_it_answers(ran):
    answer = json.loads(shown(ran[3]))["choices"][0]["message"]["content"]
    assert answer == recorded_answer()


def test_other_connection_errors_keep_the_kits_network_message():
    """Not a live DashScope host (or live mode): the plain Chinese network message."""
    import httpx
    import openai

    from helpers import notebook_errors

    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    lines = notebook_errors.message(openai.APIConnectionError(request=request))
    assert lines[0].startswith("✗ 网络连接失败") and "写死" not in "\n".join(lines)
