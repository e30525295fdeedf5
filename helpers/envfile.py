"""Lesson 00: the .env file — which one is read, and what a line that cannot be read says.

A line that cannot be parsed is reported by file and line number with its value masked
(``sk-01…cdef``): the message may end up in a notebook or a help request, and a malformed
line very often holds the key itself.
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

from .redaction import mask_key, redact

KIT_ROOT = Path(__file__).resolve().parents[1]
_NAME = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)")
_SEPARATORS = " \t=＝:：\"'“”"  # what people type between a name and its value
_FORMAT = "格式应为 NAME=value，例如 DASHSCOPE_API_KEY=sk-…（不加空格、不加引号）。"


class ConfigError(ValueError):
    """A configuration problem a learner can fix; the message says how (in Chinese)."""


def find_env_file() -> Path | None:
    """``LLM_ENV_FILE`` if set ("none" disables), else ``.env`` in this folder or one above it
    up to the kit's folder, else the kit's own ``.env``. Nothing above the kit is read."""
    choice = os.environ.get("LLM_ENV_FILE")
    if choice:
        return None if choice.lower() == "none" else Path(choice)
    here = Path.cwd().resolve()
    for folder in [here, *here.parents]:
        if folder != KIT_ROOT and KIT_ROOT not in folder.parents:
            break  # outside the kit
        if (folder / ".env").is_file():
            return folder / ".env"
    return KIT_ROOT / ".env" if (KIT_ROOT / ".env").is_file() else None


def read_env_file(path: Path) -> dict[str, str]:
    """Parse .env with python-dotenv; a malformed line is reported by number, its value masked."""
    from dotenv.parser import parse_stream

    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(_decode(path))):
        text = binding.original.string
        # python-dotenv reports where a binding starts, blank lines before it included.
        line = binding.original.line + text[:len(text) - len(text.lstrip())].count("\n")
        problem = _problem(text, binding.key, binding.value, binding.error)
        if problem:
            raise ConfigError(f"{path} 第 {line} 行无法解析：{problem}")
        if binding.key:
            value = binding.value.strip()
            if "#" in value and text.partition("=")[2].lstrip()[:1] not in ("\"", "'"):
                value = value.partition("#")[0].strip()  # KEY=value#comment: not part of the value
            values[binding.key] = value
    return values


def _decode(path: Path) -> str:
    """The file's text; UTF-8 (with or without the BOM Windows Notepad adds) and nothing else."""
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:200]:
        raise ConfigError(f"{path} 是 UTF-16 编码，无法读取：请用记事本打开，「另存为」时把编码选为 UTF-8。")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} 不是 UTF-8 编码（可能是 GBK）：请用编辑器把它另存为 UTF-8。") from None


def _problem(text: str, key: str | None, value: str | None, error: bool) -> str | None:
    """Why this line cannot be used, its value masked; None if it is fine (or blank/comment)."""
    if not error and (not key or (value is not None and _NAME.fullmatch(key))):
        return None
    line = text.strip()
    name = _NAME.match(line)
    rest = line[name.end():] if name else line
    if name and rest and rest[0] not in _SEPARATORS:  # "sk-…" alone: no name at all
        name, rest = None, line
    separator = re.match(f"[{_SEPARATORS}]*", rest).group()
    shown = (name.group(1) if name else "") + separator + mask_key(rest[len(separator):])
    if not name:
        advice = "这一行只有值、没有名字：应写成 DASHSCOPE_API_KEY=sk-…。"
    elif "＝" in separator:
        advice = "把全角等号「＝」改成半角「=」。"
    elif ":" in separator or "：" in separator:
        advice = "名字和值之间用等号「=」，不用冒号。"
    elif line.count('"') % 2 or line.count("'") % 2 or "“" in line or "”" in line:
        advice = "引号没有配对（或是中文引号）：去掉引号即可。"
    elif "=" not in separator:
        advice = "名字和值之间缺少等号「=」。"
    else:
        advice = ""
    return redact(f"{shown}。{advice}{_FORMAT}")
