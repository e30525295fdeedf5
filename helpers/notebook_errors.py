"""Lessons 01 and 05: what a notebook shows when an SDK cannot connect.

A learner who pastes DashScope's official first-call sample into a lesson runs code that
hard-codes the live address (``base_url="https://dashscope.aliyuncs.com/compatible-mode/v1"``).
In replay mode there is no key and no route to it, and the SDK ends, after its retries, in a
bare ``APIConnectionError: Connection error.``. ``helpers.setup()`` registers an IPython
handler for the SDKs' connection errors (``InteractiveShell.set_custom_exc``) that shows the
kit's short Chinese message instead and, for a hard-coded live address in replay mode, the
one-line change that makes the cell run offline (and still live with a key).

Only connection errors are handled; every other exception keeps IPython's own display. The
SDK classes are looked up in ``sys.modules`` (an exception of a class exists only once its
module was imported); a cell that mentions ``openai`` imports it just before it runs, so its
connection error is caught in the same cell.
"""
from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlsplit

# (module, class): the SDKs' and their HTTP libraries' "could not connect" exceptions.
CONNECTION_ERRORS = (("openai", "APIConnectionError"), ("dashscope.v2.errors", "APIConnectionError"),
                     ("requests.exceptions", "ConnectionError"))
LIVE_HOST = "aliyuncs.com"  # dashscope.aliyuncs.com, dashscope-intl…, {WorkspaceId}.…maas…
# What the learner writes instead, per SDK: the address helpers.setup() has put in os.environ
# (the replay server offline, the live service with a key).
FIXES = {
    "openai": ('base_url="{url}"', 'base_url=os.environ["OPENAI_BASE_URL"]'),
    "dashscope.v2.errors": ('base_url="{url}"', 'base_url=os.environ["DASHSCOPE_BASE_URL"]'),
    "requests.exceptions": ("dashscope.base_http_api_url = '{url}'",
                           'dashscope.base_http_api_url = os.environ["DASHSCOPE_HTTP_BASE_URL"]'),
}
_installed: dict[int, bool] = {}


def _classes() -> dict[type, str]:
    found = {}
    for module, name in CONNECTION_ERRORS:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type):
            found[cls] = module
    return found


def _url_of(exc: BaseException) -> str | None:
    """The address the failed request went to (the exception's, or its cause's, request)."""
    for candidate in (exc, exc.__cause__, exc.__context__):
        try:
            url = getattr(getattr(candidate, "request", None), "url", None)
        except RuntimeError:  # httpx: an error raised without a request attached
            url = None
        if url:
            return str(url)
    return None


def _replay_mode() -> bool:
    from .config import _session

    settings = _session.settings
    return settings is not None and settings.mode != "live"


def message(exc: BaseException) -> list[str]:
    """The lines a notebook shows for this connection error (short, Chinese)."""
    from .sdk_errors import from_exception

    err = from_exception(exc)
    url = _url_of(exc) or ""
    module = next((m for cls, m in _classes().items() if isinstance(exc, cls)), "openai")
    parts = urlsplit(url)
    if not (parts.hostname or "").endswith(LIVE_HOST) or not _replay_mode():
        return [str(err)]
    base = url.split("/chat/completions")[0].split("/services/")[0]
    before, after = FIXES[module]
    return [f"✗ 连不上线上服务：这段代码把地址写死成了 {parts.scheme}://{parts.hostname}，"
            "而现在是回放模式（没有 Key，不连网），请求到不了那里。",
            "  改一行就能离线运行（有 Key 时同一行照样连线上服务）：",
            f"    {before.format(url=base)}",
            f"  → {after}",
            "  （helpers.setup() 已把这个环境变量指向当前模式的地址；改完重新运行本单元格。）"]


def _handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None):
    shell._showtraceback(etype, value, message(value))
    return None


def _refresh(shell: Any, cell: str = "") -> None:
    if "openai" in cell and "openai" not in sys.modules:
        try:
            import openai  # noqa: F401 - the cell is about to import it anyway
        except ImportError:
            pass
    classes = tuple(_classes())
    current = tuple(getattr(shell, "custom_exceptions", ()) or ())
    ours = getattr(getattr(shell, "CustomTB", None), "_kit", False)
    if current and not ours:
        return  # someone else's handler: leave it alone
    if set(classes) != set(current):
        shell.set_custom_exc(classes, _handler)
        shell.CustomTB.__func__._kit = True


def install(shell: Any = None) -> bool:
    """Register the handler in the running IPython (no-op outside one); True if registered."""
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython else None
    if shell is None:
        return False
    _refresh(shell)
    if not _installed.get(id(shell)):
        shell.events.register("pre_run_cell", lambda info: _refresh(shell, info.raw_cell or ""))
        _installed[id(shell)] = True
    return True
