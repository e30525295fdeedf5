"""Key hygiene (issue 10): run every lesson in replay with a fake key set, then look for any
12-character run of it in the outputs, recordings and files the lessons write.

    .venv/bin/python bench/bench_keyscan.py     # last line: TOTAL 0
"""
import os, sys, glob, json, nbformat
from nbclient import NotebookClient
KEY = "sk-0123456789abcdef0123456789abcdef"
os.environ.update(DASHSCOPE_API_KEY=KEY, LLM_MODE="replay", LLM_REPLAY_SPEED="0", LLM_ENV_FILE="none")
runs = [KEY[i:i+12] for i in range(len(KEY) - 11)]
bad = []
for path in sorted(glob.glob("notebooks/[0-9][0-9]_*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=True,
                   resources={"metadata": {"path": "notebooks"}}).execute()
    text = json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)
    hits = [r for r in runs if r in text]
    print(path, "key runs in outputs:", len(hits)); bad += hits
for f in glob.glob("notebooks/recordings/*.json") + glob.glob("notebooks/my_data/*") + glob.glob("my_chats/*"):
    t = open(f, encoding="utf-8", errors="replace").read()
    if any(r in t for r in runs): bad.append(f)
print("TOTAL", len(bad))
