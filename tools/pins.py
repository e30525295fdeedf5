"""Maintainers: the tested pins in constraints.txt (``make constraints``, ``make latest``).

    python tools/pins.py compile   # re-pin constraints.txt to the newest releases
    python tools/pins.py latest    # newest releases in a temporary venv: what changes, and
                                   # do the unit tests still pass? A report; exits 0 always.

``compile`` is one command, ``uv pip compile --universal``: one file for Linux, macOS and
Windows and every supported Python (environment markers where versions differ), read by
uv and pip alike (``-c constraints.txt``). Run ``make test`` after it, then commit.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from install import CONSTRAINTS, ROOT, find_uv, venv_python  # tools/ is this script's folder

COMPILE = ["pip", "compile", "pyproject.toml", "tools/installer.in", "--extra", "test",
           "--universal", "--python-version", "3.10", "--upgrade", "--quiet",
           "--custom-compile-command", "make constraints", "-o", CONSTRAINTS.name]


def uv_or_exit() -> str:
    uv, why = find_uv(venv_python())
    if not uv:
        print(f"需要 uv（{why}）：先运行 make install。")
        sys.exit(1)
    return uv


def compile_pins() -> int:
    return subprocess.run([uv_or_exit(), *COMPILE], cwd=ROOT).returncode


def freeze(uv: str, python: Path) -> dict:
    out = subprocess.run([uv, "pip", "freeze", "--python", str(python)], capture_output=True,
                         text=True, check=True).stdout
    pins = (line.split("==", 1) for line in out.splitlines() if "==" in line)
    return {name.lower(): version for name, version in pins}


def latest_report() -> int:
    """Never fails the caller: it tells maintainers what next term's install would get."""
    try:
        uv = uv_or_exit()
    except SystemExit:
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="llm-latest-") as tmp:
        venv = Path(tmp) / "venv"
        python = venv_python(venv)
        steps = [[uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                 [uv, "pip", "install", "--quiet", "--upgrade", "--python", str(python),
                  "-e", ".[test]"]]
        for step in steps:
            if subprocess.run(step, cwd=ROOT).returncode:
                print("最新版本报告：无法安装最新版本（网络？），跳过。")
                return 0
        pinned, newest = freeze(uv, venv_python()), freeze(uv, python)
        changed = sorted(n for n in newest if pinned.get(n) not in (None, newest[n]))
        print(f"最新版本报告（{len(changed)} 个包比 constraints.txt 新）：")
        for name in changed:
            print(f"  {name} {pinned[name]} → {newest[name]}")
        if not changed and set(newest) <= set(pinned):
            print("最新版本与锁定版本相同：刚才用锁定版本跑的测试已经覆盖，不再重复。")
            return 0
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        try:  # unit tests only: cheap, and they cover what the SDKs' wire format does
            result = subprocess.run([str(python), "-m", "pytest", "-q", "-x", "tests"],
                                    cwd=ROOT, env=env, capture_output=True, text=True,
                                    timeout=600)
            lines = result.stdout.strip().splitlines()
            verdict = ("通过" if result.returncode == 0 else "失败") + f"：{lines[-1] if lines else '?'}"
            if result.returncode:
                print("\n".join(lines[-25:]))
        except subprocess.TimeoutExpired:
            verdict = "超时（600 秒）"
        print(f"最新版本下的单元测试{verdict}（报告用时 {time.perf_counter() - started:.0f} 秒，"
              "不影响 CI 结果）")
    return 0


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    if action not in ("compile", "latest"):
        print(__doc__)
        sys.exit(2)
    sys.exit(compile_pins() if action == "compile" else latest_report())
