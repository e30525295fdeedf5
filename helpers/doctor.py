"""Lesson 00: environment checks, and a report that is safe to paste into a help request.

    helpers.doctor.report()      # in a notebook
    python -m helpers.doctor     # in a terminal; always writes doctor-report.txt, even when
                                 # helpers.setup() itself fails (that is when it is needed most)
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .redaction import redact as hide_secrets
from .config import KEY_SHAPED, KIT_ROOT, REGIONS, base_model, current, known_models, mask_key

PACKAGES = ("dashscope", "python-dotenv", "openai", "jupyterlab", "ipywidgets", "tenacity",
            "matplotlib")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warn: bool = False  # passes, but tell the learner (e.g. an old model catalogue)

    def __str__(self) -> str:
        mark = "✗" if not self.ok else "⚠" if self.warn else "✓"
        line = f"{mark} {self.name}：{self.detail}"
        return line + (f"\n    → {self.fix}" if (not self.ok or self.warn) and self.fix else "")


class Report(list):
    """A list of checks; ``str()`` is the report, with secrets masked and home paths hidden."""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self)

    def __str__(self) -> str:
        lines = [str(c) for c in self]
        failed = sum(not c.ok for c in self)
        lines.append(f"共 {len(self)} 项检查，{'全部通过 ✓' if not failed else f'{failed} 项需要处理 ✗'}")
        return redact("\n".join(lines))

    def save(self, path: str | Path = "doctor-report.txt") -> Path:
        path = Path(path)
        path.write_text(str(self) + "\n", encoding="utf-8")
        return path


def redact(text: str) -> str:
    """Hide the key (shown masked), other secrets and the home folder (often a real name)."""
    key = os.environ.get("DASHSCOPE_API_KEY", "")
    if len(key) >= 8:
        text = text.replace(key, mask_key(key))
    text = KEY_SHAPED.sub(lambda m: mask_key(m.group()), text)
    return hide_secrets(text).replace(str(Path.home()), "~")


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def check_python() -> Check:
    v = sys.version_info
    return Check("Python 版本", v >= (3, 10), f"{v.major}.{v.minor}.{v.micro}",
                 "需要 Python 3.10 或更新版本：按 README 重新创建环境。")


def check_packages() -> Check:
    found = {p: _version(p) for p in PACKAGES}
    missing = [p for p, v in found.items() if v is None]
    detail = "，".join(f"{p} {v}" for p, v in found.items() if v)
    return Check("依赖包", not missing, detail + (f"；缺少 {', '.join(missing)}" if missing else ""),
                 "在课程目录运行 make lab（或 pip install -e .）安装依赖。")


def check_interpreter() -> Check:
    in_kernel = "ipykernel" in sys.modules
    ours = _version("llm-course-kit") is not None
    where = "Jupyter 内核" if in_kernel else "命令行"
    return Check("解释器", ours, f"{where}，{sys.executable}" + ("（课程环境 ✓）" if ours else ""),
                 "当前内核不是课程环境：在 JupyterLab 右上角选择内核「Python 3 (大模型工程化之路)」。")


def check_env_file() -> Check:
    s = current()
    if s.env_file is None:
        return Check(".env 文件", True, "未找到（回放模式不需要；要用真实服务请复制 .env.example 为 .env）")
    detail = f"已读取 {s.env_file}"
    if s.shadowed:
        detail += f"；其中 {', '.join(s.shadowed)} 与系统环境变量不同，已以 .env 为准"
    return Check(".env 文件", True, detail)


def check_key() -> Check:
    s = current()
    key = s.api_key
    if not key:
        return Check("API Key", s.mode == "replay", "未设置（回放模式可以不设）",
                     "在 .env 中写入 DASHSCOPE_API_KEY=sk-…")
    problems = []
    if not key.startswith("sk-"):
        problems.append("不是以 sk- 开头")
    if any(ch.isspace() or ch in "\"'“”‘’" for ch in key):
        problems.append("含有空格或引号")
    if not key.isascii():
        problems.append("含有全角或中文字符")
    if key.startswith("sk-sp-"):  # Coding Plan / Token Plan: valid only at that plan's Base URL
        problems.append("是 Coding Plan / Token Plan 的 Key，只能用于该套餐自己的 Base URL，"
                        "在课程用的按量付费地址上会返回 401")
    region = {"cn": "华北2（北京）", "intl": "新加坡", "us": "美国（弗吉尼亚）"}.get(s.region, s.region)
    return Check("API Key", not problems, f"{mask_key(key)}" + (f"（{'，'.join(problems)}）" if problems else "")
                 + f"；须是「{region}」地域、按量付费的 Key（地域或计费方案不符会返回 401）",
                 "从百炼控制台（与 LLM_REGION 同一地域）重新复制按量付费的 Key，"
                 "粘贴到 .env 的等号后面，不要加引号或空格。")


def check_mode_and_model() -> Check:
    from .models import retired_message

    s = current()
    old = retired_message(s.model)
    if old:
        return Check("模式与模型", False, f"{s.mode} · {s.model} · 地域 {s.region}", old)
    known = base_model(s.model) in known_models()
    return Check("模式与模型", known, f"{s.mode} · {s.model} · 地域 {s.region}",
                 f"LLM_MODEL 应为 {'、'.join(known_models())} 之一。")


def check_endpoint(timeout: float = 5.0) -> Check:
    """Reach the configured endpoint: the replay server, or DashScope itself (not google.com)."""
    import json
    import urllib.request

    s = current()
    if s.replay_url:
        try:
            with urllib.request.urlopen(s.replay_url + "/__replay__/status", timeout=timeout) as r:
                json.load(r)
            return Check("服务地址", True, "本机回放服务正常")
        except OSError as exc:
            return Check("服务地址", False, f"回放服务无响应：{exc}", "重新运行 helpers.setup()。")
    host = REGIONS[s.region]
    try:
        urllib.request.urlopen(urllib.request.Request(host + "/api/v1", method="HEAD"), timeout=timeout)
    except urllib.error.HTTPError:
        pass  # any HTTP answer proves DNS, TLS and the route all work
    except OSError as exc:
        proxy = [v for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy") if os.environ.get(v)]
        return Check("服务地址", False, f"连不上 {host}：{exc}",
                     "检查网络" + (f"和代理设置（{', '.join(proxy)}）" if proxy else "") +
                     "；离线时可删除 Key 使用回放模式。")
    return Check("服务地址", True, f"{host} 可以连通")


def check_catalogue() -> Check:
    """Warn (never fail) when the model catalogue is over six months old: facts may have moved."""
    from .models import READ_ON, SOURCE, age_days, is_stale

    stale = is_stale()  # the day count only when stale: stored lesson outputs stay the same
    return Check("模型目录", True, f"helpers/data/models.json 于 {READ_ON} 核对"
                 + (f"，已过去 {age_days()} 天" if stale else ""),
                 f"已超过半年：模型、上限和价格可能已变，请到 {SOURCE} 核对，或更新课程。",
                 warn=stale)


def report(setup_error: BaseException | None = None) -> Report:
    """Run every check; print the result, or ``.save()`` it to attach to a question.

    ``setup_error``: what helpers.setup() raised, if it did; the checks that need working
    settings are then replaced by that one failure (with its fix)."""
    checks = [check_python, check_packages, check_interpreter]
    if setup_error is None:
        checks += [check_env_file, check_key, check_mode_and_model, check_catalogue,
                   check_endpoint]
    result = Report(_run(check) for check in checks)
    if setup_error is not None:
        result.append(Check("配置（helpers.setup）", False, str(setup_error),
                            "按上面的提示修改 .env（或环境变量）后，重新运行本检查。"))
    return result


def _run(check) -> Check:  # noqa: ANN001 - one of the check_* functions
    """A check that cannot even run is a failed check, not a crash of the whole report."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - e.g. setup() refusing a malformed .env
        return Check(check.__name__, False, str(exc), "按提示修改后重新运行本检查。")


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.doctor [FILE]``: print the report and save it (doctor-report.txt)."""
    from .config import setup

    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else KIT_ROOT / "doctor-report.txt"

    try:
        setup()
        problem = None
    except Exception as exc:  # noqa: BLE001 - reported below, never a traceback
        problem = exc
    result = report(problem)
    print(result)
    print(f"报告已保存到 {result.save(target)}（不含密钥，可以直接贴到求助帖里）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
