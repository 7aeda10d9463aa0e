"""The checkpoints through the language server: smallcode.diff with a `range` shows what the checkpoints hold
(without one, the run's proposed edits as before), smallcode.undo takes /undo's words (`list`, `redo`), and a
redo puts an open document's text back through workspace/applyEdit. Real server subprocess, scripted model,
buffer-keeping test client (tests/e2e/test_lsp_server.py)."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_lsp import LanguageClient

from tests.e2e import test_lsp_server as base
from tests.e2e.test_lsp_server import CALC, FIXED, Editor, command
from tests.support.scripted_server import ScriptedModelServer

client, lsp_options, project = base.client, base.lsp_options, base.project

SCRIPT = [
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
    {
        "tool_calls": [
            {
                "name": "patch",
                "arguments": {"path": "calc.py", "search": "return a - b", "replace": "return a + b"},
            },
            {"name": "bash", "arguments": {"command": "echo made by the shell > shell.txt"}},
        ]
    },
    {"content": "Fixed add."},
]


@pytest.mark.parametrize("lsp_options", [{"applyMode": "auto"}])
async def test_diff_ranges_undo_list_and_redo_through_the_editor(
    client: LanguageClient, model_server: ScriptedModelServer, lsp_options: dict[str, Any]
) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    editor.buffer_only = True
    editor.saver = "saves"
    root = client.root  # type: ignore[attr-defined]
    uri = editor.open(root / "calc.py")
    model_server.extend(SCRIPT)
    answer = await command(client, "smallcode.ask", {"prompt": "fix add", "uri": uri})
    assert answer["data"]["success"] is True, answer

    proposed = await command(client, "smallcode.diff")  # unchanged: the edits proposed in this run
    assert "+    return a + b" in proposed["text"] and proposed["data"]["edits"], proposed
    last = await command(client, "smallcode.diff", {"range": ""})
    assert last["ok"] is True and "+    return a + b" in last["text"] and "+made by the shell" in last["text"]
    listing = await command(client, "smallcode.undo", {"args": "list"})
    assert listing["ok"] is True and len(listing["data"]["runs"]) == 1, listing

    undone = await command(client, "smallcode.undo", {"uri": uri})
    assert undone["ok"] is True, undone
    assert editor.buffers[uri] == CALC and not (root / "shell.txt").exists()  # the shell's file too
    redone = await command(client, "smallcode.undo", {"args": "redo", "uri": uri})
    assert redone["ok"] is True and "redid" in redone["text"], redone
    assert editor.buffers[uri] == FIXED and (root / "calc.py").read_text() == FIXED
    assert (root / "shell.txt").read_text() == "made by the shell\n"
    bad = await command(client, "smallcode.undo", {"args": "run 7"})
    assert bad["ok"] is False and "no run '7'" in bad["text"]
