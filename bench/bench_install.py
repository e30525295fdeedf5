"""Cold install, uv against pip, the way a learner's first `make lab` does it (issue 23).

    python bench/bench_install.py          # or: make bench-install   (needs network to PyPI)

Each run copies the kit into a new temporary folder and runs tools/install.py there with no
package cache: once with UV=false (pip), once as a learner without uv (uv is not on PATH, so
the installer first puts uv into .venv with pip, then installs with it). Both install the
same pinned set, constraints.txt. Wall times include creating .venv and the Jupyter setup.
pip reads no pip.conf here (a learner's pip has none; build machines may point pip at local
wheel folders, which would flatter it). Not part of `make bench`: it downloads ~500 MB.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The Python make would pick (python3.11 …), not this venv's: the installer runs before .venv.
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)


def copy_kit(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)


def learner_environment(tmp: Path, installer: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV")) or k in ("PIP_CERT",)}
    path = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and not (Path(p) / "uv").exists()]  # a learner has no uv
    env.update(PATH=os.pathsep.join(path), PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1",
               UV_NO_CACHE="1", UV_CACHE_DIR=str(tmp / "uv-cache"), CI="1",  # CI: no ~ kernel
               UV="false" if installer == "pip" else "", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def cold_install(installer: str) -> tuple:
    with tempfile.TemporaryDirectory(prefix=f"llm-install-{installer}-") as tmp:
        kit = Path(tmp) / "kit"
        copy_kit(kit)
        started = time.perf_counter()
        result = subprocess.run([BASE_PYTHON, "tools/install.py"], cwd=kit,
                                env=learner_environment(Path(tmp), installer),
                                capture_output=True, text=True)
        seconds = time.perf_counter() - started
        venv = kit / ".venv"
        size = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and
                   not f.is_symlink()) / 2**20 if venv.exists() else 0
        if result.returncode:
            print(result.stdout[-3000:], result.stderr[-3000:])
            raise SystemExit(f"{installer}: install failed")
        steps = [line for line in result.stdout.splitlines() if line.startswith(("·", "✓"))]
        return seconds, size, steps


def main() -> int:
    print(f"冷安装（无缓存，临时文件夹，Python {sys.version.split()[0]}，{os.cpu_count()} 核）：")
    times = {}
    for installer in ("pip", "uv"):
        seconds, size, steps = cold_install(installer)
        times[installer] = seconds
        print(f"  {installer:3s}  {seconds:6.1f} s   .venv {size:5.0f} MB", flush=True)
        for step in steps:
            print(f"        {step}")
    print(f"  uv 比 pip 快 {times['pip'] / times['uv']:.1f} 倍（目标 ≥ 5 倍）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
