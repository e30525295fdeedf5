"""`make bench`: every benchmark, one after another, offline. Figures go to the issue notes.

    python bench/run_all.py            # all
    python bench/run_all.py replay     # only those whose file name contains "replay"
    python bench/run_all.py install    # the cold-install benchmark (downloads; never in "all")
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def nbval_per_notebook() -> None:
    """Strict nbval time for each lesson, each in its own pytest run (kernel start included)."""
    print("nbval（严格模式）每个 notebook 的用时：")
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb")):
        t0 = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", str(nb.relative_to(ROOT))],
                                cwd=ROOT, capture_output=True, text=True)
        tail = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "?"
        print(f"  {nb.name:32s} {time.perf_counter() - t0:6.1f} s   {tail}")


def main() -> int:
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    env = {**os.environ, "LLM_ENV_FILE": "none", "LLM_REPLAY_SPEED": "0"}
    env.pop("DASHSCOPE_API_KEY", None)
    failed = []
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        if only not in script.name or (script.name == "bench_install.py" and only != "install"):
            continue
        print(f"\n=== {script.name} ===", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env).returncode:
            failed.append(script.name)
    if only in ("", "nbval"):  # "install" runs bench_install.py alone
        print("\n=== nbval ===", flush=True)
        nbval_per_notebook()
    if failed:
        print(f"\n失败：{', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
