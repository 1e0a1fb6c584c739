"""`make lab` starts a JupyterLab whose API answers and whose default kernel is the project's.

The server is started with the arguments of the Makefile's ``lab`` recipe (so the test
and the command cannot drift apart), on a free port of 127.0.0.1 only, with a token and
no browser; every wait is bounded and the server is always stopped.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from feedbacklib.runner import KERNEL_NAME, _project_kernel

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60  # seconds for the server to answer
STOP_TIMEOUT = 10


def _lab_arguments() -> list[str]:
    """The arguments after ``jupyter lab`` in the Makefile's ``lab`` recipe."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lab:.*\n\t(.+)$", makefile, re.M)
    assert recipe, "the Makefile has no lab target"
    words = shlex.split(recipe.group(1))
    assert words[0].endswith("jupyter") and words[1] == "lab", recipe.group(1)
    return [w for w in words[2:] if not w.startswith("$(")]  # make variables (e.g. $(LAB_FLAGS))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read().decode("utf-8"))


def test_make_lab_arguments_select_the_project_kernel():
    args = _lab_arguments()
    assert "--notebook-dir=notebooks" in args
    assert f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}" in args


def test_jupyter_lab_starts_and_lists_the_project_kernel(tmp_path):
    port, token = _free_port(), os.urandom(16).hex()
    command = [
        sys.executable, "-m", "jupyterlab", *_lab_arguments(),
        "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
        "jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI runners often run as root
        command.append("--allow-root")
    log = (tmp_path / "lab.log").open("w+", encoding="utf-8")
    base = f"http://127.0.0.1:{port}"
    with _project_kernel():  # a kernelspec named feedbacklib, pinned to this interpreter, on JUPYTER_PATH
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
               "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces")}
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        status = None
        while time.monotonic() < deadline:
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"jupyter lab exited with {server.returncode}:\n{log.read()[-3000:]}")
            try:
                status = _get(f"{base}/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        if status is None:
            log.seek(0)
            pytest.fail(f"jupyter lab did not answer within {START_TIMEOUT} s:\n{log.read()[-3000:]}")
        assert status[0] == 200 and "started" in status[1]

        code, specs = _get(f"{base}/api/kernelspecs", token)
        assert code == 200
        assert KERNEL_NAME in specs["kernelspecs"], sorted(specs["kernelspecs"])
        assert specs["default"] == KERNEL_NAME
        assert specs["kernelspecs"][KERNEL_NAME]["spec"]["display_name"] == "Python (feedbacklib)"

        with pytest.raises(urllib.error.HTTPError) as denied:  # the token is required
            urllib.request.urlopen(f"{base}/api/kernelspecs", timeout=5)
        assert denied.value.code == 403
    finally:
        server.terminate()
        try:
            server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=STOP_TIMEOUT)
        log.close()


def test_progress_bars_are_widgets_in_jupyterlab(monkeypatch):
    """The lab extra brings ipywidgets, so a bar in a kernel is tqdm's widget, not a pink stderr block."""
    pytest.importorskip("ipywidgets", reason="pip install -e '.[lab]' (make install does)")
    from tqdm.notebook import tqdm as widget_bar

    from feedbacklib import progress as P

    monkeypatch.setattr(P, "in_jupyter_kernel", lambda: True)
    assert P._bar_class() is widget_bar
    monkeypatch.setattr(P, "in_jupyter_kernel", lambda: False)
    assert P._bar_class() is not widget_bar  # a terminal keeps the text bar


def test_the_lab_extra_is_installed_by_make():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    extras = re.search(r"^EXTRAS \?= (.+)$", makefile, re.M)
    assert extras and "lab" in extras.group(1).split(",") and "test" in extras.group(1).split(",")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    lab = re.search(r'^lab = \[(.*?)\]', pyproject, re.M | re.S)
    assert lab and all(f'"{name}' in lab.group(1) for name in ("jupyterlab", "itables", "ipywidgets"))
