"""The install path and the first-hour commands: tools/install.py, tools/restore.py, `make chat`.

Real processes throughout: the installer and restore script run as learners run them (in
temporary folders), `make chat` in a pseudo-terminal with a real Ctrl-C.
"""
from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def requirement_name(spec: str) -> str:
    return re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_constraints_pin_every_dependency_of_pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {requirement_name(s) for s in project["dependencies"]}
    for extra in ("test",):
        wanted |= {requirement_name(s) for s in project["optional-dependencies"][extra]}
    lines = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pinned = {line.split("==")[0].strip().lower() for line in lines if "==" in line
              and not line.startswith((" ", "#"))}
    missing = sorted(wanted - pinned)
    assert not missing, f"not pinned in constraints.txt: {missing}; run `make constraints`"
    assert "uv" in pinned, "the uv that tools/install.py bootstraps is pinned too"


def run_installer(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    (folder / "tools").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "tools" / "install.py", folder / "tools" / "install.py")
    (folder / "jupyter").mkdir(exist_ok=True)
    shutil.copy2(ROOT / "jupyter" / "overrides.json", folder / "jupyter" / "overrides.json")
    return subprocess.run([sys.executable, str(folder / "tools" / "install.py"), *args],
                          capture_output=True, text=True, env={**os.environ, **env},
                          timeout=120)


@pytest.mark.skipif(os.name == "nt", reason="a POSIX venv layout")
def test_a_broken_venv_is_explained_not_reinstalled_over(tmp_path: Path):
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(tmp_path / "python-that-was-uninstalled")
    result = run_installer(tmp_path)
    assert result.returncode == 1
    assert ".venv 已损坏" in result.stdout and "make clean" in result.stdout
    assert (bin_dir / "python").is_symlink(), "nothing deleted without the learner's command"


def test_jupyter_setup_merges_the_kit_settings_where_jupyterlab_reads_them(tmp_path: Path):
    app_dir = tmp_path / "lab"
    settings = app_dir / "settings" / "overrides.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "x"}}))
    result = run_installer(tmp_path, "--jupyter", JUPYTERLAB_DIR=str(app_dir), CI="1")
    assert result.returncode == 0, result.stdout + result.stderr
    merged = json.loads(settings.read_text(encoding="utf-8"))
    assert merged["@jupyterlab/apputils-extension:themes"] == {"theme": "x"}  # kept
    assert merged["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    kernels = merged["@jupyterlab/apputils-extension:kernels-settings"]
    assert kernels["commsOverSubshells"] == "disabled"  # lets ■ interrupt widget callbacks
    spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "llm-course" / "kernel.json"
    kernel = json.loads(spec.read_text(encoding="utf-8"))
    assert kernel["display_name"] == "Python 3 (大模型工程化之路)"
    assert Path(kernel["argv"][0]).resolve() == Path(sys.executable).resolve()


def test_the_settings_go_to_the_folder_jupyterlab_reads(tmp_path: Path):
    from jupyterlab.commands import get_app_dir

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import install
    finally:
        sys.path.remove(str(ROOT / "tools"))
    assert install.jupyter_settings_path() == Path(get_app_dir()).resolve() / "settings" / \
        "overrides.json"


def test_the_kernel_spec_is_the_one_ipykernel_would_write():
    from ipykernel.kernelspec import get_kernel_dict

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import install
    finally:
        sys.path.remove(str(ROOT / "tools"))
    cpython = platform.python_implementation() == "CPython"
    frozen = ["-Xfrozen_modules=off"] if cpython else []
    expected = {**get_kernel_dict(python_arguments=frozen),
                "display_name": "Python 3 (大模型工程化之路)"}
    assert install.kernel_spec() == expected


def test_the_kit_settings_exist_in_this_jupyterlab_schema():
    """A misspelt plugin or key in overrides.json is silently ignored by JupyterLab."""
    from jupyterlab.commands import get_app_dir

    schemas = Path(get_app_dir()) / "schemas"
    for plugin, values in json.loads((ROOT / "jupyter" / "overrides.json").read_text()).items():
        package, name = plugin.split(":")
        schema = json.loads((schemas / package / f"{name}.json").read_text(encoding="utf-8"))
        for key, value in values.items():
            prop = schema["properties"][key]
            allowed = [c["const"] for c in prop.get("oneOf", []) if "const" in c]
            assert not allowed or value in allowed, (plugin, key, value, allowed)


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          cwd=folder, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_restore_keeps_the_learners_versions_and_brings_back_the_shipped_ones(tmp_path: Path):
    (tmp_path / "tools").mkdir()
    shutil.copy2(ROOT / "tools" / "restore.py", tmp_path / "tools" / "restore.py")
    lesson = tmp_path / "notebooks" / "06_项目.ipynb"
    lesson.parent.mkdir()
    lesson.write_text("shipped", encoding="utf-8")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "kit")
    lesson.write_text("mine", encoding="utf-8")
    (lesson.parent / "copy.ipynb").write_text("my new one", encoding="utf-8")
    script = [sys.executable, str(tmp_path / "tools" / "restore.py")]
    hint = subprocess.run([*script, "--hint"], capture_output=True, text=True).stdout
    assert "notebooks/06_项目.ipynb" in hint and "make restore" in hint
    done = subprocess.run([*script, "--yes"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert lesson.read_text(encoding="utf-8") == "shipped"
    assert not (lesson.parent / "copy.ipynb").exists()
    saved = {p.name: p.read_text(encoding="utf-8")
             for p in (tmp_path / "my-work").rglob("*.ipynb")}
    assert saved == {"06_项目.ipynb": "mine", "copy.ipynb": "my new one"}
    again = subprocess.run([*script, "--hint"], capture_output=True, text=True).stdout
    assert again == ""


@pytest.mark.skipif(shutil.which("make") is None or os.name == "nt", reason="needs make and a pty")
def test_ctrl_c_at_the_prompt_under_make_chat_exits_0():
    pexpect = pytest.importorskip("pexpect")
    module = "helpers.project1" if importlib.util.find_spec("helpers.project1") else "helpers.chat"
    args = ["-s", "-o", ".venv/.installed-stamp", "chat", f"CHAT_MODULE={module}",
            f"BIN={Path(sys.executable).parent}"]
    child = pexpect.spawn("make", args, cwd=str(ROOT), env=dict(os.environ), encoding="utf-8",
                          timeout=60)
    child.expect("Ctrl-D")  # the last line before the prompt
    child.expect("你：")
    child.sendintr()
    child.expect("感谢您的咨询，再见")
    child.expect(pexpect.EOF)
    child.close()
    assert (child.signalstatus, child.exitstatus) == (None, 0)
