"""Configuration: one call, ``helpers.setup()``, at the top of every notebook.

Precedence (decided once, for the whole kit): **the .env file wins over an OS environment
variable of the same name**, and setup() tells you when that happened. The usual trap in
other courses is the opposite: python-dotenv does not override by default, so a stale
``DASHSCOPE_API_KEY`` set in the OS months ago silently beats the fresh key in ``.env``.

Modes (``LLM_MODE``): ``live`` calls DashScope; ``replay`` answers from recordings, no key
needed; ``record`` calls DashScope and saves what it answers. Default: live when a key is
set, replay otherwise.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .redaction import KEY_SHAPED, mask_key, remember_secret  # noqa: F401 (re-exported)

DEFAULT_MODEL = "qwen-plus"
# Models the kit knows, with their context windows in tokens (input + output), from
# https://help.aliyun.com/zh/model-studio/models (2026-11). Rolling aliases, not dated
# snapshots, so lessons keep working when a snapshot retires. Add others via LLM_EXTRA_MODELS.
MODELS = {
    "qwen-plus": 131_072,
    "qwen-flash": 1_000_000,
    "qwen-turbo": 1_000_000,
    "qwen-max": 32_768,
    "qwen3-max": 262_144,
    "qwen-long": 10_000_000,
}
MODES = ("live", "replay", "record", "author")  # author: kit maintainers write recordings
REGIONS = {  # LLM_REGION → host; the key must come from the same region's console
    "cn": "https://dashscope.aliyuncs.com",
    "intl": "https://dashscope-intl.aliyuncs.com",
    "us": "https://dashscope-us.aliyuncs.com",
}
KIT_ROOT = Path(__file__).resolve().parents[1]
# The SDKs refuse to send a request without some key; replay mode gives them this one.
REPLAY_KEY = "replay-mode-no-key-needed"
KIT_VARIABLES = ("DASHSCOPE_API_KEY", "LLM_MODE", "LLM_MODEL", "LLM_REGION",
                 "LLM_REPLAY_SPEED", "LLM_TIMEOUT", "LLM_EXTRA_MODELS")


class ConfigError(ValueError):
    """A configuration problem a learner can fix; the message says how (in Chinese)."""


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
                 "record": "录制模式（record）", "author": "编写录制模式（author）"}[self.mode]
        key = mask_key(self.api_key) if self.mode in ("live", "record") else "不需要"
        line = f"✓ {label} · 模型 {self.model} · Key {key}"
        if self.shadowed:
            line += f" · 注意：.env 覆盖了系统环境变量 {', '.join(self.shadowed)}"
        return line

    __repr__ = __str__


_settings: Settings | None = None
_os_values: dict[str, str] = {}  # values from the OS or set by the learner, before .env
_written: dict[str, str] = {}  # what setup() itself last put into os.environ


def _refresh_os_values() -> None:
    """Notice variables changed since the last setup(): those are the learner's, not ours."""
    for name in KIT_VARIABLES:
        now = os.environ.get(name)
        if name in _written and now == _written[name]:
            continue
        if now is None:
            _os_values.pop(name, None)
        else:
            _os_values[name] = now


def find_env_file() -> Path | None:
    """``LLM_ENV_FILE`` if set ("none" disables), else ``.env`` here or above, else in the kit."""
    choice = os.environ.get("LLM_ENV_FILE")
    if choice:
        return None if choice.lower() == "none" else Path(choice)
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / ".env").is_file():
            return folder / ".env"
    return KIT_ROOT / ".env" if (KIT_ROOT / ".env").is_file() else None


def read_env_file(path: Path) -> dict[str, str]:
    """Parse .env with python-dotenv, refusing malformed lines with their line number."""
    from dotenv.parser import parse_stream

    values: dict[str, str] = {}
    with open(path, encoding="utf-8-sig") as stream:  # -sig: Windows Notepad adds a BOM
        for binding in parse_stream(stream):
            text = binding.original.string
            # python-dotenv reports where a binding starts, blank lines before it included.
            line = binding.original.line + text[:len(text) - len(text.lstrip())].count("\n")
            if binding.error or (binding.key and binding.value is None):
                raise ConfigError(f"{path} 第 {line} 行无法解析：{text.strip()!r}。"
                                  "格式应为 NAME=value，例如 DASHSCOPE_API_KEY=sk-…（不要加空格或中文引号）。")
            if binding.key:
                values[binding.key] = binding.value.strip()
    return values


def setup(lesson: str | None = None, *, mode: str | None = None,
          model: str | None = None) -> Settings:
    """Load .env, pick mode and model, point the SDKs at the right address; return the status.

    ``lesson`` names the recordings file that record mode writes to (e.g. "01_first_call").
    """
    global _settings
    _refresh_os_values()
    env_file = find_env_file()
    from_file = read_env_file(env_file) if env_file else {}
    shadowed = [k for k, v in from_file.items() if k in _os_values and _os_values[k] != v]
    for name in KIT_VARIABLES:  # rebuild from the OS values, then let .env win
        value = from_file.get(name, _os_values.get(name))
        if value is None:
            os.environ.pop(name, None)
            _written.pop(name, None)
        else:
            os.environ[name] = _written[name] = value

    key = os.environ.get("DASHSCOPE_API_KEY", "").strip() or None
    if key == REPLAY_KEY:  # our own placeholder, inherited by a child process: not a key
        key = None
    remember_secret(key)
    mode = (mode or os.environ.get("LLM_MODE") or ("live" if key else "replay")).strip().lower()
    if mode not in MODES:
        raise ConfigError(f"LLM_MODE={mode!r} 无效，应为 live、replay 或 record 之一。")
    if mode in ("live", "record") and not key:
        raise ConfigError(f"{mode} 模式需要 API Key：请在 .env 中写入 DASHSCOPE_API_KEY=你的Key，"
                          "或删除 LLM_MODE 使用回放模式（replay）。")
    region = os.environ.get("LLM_REGION", "cn").strip().lower()
    if region not in REGIONS:
        raise ConfigError(f"LLM_REGION={region!r} 无效，应为 {'、'.join(REGIONS)} 之一"
                          "（cn=北京，intl=新加坡，us=弗吉尼亚；Key 必须来自同一地域）。")
    settings = Settings(mode=mode, model=(model or os.environ.get("LLM_MODEL") or DEFAULT_MODEL).strip(),
                        region=region, api_key=key, env_file=env_file, shadowed=shadowed,
                        lesson=lesson, timeout=float(os.environ.get("LLM_TIMEOUT") or 60))
    if mode != "live":
        from .replay import ensure_server

        settings.replay_url = ensure_server(settings).base  # the per-process secret included
    _point_sdks(settings)
    _settings = settings
    return settings


def _point_sdks(settings: Settings) -> None:
    """Tell every client a learner might use where to go; the SDKs themselves stay unpatched."""
    import dashscope

    key = settings.api_key if settings.mode in ("live", "record") else REPLAY_KEY
    dashscope.api_key = key
    dashscope.base_http_api_url = settings.base_url  # legacy SDK: read at every call
    os.environ["DASHSCOPE_API_KEY"] = _written["DASHSCOPE_API_KEY"] = key
    os.environ["DASHSCOPE_HTTP_BASE_URL"] = settings.base_url  # legacy SDK in new processes
    os.environ["DASHSCOPE_BASE_URL"] = settings.base_url  # 2.0 Client, read at construction
    os.environ["OPENAI_BASE_URL"] = settings.compatible_url  # openai SDK
    os.environ["OPENAI_API_KEY"] = key
    if settings.replay_url:  # a learner's HTTPS_PROXY must not carry loopback requests
        from .replay import bypass_proxy_for_loopback

        bypass_proxy_for_loopback()


def known_models() -> dict[str, int]:
    extra = os.environ.get("LLM_EXTRA_MODELS", "")
    return {**MODELS, **{m.strip(): 131_072 for m in extra.split(",") if m.strip()}}


def base_model(name: str) -> str:
    """The rolling alias behind a dated snapshot or -latest: qwen-plus-2025-07-28 → qwen-plus."""
    import re

    return re.sub(r"-(latest|\d{4}-\d{2}-\d{2})$", "", name.strip())


def check_model(name: str) -> str:
    """Refuse a model name the kit does not know, before anything is sent.

    Dated snapshots of a known model (``qwen-plus-2025-07-28``) and ``-latest`` are accepted.
    """
    from .errors import bad_input

    base = base_model(name)
    if base not in known_models():
        close = [m for m in known_models() if m.split("-")[0] == base.split("-")[0]]
        raise bad_input(f"未知的模型名 {name!r}。本课程认识：{'、'.join(known_models())}"
                        + (f"（你是不是想用 {close[0]}？）" if close else "")
                        + "。新模型请加到 .env 的 LLM_EXTRA_MODELS。")
    return name.strip()


def context_window(name: str) -> int:
    return known_models()[base_model(name)]


def current() -> Settings:
    """The settings in force, running setup() first if no cell has called it yet."""
    return _settings if _settings is not None else setup()
