"""Put the shipped lessons back without losing the learner's own work (``make restore``).

    python tools/restore.py          # copy edited lessons to my-work/<time>/, then restore them
    python tools/restore.py --yes    # the same without asking
    python tools/restore.py --hint   # after a failed `make test`: say if own edits may be why

`make test` compares every lesson with the outputs it shipped with, so a lesson the learner
ran or changed (even an empty cell added by Shift+Enter) fails it. Nothing here deletes the
learner's work: edited files are copied, new notebooks moved, into my-work/ (ignored by git,
not collected by the tests) before git restores the shipped versions.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "my-work"
COMMAND = "make restore（没有 make：python tools/restore.py）"


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def changes() -> tuple:
    """(edited tracked files, new notebooks) under notebooks/, as paths relative to ROOT."""
    try:
        status = git("status", "--porcelain", "-z", "--untracked-files=all", "--", "notebooks")
    except OSError:  # no git: nothing to compare with
        return [], []
    if status.returncode:
        return [], []
    edited, new = [], []
    for entry in filter(None, status.stdout.split("\0")):
        code, path = entry[:2], entry[3:]
        if code == "??":
            if path.endswith(".ipynb"):
                new.append(path)
        elif len(code.strip()) and "R" not in code:  # edited or deleted (restore brings it back)
            edited.append(path)
    return edited, new


def hint() -> int:
    edited, new = changes()
    lessons = [p for p in edited + new if p.endswith(".ipynb")]
    if lessons:
        print("\n提示：下面的课程文件被你修改或新建过，测试比对的是课程发布时的版本：")
        for path in lessons:
            print(f"  {path}")
        print(f"恢复发布版本（你的版本会先复制到 my-work/，不会丢失）：{COMMAND}")
    return 0


def restore(ask: bool) -> int:
    edited, new = changes()
    if not edited and not new:
        print("notebooks/ 与发布版本一致，无需恢复。")
        return 0
    folder = WORK / time.strftime("%Y%m%d-%H%M%S")
    print(f"将把你的版本保存到 {folder.relative_to(ROOT)}/，然后恢复发布版本：")
    for path in edited + new:
        print(f"  {path}" + ("（新建的，移动过去）" if path in new else ""))
    if ask and sys.stdin.isatty():
        if input("继续吗？[y/N] ").strip().lower() not in ("y", "yes", "是"):
            print("已取消，什么都没有改动。")
            return 1
    for path in edited + new:
        source, target = ROOT / path, folder / path
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    if edited and git("checkout", "--", *edited).returncode:
        print(f"✗ git 恢复失败；你的版本已在 {folder.relative_to(ROOT)}/。")
        return 1
    for path in new:
        (ROOT / path).unlink()
    print(f"✓ 已恢复发布版本；你的版本在 {folder.relative_to(ROOT)}/（git 不跟踪这个文件夹）。")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(hint() if "--hint" in args else restore(ask="--yes" not in args))
