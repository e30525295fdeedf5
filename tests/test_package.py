"""The shape of the helpers package: each module imports alone, no import circle, the replay
machinery stays out of the learner modules, one name means one thing, modules stay short."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "helpers"
MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py"))
LEARNER = [m for m in MODULES if not m.startswith("helpers.replay")]


def _module_level_imports(module: str) -> set[str]:
    """helpers.* modules imported when ``module`` is imported (not inside functions)."""
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:  # top level only
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]:
            if isinstance(sub, ast.Import):
                found |= {a.name for a in sub.names if a.name.startswith("helpers")}
            elif isinstance(sub, ast.ImportFrom):
                base = package.split(".")
                base = base[:len(base) - sub.level + 1] if sub.level else []
                target = ".".join(base + ([sub.module] if sub.module else []))
                if not target.startswith("helpers"):
                    continue
                for alias in sub.names:  # "from . import doctor" imports a module
                    full = f"{target}.{alias.name}"
                    found.add(full if full in MODULES else target)
    return {m for m in found if m in MODULES and m != module}


def test_no_import_circle():
    graph = {m: _module_level_imports(m) for m in MODULES}
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                pytest.fail("import circle: " + " → ".join(path[path.index(nxt):] + [node, nxt])
                            if nxt in path else f"import circle through {node} → {nxt}")
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = "done"

    for module in MODULES:
        if module not in state:
            visit(module, [])
    assert graph["helpers.llm"] >= {"helpers.config", "helpers.errors"}  # the graph is not empty
    assert not any(dep.startswith("helpers.replay") for mod in LEARNER for dep in graph[mod])


def test_each_module_imports_alone_and_learner_modules_leave_replay_unloaded():
    """A fresh interpreter per module: it imports on its own (no circle that only works in one
    order), and a learner module does not load helpers.replay or Jupyter."""
    code = ("import importlib, sys\n"
            "for name in sys.argv[1:]:\n"
            "    for m in [k for k in sys.modules if k.startswith('helpers')]:\n"
            "        del sys.modules[m]\n"
            "    importlib.import_module(name)\n"
            "    bad = sorted(m for m in sys.modules if m.startswith('helpers.replay')\n"
            "                 or m.split('.')[0] in ('IPython', 'ipywidgets', 'ipykernel'))\n"
            "    print(name, ','.join(bad) or '-')\n")
    for module in MODULES:  # one interpreter each: import order cannot hide a circle
        out = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True,
                             cwd=ROOT, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        name, loaded = out.stdout.split()
        if module in LEARNER:
            assert loaded == "-", f"{module} loads {loaded} at import time"


def test_helpers_chat_keeps_its_type_after_importing_every_module():
    code = ("import importlib, sys, helpers\n"
            "before = type(helpers.chat)\n"
            f"for name in {MODULES!r}:\n"
            "    importlib.import_module(name)\n"
            "print(before.__name__, type(helpers.chat).__name__, helpers.chat is helpers.llm.chat)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["function", "function", "True"]


def test_every_public_name_is_there():
    import helpers

    for name in helpers.__all__:
        assert getattr(helpers, name) is not None, name
    assert "inject_fault" in helpers.__all__ and "rate_limit" in helpers.faults()


@pytest.mark.parametrize("module", LEARNER)
def test_learner_modules_are_short_and_name_their_lesson(module):
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 220, f"{path.name}: {len(text.splitlines())} lines"
    doc = ast.get_docstring(ast.parse(text)) or ""
    if module != "helpers":  # the package docstring describes the whole API
        assert "esson" in doc.split("\n")[0] or "第" in doc.split("\n")[0], doc.split("\n")[0]


def test_the_repository_stands_alone():
    """Nothing cites the reference notes outside the repository; docs/ holds what we use."""
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    found = [name for name in tracked.stdout.splitlines()
             if (ROOT / name).is_file() and "shared/" + "reference"
             in (ROOT / name).read_text(encoding="utf-8", errors="replace")]
    assert not found
    for doc in ("dashscope-wire", "notebook-testing", "recordings"):
        assert (ROOT / "docs" / f"{doc}.md").is_file()


@pytest.mark.parametrize("program", [["helpers.ending", "--help"], ["helpers.project1", "--help"],
                                     ["helpers.doctor", "{tmp}/report.txt"]])
def test_programs_run_once_without_a_double_import_warning(program, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in program]
    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "RuntimeWarning" not in out.stderr, out.stderr[-1000:]
