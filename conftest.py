"""Every test, notebooks included, runs offline: replay mode, no pacing, no key, no .env.

nbval starts each notebook's kernel with this process's environment, so setting it here
reaches the kernels too.
"""
import os

os.environ.update(LLM_MODE="replay", LLM_REPLAY_SPEED="0", LLM_ENV_FILE="none")
for name in ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DASHSCOPE_BASE_URL",
             "DASHSCOPE_HTTP_BASE_URL", "LLM_MODEL", "LLM_REGION", "LLM_RECORDINGS"):
    os.environ.pop(name, None)

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_environment():
    """helpers.setup() writes SDK addresses into os.environ by design; a test's setup()
    must not leak into later tests, nor into the notebook kernels nbval starts afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
