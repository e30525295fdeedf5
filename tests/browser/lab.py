"""The browser suite's machinery: a JupyterLab of the kit's own on a free port, in a
temporary folder, and Debian's Chromium driven by Playwright for Python.

Nothing in the repository changes: the lessons are copied to a temporary folder, HOME and
JupyterLab's user settings and workspaces point into it, the kit's own settings
(``.venv/share/jupyter/lab/settings/overrides.json``, installed by ``make install``) still
apply. Replay mode, no key, no ``.env``. Two servers share the copy: one at realistic
pacing (LLM_REPLAY_SPEED=1) for lessons that stream and the chat widget, one without delays
(LLM_REPLAY_SPEED=0, as nbval runs them) for the others, which keeps the suite short.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("BROWSER_OUTPUT", ROOT / "tests" / "browser" / "output"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's hosts, which a
# closed network refuses many times a second.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TOKEN = "browser-suite"
# A projector (1280×800) and the same screen at 125% browser zoom: 1024×640 CSS pixels,
# each 1.25 device pixels, exactly what Chromium's zoom does to a page's layout.
VIEWS = {"100": dict(viewport={"width": 1280, "height": 800}, device_scale_factor=1),
         "125": dict(viewport={"width": 1024, "height": 640}, device_scale_factor=1.25)}
# Measuring needs every cell laid out: JupyterLab's default windowing skips cells off screen.
USER_SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
                 {"windowingMode": "none"}}


def lessons() -> list[Path]:
    """Every lesson (NN_name and NNb_name), so a new lesson is in the suite the day it lands."""
    from helpers.replay.rebuild import lesson_notebooks  # the one list of lessons

    return lesson_notebooks(ROOT / "notebooks")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """``jupyter lab`` in a temporary copy of notebooks/; stopped by ``close``."""

    def __init__(self, tmp: Path, speed: str = "1") -> None:
        self.tmp = tmp
        self.root = tmp / "notebooks"  # one copy, shared by the servers of one run
        if not self.root.exists():
            shutil.copytree(ROOT / "notebooks", self.root,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "kb_index"))
            # Lesson 04 reads the kit's development examples at ../bench/data.
            shutil.copytree(ROOT / "bench" / "data", tmp / "bench" / "data")
        tmp = tmp / f"speed-{speed}"
        home, settings = tmp / "home", tmp / "lab-user-settings"
        for name, value in USER_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(value))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DASHSCOPE_", "OPENAI_", "LLM_", "JUPYTER"))}
        env.update(HOME=str(home), LLM_MODE="replay", LLM_ENV_FILE="none",
                   LLM_REPLAY_SPEED=speed,
                   JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"),
                   MPLCONFIGDIR=str(tmp / "mpl"), PYTHONDONTWRITEBYTECODE="1")
        self.log_path = tmp / "jupyter.log"
        root_flag = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        for attempt in range(3):  # another process may take the free port before Lab binds it
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.log = open(self.log_path, "w")
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyter", "lab", "--no-browser", *root_flag,
                 f"--port={self.port}", "--ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
                 f"--ServerApp.root_dir={self.root}", "--ServerApp.port_retries=0",
                 "--LabApp.news_url=", "--ServerApp.disable_check_xsrf=False"],
                cwd=self.root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
            if self._wait(last=attempt == 2):
                return
            self.proc.kill()
            self.proc.wait()
            self.log.close()

    def api(self, path: str, method: str = "GET") -> object:
        req = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                     headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def _wait(self, timeout: float = 90, last: bool = True) -> bool:
        """True once Lab answers; False (or, on the last attempt, an error) if the port was taken."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if last:
                    raise RuntimeError(f"jupyter lab exited: {self.log_path.read_text()}")
                return False
            try:
                self.api("status")
                return True
            except http.client.HTTPException:  # something else answers on the port
                if last:
                    raise
                return False
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("jupyter lab did not answer within 90 s")

    def open_url(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?reset&token={TOKEN}"

    def shutdown_kernels(self) -> None:
        for session in self.api("sessions") or []:
            self.api(f"sessions/{session['id']}", method="DELETE")

    def close(self) -> None:
        try:
            self.shutdown_kernels()
        except OSError:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
