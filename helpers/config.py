"""Lesson 00: configuration — one call, ``helpers.setup()``, at the top of every notebook.

Precedence (decided once, for the whole kit): **the .env file wins over an OS environment
variable of the same name**, and setup() tells you when that happened. The usual trap in
other courses is the opposite: python-dotenv does not override by default, so a stale
``DASHSCOPE_API_KEY`` set in the OS months ago silently beats the fresh key in ``.env``.
Which .env: the kit's own (or one in the folder you work in, inside the kit); never one in a
folder above the kit such as ``~/.env``.

Modes (``LLM_MODE``): ``live`` calls DashScope; ``replay`` answers from recordings, no key
needed; ``record`` calls DashScope and saves what it answers. Default: live when a key is
set, replay otherwise. The one piece of state is ``_session``: the settings in force
(``current()``) and what a re-run of setup() must remember.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .envfile import KIT_ROOT, ConfigError, find_env_file, read_env_file  # noqa: F401
from .redaction import KEY_SHAPED, mask_key, remember_secret  # noqa: F401 (re-exported)
# The model section lives in helpers/models.py (one catalogue); these names stay importable here.
from .models import (MODELS, base_model, check_model, context_window,  # noqa: F401
                     known_models)

DEFAULT_MODEL = "qwen-plus"
LEARNER_MODES = ("live", "replay", "record")  # what LLM_MODE may say
# + the maintainers' authoring run (python -m helpers.replay.rebuild author, docs/recordings.md)
MODES = (*LEARNER_MODES, "author")
REGIONS = {  # LLM_REGION → host; the key must come from the same region's console
    "cn": "https://dashscope.aliyuncs.com",
    "intl": "https://dashscope-intl.aliyuncs.com",
    "us": "https://dashscope-us.aliyuncs.com",
}
# The SDKs refuse to send a request without some key; replay mode gives them this one.
REPLAY_KEY = "replay-mode-no-key-needed"
KIT_VARIABLES = ("DASHSCOPE_API_KEY", "LLM_MODE", "LLM_MODEL", "LLM_REGION",
                 "LLM_REPLAY_SPEED", "LLM_TIMEOUT", "LLM_EXTRA_MODELS", "LLM_FINETUNE_CONFIRM")


@dataclass
class Settings:
    mode: str
    model: str
    region: str
    api_key: str | None
    env_file: Path | None
    shadowed: list[str] = field(default_factory=list)  # OS variables that .env replaced
    lesson: str | None = None
    replay_url: str | None = None
    timeout: float = 60.0

    @property
    def host(self) -> str:
        return self.replay_url if self.replay_url else REGIONS[self.region]

    @property
    def base_url(self) -> str:
        """Native API root, as the dashscope SDK wants it."""
        return self.host + "/api/v1"

    @property
    def compatible_url(self) -> str:
        """OpenAI-compatible root, as the openai SDK wants it."""
        return self.host + "/compatible-mode/v1"

    def __str__(self) -> str:
        label = {"live": "在线模式（live）", "replay": "回放模式（replay，无需 Key）",
                 "record": "录制模式（record）"}.get(self.mode, self.mode)
        key = mask_key(self.api_key) if self.mode in ("live", "record") else "不需要"
        line = f"✓ {label} · 模型 {self.model} · Key {key}"
        if self.shadowed:
            line += f" · 注意：.env 覆盖了系统环境变量 {', '.join(self.shadowed)}"
        return line

    __repr__ = __str__


@dataclass
class _Session:
    """The one piece of state: the settings in force, and what a re-run of setup() must know."""

    settings: Settings | None = None
    os_values: dict[str, str] = field(default_factory=dict)  # the learner's, from before .env
    written: dict[str, str] = field(default_factory=dict)  # what setup() put into os.environ

    def notice_learner_changes(self) -> None:
        """A variable that differs from what setup() wrote was set by the learner: keep it."""
        for name in KIT_VARIABLES:
            now = os.environ.get(name)
            if name in self.written and now == self.written[name]:
                continue
            if now is None:
                self.os_values.pop(name, None)
            else:
                self.os_values[name] = now


_session = _Session()


def setup(lesson: str | None = None, *, mode: str | None = None,
          model: str | None = None) -> Settings:
    """Load .env, pick mode and model, point the SDKs at the right address; return the status.

    ``lesson`` is optional: it names the recordings file that record mode writes to
    (``setup("01_first_call")`` → notebooks/recordings/01_first_call.json).
    """
    _session.notice_learner_changes()
    os_values = _session.os_values
    env_file = find_env_file()
    from_file = read_env_file(env_file) if env_file else {}
    shadowed = [k for k, v in from_file.items() if k in os_values and os_values[k] != v]
    for name in KIT_VARIABLES:  # rebuild from the OS values, then let .env win
        value = from_file.get(name, os_values.get(name))
        if value is None:
            os.environ.pop(name, None)
            _session.written.pop(name, None)
        else:
            os.environ[name] = _session.written[name] = value

    key = os.environ.get("DASHSCOPE_API_KEY", "").strip() or None
    if key == REPLAY_KEY:  # our own placeholder, inherited by a child process: not a key
        key = None
    remember_secret(key)
    mode = (mode or os.environ.get("LLM_MODE") or ("live" if key else "replay")).strip().lower()
    if mode not in MODES:
        raise ConfigError(f"LLM_MODE={mode!r} 无效，应为 {'、'.join(LEARNER_MODES)} 之一。")
    if mode in ("live", "record") and not key:
        raise ConfigError(f"{mode} 模式需要 API Key：请在 .env 中写入 DASHSCOPE_API_KEY=你的Key，"
                          "或删除 LLM_MODE 使用回放模式（replay）。")
    region = os.environ.get("LLM_REGION", "cn").strip().lower()
    if region not in REGIONS:
        raise ConfigError(f"LLM_REGION={region!r} 无效，应为 {'、'.join(REGIONS)} 之一"
                          "（cn=北京，intl=新加坡，us=弗吉尼亚；Key 必须来自同一地域）。")
    settings = Settings(mode=mode, model=(model or os.environ.get("LLM_MODEL") or DEFAULT_MODEL).strip(),
                        region=region, api_key=key, env_file=env_file, shadowed=shadowed,
                        lesson=lesson, timeout=_timeout(os.environ.get("LLM_TIMEOUT")))
    if mode != "live":
        from .replay import ensure_server

        settings.replay_url = ensure_server(settings).base  # the per-process secret included
    _point_sdks(settings)
    _session.settings = settings
    from .notebook_errors import install  # in Jupyter: SDK connection errors in Chinese

    install()
    return settings


def _timeout(text: str | None) -> float:
    try:
        seconds = float(text or 60)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ConfigError(f"LLM_TIMEOUT={text!r} 无效：应为正的秒数，例如 LLM_TIMEOUT=60。")
    return seconds


def _point_sdks(settings: Settings) -> None:
    """Tell every client a learner might use where to go; the SDKs themselves stay unpatched."""
    import dashscope

    key = settings.api_key if settings.mode in ("live", "record") else REPLAY_KEY
    dashscope.api_key = key
    dashscope.base_http_api_url = settings.base_url  # legacy SDK: read at every call
    os.environ["DASHSCOPE_API_KEY"] = _session.written["DASHSCOPE_API_KEY"] = key
    os.environ["DASHSCOPE_HTTP_BASE_URL"] = settings.base_url  # legacy SDK in new processes
    os.environ["DASHSCOPE_BASE_URL"] = settings.base_url  # 2.0 Client, read at construction
    os.environ["OPENAI_BASE_URL"] = settings.compatible_url  # openai SDK
    os.environ["OPENAI_API_KEY"] = key
    if settings.replay_url:  # a learner's HTTPS_PROXY must not carry loopback requests
        from .replay import bypass_proxy_for_loopback

        bypass_proxy_for_loopback()


def current() -> Settings:
    """The settings in force, running setup() first if no cell has called it yet."""
    return _session.settings if _session.settings is not None else setup()
