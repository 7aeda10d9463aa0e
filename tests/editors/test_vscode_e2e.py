"""A real VS Code (code-server 4.139 + headless Chromium) with the packaged extension: "SmallCode: Ask…" on a
selection runs the agent against the scripted model server and the file changes, saved when the server asks
(smallcode/saveDocuments); code lenses and code actions come from the server; the Budget palette entry renders
the context budget; in preview mode the proposed edit waits in VS Code's refactor preview and opens in the diff
editor before it is accepted; discarded there, it never reaches the file and the model hears why.

The extension's self-test mode (SMALLCODE_VSCODE_SELFTEST) drives the commands from inside VS Code and writes
what it saw to a file. Needs tests/editors/setup_code_server.sh; CI runs it and sets SMALLCODE_E2E_VSCODE=1.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.editors.vscode_env import REPO, VSCode, build_vsix, missing_tools, wait_for
from tests.support.scripted_server import ScriptedModelServer

pytestmark = pytest.mark.slow

_missing = missing_tools()
if _missing and not os.environ.get("SMALLCODE_E2E_VSCODE"):
    pytest.skip(
        f"real VS Code not available: {_missing} (set SMALLCODE_E2E_VSCODE=1 to require it)",
        allow_module_level=True,
    )

BUGGY = "def add(a, b):\n    return a - b\n\n\n# agent: add a docstring\ndef sub(a, b):\n    return a - b\n"


def _patch(search: str, replace: str) -> dict[str, object]:
    return {
        "tool_calls": [
            {"name": "patch", "arguments": {"path": "calc.py", "search": search, "replace": replace}}
        ]
    }


def test_vscode_ask_changes_the_file_and_previewed_edits_wait_for_the_user(
    tmp_path: Path, model_server: ScriptedModelServer
) -> None:
    assert missing_tools() is None, missing_tools()
    model_server.extend(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
            _patch("    return a - b\n\n\n# agent", "    return a + b\n\n\n# agent"),
            {"content": "Fixed add."},
            _patch("def sub(a, b):\n", 'def sub(a, b):\n    """a minus b"""\n'),
            {"content": "Left sub as it is."},
        ]
    )
    project = tmp_path / "proj"
    project.mkdir()
    target = project / "calc.py"
    target.write_text(BUGGY)
    vscode = VSCode(tmp_path / "vscode", build_vsix())
    vscode.write_settings(
        {
            "smallcode.server.pythonCommand": sys.executable,
            "smallcode.baseUrl": model_server.base_url,
            "smallcode.model": "scripted-model",
            "smallcode.applyMode": "auto",
            "smallcode.retries": 0,
            "smallcode.completion": False,
        }
    )
    result_file = tmp_path / "selftest.json"
    env = {
        "SMALLCODE_VSCODE_SELFTEST": str(result_file),
        "SMALLCODE_SELFTEST_FILE": "calc.py",
        "SMALLCODE_SELFTEST_PROMPT": "fix the bug in add",
        "SMALLCODE_SELFTEST_PREVIEW_PROMPT": "add a docstring to sub",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    with vscode.opened(project, env):
        try:
            wait_for("the extension's self-test", result_file.exists, 150)
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n{vscode.log_tail()}")
    result = json.loads(result_file.read_text())
    assert result["ok"], f"{result.get('error')}\nsteps: {result['steps']}\n{vscode.log_tail()}"

    # Ask…: the agent's patch is in the editor, and saved (the server asked through smallcode/saveDocuments)
    fixed = BUGGY.replace("return a - b\n\n\n# agent", "return a + b\n\n\n# agent")
    # The answer, then whether the run was verified (this project has no tests).
    assert result["askText"] == "Fixed add.\nnot verified: no tests found for this project"
    assert result["editorText"] == fixed
    assert result["diskAfterAsk"] == fixed and result["dirtyAfterAsk"] is False
    assert "fix the bug in add" in model_server.requests[0]["messages"][-1]["content"]
    assert "def add(a, b):" in model_server.requests[0]["messages"][-1]["content"]  # the selection as context

    # the server's lenses and code actions reach VS Code
    assert "▶ Ask SmallCode" in result["lenses"]
    assert any("Ask SmallCode" in title for title in result["codeActions"])

    # the Budget palette entry renders the server's JSON; the status item shows the model and the budget
    assert "tokens used" in result["budgetHtml"] and 'class="seg"' in result["budgetHtml"]
    assert result["status"]["text"].endswith("scripted-model")
    assert "tokens · idle" in result["status"]["detail"]

    # preview mode: nothing changes until accepted; the diff editor shows the proposed text meanwhile
    assert result["textWhilePending"] == fixed
    assert result["diffTab"]["original"].startswith("smallcode-diff:")
    assert '"""a minus b"""' in result["diffAfter"]
    # the user discards it there: the file stays as it was, and the model is told the edit was rejected
    assert result["textAfterPreview"] == fixed
    assert result["diskAfterPreview"] == fixed
    assert target.read_text() == fixed
    assert result["previewReply"].splitlines()[0] == "Left sub as it is."
    told = json.dumps(model_server.requests[-1]["messages"][-1])
    assert "rejected" in told, told
