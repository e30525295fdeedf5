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


def pytest_collection_modifyitems(config, items):
    """Lesson 12's stored outputs come from a real LoRA run, which needs the optional
    ``finetune`` extra. Without it nbval skips that notebook (tests/test_finetune_lesson.py
    still runs the lesson, extra-less); in CI a missing extra is an error, not a skip."""
    from helpers import finetune

    lesson = [i for i in items if i.fspath.basename == "12_finetune_deploy.ipynb"]
    if not lesson or finetune.available():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must install the finetune extra before the tests: "
                                "python3.11 -m pip --python .venv/bin/python install -e '.[finetune]'")
    for item in lesson:
        item.add_marker(pytest.mark.skip(reason=finetune.INSTALL_HINT))
