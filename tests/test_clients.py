"""The client libraries a learner moves on to, at their defaults, against replay (issue 17).

Each library runs in its own process from ``.venv-clients`` (``make clients`` builds it from
tests/clients-requirements.txt; the learners' .venv never gets these packages), talking to
this process's replay server over loopback. For each: the course's first question, whole and
streamed, gets the recorded text; a miss arrives in under 2 s as the library's error carrying
the Chinese hint; a 401 fault surfaces as the library's authentication error.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

import helpers
from helpers.replay.faults import inject_fault

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv-clients" / "bin" / "python"
DRIVER = ROOT / "tests" / "clients_drive.py"
QUESTION = "我想买一双鞋，有什么建议吗？请20字以内回答我"
AUTH = "鉴权测试：这个请求会收到 401"
# The error each library raises for a 401 (ChatTongyi has no class of its own: ValueError).
AUTH_ERRORS = {"openai": "openai.AuthenticationError",
               "langchain-openai": "langchain_openai.chat_models.base.OpenAIAuthenticationError",
               "ChatTongyi": "builtins.ValueError",
               "litellm": "litellm.exceptions.AuthenticationError",
               "llama-index-openai-like": "openai.AuthenticationError"}

pytestmark = pytest.mark.skipif(not PYTHON.exists(),
                                reason="客户端矩阵需要 .venv-clients：先运行 make clients")


def _recorded_answer() -> str:
    data = json.loads((ROOT / "notebooks/recordings/02_multi_turn.json").read_text("utf-8"))
    return next(e["response"]["body"]["output"]["choices"][0]["message"]["content"]
                for e in data["exchanges"]
                if e["request"]["body"]["input"]["messages"] == [{"role": "user", "content": QUESTION}])


def _is_auth_probe(request) -> bool:
    from helpers.replay import wire

    messages = wire.request_messages(request.body, request.compatible)
    return bool(messages) and messages[-1].get("content") == AUTH


@pytest.mark.parametrize("client", list(AUTH_ERRORS))
def test_client_at_defaults(client):
    helpers.setup()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    started = time.monotonic()
    with inject_fault("invalid_key", times=5, when=_is_auth_probe):
        run = subprocess.run([str(PYTHON), str(DRIVER), client], env=env, capture_output=True,
                             text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith("{\"scenario\"")]
    results = {r["scenario"]: r for r in map(json.loads, lines)}
    answer = _recorded_answer()
    assert results["whole"].get("text") == answer, results["whole"]
    assert results["stream"].get("text") == answer, results["stream"]
    for miss in ("miss", "miss-stream"):
        assert "error_type" in results[miss], results[miss]
        assert "原样输入" in results[miss]["error"], results[miss]
        assert results[miss]["seconds"] < 2.0, results[miss]
    assert results["auth"].get("error_type") == AUTH_ERRORS[client], results["auth"]
    print(f"\n{client}: {time.monotonic() - started:.1f} s, miss "
          f"{results['miss']['seconds']:.2f} s / {results['miss-stream']['seconds']:.2f} s")
