"""Fixtures of the browser suite (``make test-browser``; marker ``browser``).

Plain ``make test`` / ``pytest`` skips these tests: they run only when ``-m browser`` is
given. Chromium comes from Debian (``make browser-deps``); Playwright never downloads one.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from .lab import CHROMIUM, CHROMIUM_ARGS, OUTPUT, VIEWS, Lab


def pytest_collection_modifyitems(config, items):
    if "browser" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="浏览器测试：用 make test-browser 运行（需要 Chromium）")
    for item in items:
        if item.get_closest_marker("browser") is not None:  # not keywords: they hold folder names
            item.add_marker(skip)


@pytest.fixture(scope="session")
def labs():
    """labs(speed) -> the JupyterLab whose kernels replay at that LLM_REPLAY_SPEED."""
    tmp = Path(tempfile.mkdtemp(prefix="llm-browser-"))
    servers: dict[str, Lab] = {}

    def get(speed: str = "1") -> Lab:
        if speed not in servers:
            servers[speed] = Lab(tmp, speed)
        return servers[speed]

    yield get
    for server in servers.values():
        server.close()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def lab(labs):
    """The JupyterLab of the chat widget's tests (paced, see test_lessons.PACED)."""
    import os

    return labs(os.environ.get("BROWSER_PACED_SPEED", "1"))


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"没有找到 Chromium（{CHROMIUM}）：请先运行 make browser-deps。"
                    " Chromium not found: run `make browser-deps` first.")
    with sync_api.sync_playwright() as p:
        # Playwright starts Chromium with a fresh temporary --user-data-dir of its own.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                    headless=True)
        contexts = {view: browser.new_context(**options) for view, options in VIEWS.items()}
        yield contexts
        browser.close()


@pytest.fixture(scope="session")
def output() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


class Console:
    """Every console error and uncaught page error of one page."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))


@pytest.fixture
def open_page(browser):
    """open_page(view) -> (page, console): a new tab at 100% or 125% (see lab.VIEWS)."""
    pages = []

    def make(view: str = "100"):
        page = browser[view].new_page()
        pages.append(page)
        return page, Console(page)

    yield make
    for page in pages:
        page.close()
