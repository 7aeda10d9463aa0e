"""Headless Neovim for the plugin's tests: one run of a script in tests/editors/nvim/ against the real server,
with the plugin on the runtimepath and the state folders kept in the test's own tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
REPO = HERE.parents[1]
PLUGIN = REPO / "neovim-plugin"


def nvim_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment for a test's Neovim: its state, data and config folders in `tmp_path` (nothing of the
    user's), this repository importable by the server it starts, and `extra`."""
    return {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        **extra,
    }


def plugin_env(tmp_path: Path, base_url: str, **extra: str) -> dict[str, str]:
    """The environment of a plugin test script (nvim_env): this repository's server and plugin (SC_PLUGIN,
    SC_PYTHON), the model server (SC_BASE_URL) and the server's log (SC_LOG)."""
    return nvim_env(
        tmp_path,
        SC_PLUGIN=str(PLUGIN),
        SC_PYTHON=sys.executable,
        SC_BASE_URL=base_url,
        SC_LOG=str(tmp_path / "server.log"),
        **extra,
    )


def run_nvim(tmp_path: Path, script: str, target: Path, base_url: str, **extra: str) -> dict[str, Any]:
    """Headless Neovim running tests/editors/nvim/SCRIPT on `target`'s project; what the script wrote."""
    result_file = tmp_path / "result.json"
    env = plugin_env(tmp_path, base_url, SC_FILE=str(target), SC_RESULT=str(result_file), **extra)
    proc = subprocess.run(
        ["nvim", "--headless", "--clean", "-n", "-u", str(HERE / "nvim" / script)],
        env=env,
        cwd=target.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result_file.exists(), f"nvim wrote no result (rc {proc.returncode}): {proc.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(result_file.read_text())
    log = (tmp_path / "server.log").read_text() if (tmp_path / "server.log").exists() else ""
    assert result["ok"], f"{result}\n--- server log ---\n{log[-3000:]}"
    return result
