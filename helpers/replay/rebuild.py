"""Rebuild recordings and stored notebook outputs (maintainers; ``make author|record|notebooks``).

    python -m helpers.replay.rebuild author   [NOTEBOOK ...]  # specs → authored recordings
    python -m helpers.replay.rebuild record   [NOTEBOOK ...]  # live service → recordings (key),
                                                            # then re-checks facts (factcheck.py)
    python -m helpers.replay.rebuild outputs  [NOTEBOOK ...]  # replay → stored outputs

Each notebook's recordings are ``notebooks/recordings/<notebook stem>.json``. ``author``
replaces the authored exchanges of the file and keeps recorded ones; ``record`` replaces the
file. Every run ends by executing the notebook in replay mode and storing those outputs, which
are what nbval compares.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..config import KIT_ROOT
from .store import load_file, save_file

NOTEBOOKS = KIT_ROOT / "notebooks"


def execute(path: Path, mode: str, save: bool, speed: str = "0") -> float:
    import nbformat
    from nbclient import NotebookClient

    os.environ.update(LLM_MODE=mode, LLM_REPLAY_SPEED=speed, LLM_ENV_FILE="none")
    if mode == "replay":
        os.environ.pop("DASHSCOPE_API_KEY", None)
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    if save:
        nbformat.write(nb, path)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.replay.rebuild")
    parser.add_argument("action", choices=("author", "record", "outputs"))
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args(argv)
    paths = ([Path(p).resolve() for p in args.notebooks] if args.notebooks
             else sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb")))
    if args.action == "record" and not os.environ.get("DASHSCOPE_API_KEY"):
        from ..config import find_env_file, read_env_file

        env = find_env_file()
        if not (env and read_env_file(env).get("DASHSCOPE_API_KEY")):
            print("录制需要真实的 DASHSCOPE_API_KEY（写在 .env 中）。", file=sys.stderr)
            return 2
        os.environ["DASHSCOPE_API_KEY"] = read_env_file(env)["DASHSCOPE_API_KEY"]
    for path in paths:
        recordings = NOTEBOOKS / "recordings" / f"{path.stem}.json"
        if args.action in ("author", "record") and recordings.exists():
            keep = ([e for e in load_file(recordings) if e["source"] == "recorded"]
                    if args.action == "author" else [])
            save_file(recordings, keep)
        if args.action in ("author", "record"):
            seconds = execute(path, args.action, save=False)
            print(f"{path.name}: {args.action} {seconds:.1f} s")
        # Stored outputs come from realistic pacing, so a learner who opens a lesson without
        # running it sees real timings; the sanitizer makes them compare equal at speed 0.
        seconds = execute(path, "replay", save=True, speed=os.environ.get("LLM_STORE_SPEED", "1"))
        print(f"{path.name}: 回放执行并保存输出 {seconds:.1f} s")
    if args.action == "record":  # re-check the facts docs/fact-check.md marks as checkable live
        from ..config import REGIONS
        from .factcheck import recheck

        region = (os.environ.get("LLM_REGION") or "cn").strip().lower()
        host = os.environ.get("LLM_RECORD_UPSTREAM") or REGIONS.get(region, REGIONS["cn"])
        print(recheck(host, os.environ["DASHSCOPE_API_KEY"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
