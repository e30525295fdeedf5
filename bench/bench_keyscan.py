"""Key hygiene (issue 10): run every lesson in replay with a fake key set, then look for any
12-character run of it in the outputs, recordings and files the lessons write.

    .venv/bin/python bench/bench_keyscan.py     # last line: TOTAL 0
"""
import glob
import json
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-" + "0123456789abcdef" * 2  # made up; built so the secret scan does not flag it
os.environ.update(DASHSCOPE_API_KEY=KEY, LLM_MODE="replay", LLM_REPLAY_SPEED="0", LLM_ENV_FILE="none")
runs = [KEY[i:i+12] for i in range(len(KEY) - 11)]
bad = []
for path in sorted(glob.glob(str(ROOT / "notebooks" / "[0-9][0-9]*_*.ipynb"))):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=True,
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    text = json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)
    hits = [r for r in runs if r in text]
    print(Path(path).name, "key runs in outputs:", len(hits))
    bad += hits
written = [*glob.glob(str(ROOT / "notebooks/recordings/*.json")),
           *glob.glob(str(ROOT / "notebooks/my_data/*")), *glob.glob(str(ROOT / "my_chats/*"))]
for f in written:
    if any(r in Path(f).read_text(encoding="utf-8", errors="replace") for r in runs):
        bad.append(f)
print("TOTAL", len(bad))

