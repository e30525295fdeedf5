"""The kit's one install path. `make lab`, `make test`, `.ci/run` and Windows users all run it.

    python tools/install.py            # create .venv, install the pinned set, set up Jupyter
    python tools/install.py --jupyter  # only the Jupyter part, in the running environment
                                       # (the conda route, after `conda activate llm-course`)
    UV=false python tools/install.py   # install with pip instead of uv

Installer: uv when it can be had (the UV variable names one, else `uv` on PATH, else it is
installed into .venv with pip, a 2-second step), pip otherwise, with pip's own per-package
progress; one line says which and why. Both install `-e .[test]` under `constraints.txt`, the
tested pins (`make constraints` refreshes them). The Jupyter part registers the kernel
"Python 3 (大模型工程化之路)" for this environment and for the user (so VS Code and Anaconda
Navigator list it) and merges `jupyter/overrides.json` into the JupyterLab settings this
environment's JupyterLab reads. Standard library only: it runs before anything is installed,
and under Python 3.9 too, to say that 3.9 is too old.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
CONSTRAINTS = ROOT / "constraints.txt"
OVERRIDES = ROOT / "jupyter" / "overrides.json"
STAMP = VENV / ".installed-stamp"
KERNEL, KERNEL_DISPLAY = "llm-course", "Python 3 (大模型工程化之路)"
WINDOWS = os.name == "nt"
OFF = {"false", "0", "no", "off", "pip"}


def say(text: str = "") -> None:
    print(text, flush=True)


def fail(text: str) -> None:
    say(f"✗ {text}")
    sys.exit(1)


def venv_python(venv: Path = VENV) -> Path:
    return venv / ("Scripts/python.exe" if WINDOWS else "bin/python")


def runs(cmd: list, **kwargs) -> bool:
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              **kwargs).returncode == 0
    except OSError:
        return False


def check_python() -> None:
    if sys.version_info >= (3, 10):
        return
    found = sys.version.split()[0]
    fail(f"需要 Python 3.10 或更新版本（找到的是 {found}）。\n"
         "  macOS：brew install python@3.11（或 python.org 的安装包）；"
         "Windows：winget install Python.Python.3.11（或用 Anaconda，见 README）。\n"
         f"  Python 3.10+ is required (found {found}): install Python 3.11, or use conda.")


def find_uv(py: Path) -> tuple:
    """(uv command or None, the reason shown to the learner), for an existing .venv at py.

    UV=false: pip. UV=<command>: that one. Else uv on PATH, else the one in .venv, else uv
    is put into .venv with its own pip (`make constraints` pins its version too)."""
    wish = os.environ.get("UV", "").strip()
    if wish.lower() in OFF:
        return None, f"UV={wish}"
    local = py.parent / ("uv.exe" if WINDOWS else "uv")
    for candidate, why in ((wish, "UV"), (shutil.which("uv"), "PATH"), (str(local), ".venv")):
        if candidate and runs([candidate, "--version"]):
            return candidate, f"uv（{why}: {candidate}）"
        if wish:
            return None, f"UV={wish} 不能运行"
    if not has_pip(py):
        return None, ".venv 里没有 pip，无法安装 uv"
    return (str(local), "uv（刚装进 .venv）") if pip_install_uv([str(py), "-m", "pip"]) \
        else (None, "无法下载 uv（网络？）")


def pinned(name: str) -> str:
    """name==version from constraints.txt (one line, not the whole file: pip parses it slowly)."""
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name}=="):
            return line.split(";")[0].strip()
    return name


def pip_install_uv(pip: list, *target: str) -> bool:
    say("· 先用 pip 下载 uv（更快的安装器，约 20 MB）…")
    cmd = [*pip, "install", "--disable-pip-version-check", "--quiet", "--retries", "1",
           "--timeout", "20", *target, pinned("uv")]
    env = {**os.environ, "PIP_REQUIRE_VIRTUALENV": "0", "PIP_ROOT_USER_ACTION": "ignore"}
    return runs(cmd, env=env)


def ready_uv() -> str | None:
    """The uv named by UV, else the one on PATH, if it runs; None for UV=false."""
    wish = os.environ.get("UV", "").strip()
    candidate = None if wish.lower() in OFF else (wish or shutil.which("uv"))
    return candidate if candidate and runs([candidate, "--version"]) else None


def bootstrap_uv_for_new_venv(folder: Path) -> str | None:
    """uv before .venv exists, fetched by this Python's own pip into a temporary folder,
    so .venv is made by uv in a blink instead of by venv+ensurepip (3 s). None: no luck."""
    if os.environ.get("UV", "").strip() or not has_pip(Path(sys.executable)):
        return None  # UV named one (or said false): no fetching
    if not pip_install_uv([sys.executable, "-m", "pip"], "--target", str(folder)):
        return None
    found = sorted(folder.glob("bin/uv*")) + sorted(folder.glob("Scripts/uv*"))
    return str(found[0]) if found else None


def has_pip(py: Path) -> bool:
    return runs([str(py), "-m", "pip", "--version"])


def create_venv(uv: str | None) -> None:
    say(f"· 创建虚拟环境 .venv（Python {sys.version.split()[0]}）…")
    if uv:
        ok = runs([uv, "venv", "--quiet", "--python", sys.executable, str(VENV)])
    else:
        ok = subprocess.run([sys.executable, "-m", "venv", str(VENV)]).returncode == 0
    if not ok:
        shutil.rmtree(VENV, ignore_errors=True)  # ours, just made: a half venv only misleads
        version = "%d.%d" % sys.version_info[:2]
        fail("创建 .venv 失败。Ubuntu/Debian/WSL 请先安装："
             f"sudo apt install python{version}-venv ，再运行 make lab。")


def check_existing_venv(py: Path) -> None:
    if VENV.exists() and not runs([str(py), "-c", "import sys"]):
        fail(".venv 已损坏（里面的 Python 无法运行，常见于升级或移动 Python 之后）。\n"
             "  运行 make clean 删除它，再运行 make lab（Windows：删除 .venv 文件夹后重试）。")


def ensure_pip(py: Path) -> None:
    if has_pip(py) or runs([str(py), "-m", "ensurepip", "--upgrade"]):
        return
    version = "%d.%d" % sys.version_info[:2]
    fail(".venv 里没有 pip（多半是创建时缺少 venv 组件）。"
         f"Ubuntu/Debian/WSL：sudo apt install python{version}-venv ，然后 make clean && make lab。")


def uv_environment() -> dict:
    """A pip mirror set for pip (PIP_INDEX_URL) serves uv too, unless uv has its own."""
    env = dict(os.environ)
    mirror = env.get("PIP_INDEX_URL")
    if mirror and not any(env.get(k) for k in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_INDEX")):
        env["UV_DEFAULT_INDEX"] = mirror
    return env


def run_with_heartbeat(cmd: list, quiet_for: float = 20) -> int:
    """Run pip, pass its lines on, and say "still working" when it is silent for a while
    (it is while it unpacks and compiles 140 packages: a minute without a word)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, encoding="utf-8", errors="replace", bufsize=1)
    started, last = time.monotonic(), [time.monotonic()]

    def relay() -> None:
        for line in proc.stdout:
            print(line, end="", flush=True)
            last[0] = time.monotonic()

    reader = threading.Thread(target=relay, daemon=True)
    reader.start()
    while proc.poll() is None:
        time.sleep(1)
        if time.monotonic() - last[0] >= quiet_for:
            say(f"  …pip 仍在安装（已用 {time.monotonic() - started:.0f} 秒）")
            last[0] = time.monotonic()
    reader.join()
    return proc.returncode


def install() -> int:
    check_python()
    py = venv_python()
    check_existing_venv(py)
    started = time.perf_counter()
    if not VENV.exists():
        with tempfile.TemporaryDirectory(prefix="llm-uv-") as tmp:
            given = ready_uv()
            fetched = None if given else bootstrap_uv_for_new_venv(Path(tmp))
            create_venv(given or fetched)
            if fetched:  # keep it: later installs (after a pyproject change) reuse it
                shutil.copy2(fetched, py.parent / Path(fetched).name)
    uv, why = find_uv(py)
    target = [".[test]", "-c", str(CONSTRAINTS)]
    if uv:
        say(f"· 安装器：{why}。安装课程依赖（首次约 10–60 秒，视网速而定）…")
        cmd = [uv, "pip", "install", "--python", str(py), "-e", *target]
        code = subprocess.run(cmd, cwd=ROOT, env=uv_environment()).returncode
    else:
        say(f"· 安装器：pip（原因：{why}）。pip 较慢（首次约 1–6 分钟），下面逐个显示下载进度…")
        ensure_pip(py)
        cmd = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-e", *target]
        code = run_with_heartbeat(cmd)
    if code != 0:
        fail("安装依赖失败（见上面的错误）。网络慢或在国内：见 README「在中国大陆安装」；"
             "仍不行就 make clean 后重试。")
    if subprocess.run([str(py), str(Path(__file__).resolve()), "--jupyter"]).returncode:
        return 1
    STAMP.write_text(f"installer={'uv' if uv else 'pip'}\n", encoding="utf-8")
    say(f"✓ 安装完成：用时 {time.perf_counter() - started:.0f} 秒（{'uv' if uv else 'pip'}）")
    return 0


def jupyter_settings_path() -> Path:
    """Where this environment's JupyterLab reads overrides.json: <app dir>/settings.

    The app dir as jupyterlab.commands.get_app_dir() finds it for a venv or conda env
    (tests/test_install.py checks they agree); importing that module takes seconds."""
    app_dir = os.environ.get("JUPYTERLAB_DIR") or Path(sys.prefix) / "share" / "jupyter" / "lab"
    return Path(app_dir).resolve() / "settings" / "overrides.json"


def kernel_spec() -> dict:
    """kernel.json as ipykernel's own installer writes it (tests/test_install.py compares),
    written here because importing ipykernel before its first run costs 10 s of compiling."""
    cpython = platform.python_implementation() == "CPython"
    frozen = ["-Xfrozen_modules=off"] if cpython else []  # for debugpy, as ipykernel does
    return {"argv": [sys.executable, *frozen, "-m", "ipykernel_launcher", "-f",
                     "{connection_file}"],
            "display_name": KERNEL_DISPLAY, "language": "python",
            "metadata": {"debugger": True, "supported_encryption": ["curve"]},
            "kernel_protocol_version": "5.5"}


def register_kernel(kernels: Path) -> None:
    import importlib.util

    found = importlib.util.find_spec("ipykernel")  # finds without importing
    if found is None or not found.origin:
        fail("这个环境里没有 ipykernel：先安装课程依赖（make lab，或 conda env create）。")
    folder = kernels / KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    for logo in (Path(found.origin).parent / "resources").glob("logo-*"):
        shutil.copy2(logo, folder / logo.name)
    text = json.dumps(kernel_spec(), indent=1, ensure_ascii=False)
    (folder / "kernel.json").write_text(text + "\n", encoding="utf-8")


def setup_jupyter() -> int:
    """Kernel + JupyterLab settings for the running environment (venv or conda)."""
    register_kernel(Path(sys.prefix) / "share" / "jupyter" / "kernels")
    user = not os.environ.get("CI")  # CI leaves the home folder alone
    if user:  # VS Code and Anaconda Navigator look in the user's kernel folder
        from jupyter_core.paths import jupyter_data_dir

        register_kernel(Path(jupyter_data_dir()) / "kernels")
    path = jupyter_settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for plugin, values in json.loads(OVERRIDES.read_text(encoding="utf-8")).items():
        merged.setdefault(plugin, {}).update(values)  # other people's settings stay
    path.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    where = "本环境" + ("和当前用户" if user else "")
    say(f"· 内核「{KERNEL_DISPLAY}」已注册到{where}；JupyterLab 设置：{path}")
    return 0


if __name__ == "__main__":
    sys.exit(setup_jupyter() if "--jupyter" in sys.argv[1:] else install())
