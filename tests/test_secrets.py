"""Key hygiene: no API key, bearer token or Authorization header anywhere in the kit.

The scanner reads every file git would commit (tracked, plus new files that are not ignored;
without git: the tree minus .venv and caches), and additionally looks *inside* notebooks
(every output, decoded) and recordings (every string, every header name). It looks for
key-shaped strings (``sk-`` + 16 or more letters/digits), ``Bearer <long token>``, and the
exact value of DASHSCOPE_API_KEY when one is set in the environment.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import pytest

import helpers
from helpers.config import KIT_ROOT, REPLAY_KEY
from helpers.doctor import redact

KEY_SHAPED = re.compile(r"sk-[A-Za-z0-9]{16,}")
BEARER = re.compile(r"Bearer\s+[A-Za-z0-9._~+/=\-]{16,}")
SKIP_DIRS = {".venv", "venv", ".git", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", "build", "dist",
             ".bench", "node_modules"}
# A fake key built at run time, so this file itself never holds one.
FAKE_KEY = "sk-" + "f4ke" * 6


@dataclass(frozen=True)
class Finding:
    path: str
    where: str  # "line 12", "cell 3 output", "exchange 2 response.headers"
    what: str  # the pattern that matched, never the secret itself

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.what}"


def project_files(root: Path = KIT_ROOT) -> list[Path]:
    """Files that would be committed: git's view if this is a checkout, else a filtered walk."""
    if shutil.which("git") and (root / ".git").exists():
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=root, capture_output=True, check=True).stdout.decode("utf-8")
        return sorted({root / p for p in out.split("\0") if p and (root / p).is_file()})
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        files += [Path(folder) / n for n in names if n != ".env"]
    return sorted(files)


def _secrets() -> list[str]:
    key = os.environ.get("DASHSCOPE_API_KEY", "").strip()
    return [key] if len(key) >= 8 and key != REPLAY_KEY else []


def scan_text(text: str, secrets: Iterable[str] = ()) -> list[str]:
    """Names of the patterns found in a text."""
    found = []
    if KEY_SHAPED.search(text):
        found.append("key-shaped string sk-…")
    if BEARER.search(text):
        found.append("Bearer token")
    if any(s and s in text for s in secrets):
        found.append("the value of DASHSCOPE_API_KEY")
    return found


def _strings(value, where: str = "") -> Iterator[tuple[str, str]]:
    """Every (json path, string) in a JSON value, keys included."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{where}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield f"{where}.{k} (key)", str(k)
            yield from _strings(v, f"{where}.{k}")


def _scan_notebook(path: Path, data: dict, secrets: list[str]) -> Iterator[Finding]:
    for n, cell in enumerate(data.get("cells", [])):
        for where, text in _strings(cell.get("outputs", []), f"cell {n} outputs"):
            for what in scan_text(text, secrets):
                yield Finding(str(path), where, what)


def _scan_recording(path: Path, data: dict, secrets: list[str]) -> Iterator[Finding]:
    for n, exchange in enumerate(data.get("exchanges", []), 1):
        for where, text in _strings(exchange, f"exchange {n}"):
            if where.endswith("(key)") and text.lower() in ("authorization", "x-api-key", "api-key"):
                yield Finding(str(path), where, f"{text} header")
            for what in scan_text(text, secrets):
                yield Finding(str(path), where, what)


def scan_file(path: Path, secrets: Iterable[str] = ()) -> list[Finding]:
    secrets = list(secrets)
    try:
        raw = path.read_bytes()
    except OSError:
        return []
    if b"\0" in raw[:4096]:
        return []  # binary
    text = raw.decode("utf-8", errors="replace")
    findings = [Finding(str(path), f"line {n}", what)
                for n, line in enumerate(text.splitlines(), 1) for what in scan_text(line, secrets)]
    if path.suffix in (".ipynb", ".json"):
        try:  # look inside too: JSON escapes (\u0073k-…) would hide a key from the line scan
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and path.suffix == ".ipynb":
            findings += _scan_notebook(path, data, secrets)
        elif isinstance(data, dict) and "exchanges" in data:
            findings += _scan_recording(path, data, secrets)
    return findings


def scan(paths: Iterable[Path], secrets: Iterable[str] = ()) -> list[Finding]:
    secrets = list(secrets)
    return [f for p in paths for f in scan_file(p, secrets)]


# --- the kit itself ---------------------------------------------------------------------------
def test_no_secrets_in_any_committed_file():
    files = project_files()
    assert any(p.suffix == ".py" for p in files) and len(files) > 10
    findings = scan(files, _secrets())
    assert not findings, "\n".join(map(str, findings))


def test_every_notebook_and_recording_is_scanned():
    files = set(project_files())
    notebooks = set(KIT_ROOT.glob("notebooks/*.ipynb"))
    recordings = set(KIT_ROOT.glob("notebooks/recordings/*.json"))
    assert notebooks and recordings
    assert notebooks <= files and recordings <= files  # none of them is git-ignored


def test_env_is_ignored_and_not_tracked():
    lines = [line.strip() for line in (KIT_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()]
    assert ".env" in lines
    if not (shutil.which("git") and (KIT_ROOT / ".git").exists()):
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files", ".env"], cwd=KIT_ROOT, capture_output=True, text=True,
                             check=True).stdout
    assert tracked.strip() == ""
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=KIT_ROOT)
    assert ignored.returncode == 0, ".env must be git-ignored"
    assert KIT_ROOT / ".env" not in set(project_files())


# --- the scanner catches what it should ---------------------------------------------------------
def test_scanner_catches_a_planted_key(tmp_path):
    (tmp_path / "notes.md").write_text(f"my key: {FAKE_KEY}\n", encoding="utf-8")
    (tmp_path / "clean.py").write_text('KEY = "sk-…"  # placeholder, not a key\n', encoding="utf-8")
    notebook = {"cells": [{"cell_type": "code", "source": "print(key)", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": ["Authorization: Bearer " + "t0ken" * 8 + "\n"]}]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "lesson.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    recording = {"format": "llm-course-recordings/1", "exchanges": [{
        "name": "x", "source": "recorded", "request": {"method": "POST", "path": "/x", "headers": {
            "Authorization": "***"}, "body": {"note": "\\u0073k-escaped"}},
        "response": {"status": 200, "body": {"echo": FAKE_KEY}}}]}
    # ensure_ascii hides the key from a line scan: only the JSON-aware pass can see it
    (tmp_path / "rec.json").write_text(json.dumps(recording, ensure_ascii=True).replace("sk-", "\\u0073k-"),
                                       encoding="utf-8")
    (tmp_path / "other.txt").write_text("DASHSCOPE_API_KEY=my-own-secret-value\n", encoding="utf-8")

    findings = scan(sorted(tmp_path.iterdir()), secrets=["my-own-secret-value"])
    by_file = {}
    for f in findings:
        by_file.setdefault(Path(f.path).name, set()).add(f.what)
    assert by_file["notes.md"] == {"key-shaped string sk-…"}
    assert by_file["lesson.ipynb"] == {"Bearer token"}
    assert by_file["rec.json"] == {"key-shaped string sk-…", "Authorization header"}
    assert by_file["other.txt"] == {"the value of DASHSCOPE_API_KEY"}
    assert "clean.py" not in by_file
    assert all(FAKE_KEY not in str(f) for f in findings), "reports never repeat the secret"


def test_fallback_walk_skips_the_virtualenv(tmp_path, monkeypatch):
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text(f"k = '{FAKE_KEY}'\n", encoding="utf-8")
    (tmp_path / ".env").write_text(f"DASHSCOPE_API_KEY={FAKE_KEY}\n", encoding="utf-8")
    (tmp_path / "a.py").write_text("print('hi')\n", encoding="utf-8")
    assert [p.name for p in project_files(tmp_path)] == ["a.py"]


# --- the doctor report --------------------------------------------------------------------------
def test_doctor_report_is_redacted(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text(f"DASHSCOPE_API_KEY={FAKE_KEY}\nLLM_MODE=replay\n", encoding="utf-8")
    monkeypatch.setenv("LLM_ENV_FILE", str(env))
    try:
        settings = helpers.setup()
        assert settings.api_key == FAKE_KEY
        report = helpers.doctor.report()
        text = str(report)
        saved = report.save(tmp_path / "doctor-report.txt").read_text(encoding="utf-8")
        for out in (text, saved, repr(settings), str(settings)):
            assert FAKE_KEY not in out and not scan_text(out, [FAKE_KEY])
        assert FAKE_KEY[:5] in text  # recognisable: sk-f4…
        monkeypatch.setenv("DASHSCOPE_API_KEY", FAKE_KEY)
        assert FAKE_KEY not in redact(f"key={FAKE_KEY}; Authorization: Bearer {FAKE_KEY}")
    finally:
        monkeypatch.undo()
        helpers.setup()
