"""Preview mode never writes to disk: through an accept/reject cycle the files stay as the user saved them, an
accepted edit lands in the buffer, a rejected one stays out, and the agent's checks judge the accepted text
on a shadow copy (agent_core.verify.shadow) without the user's files being saved. The server is a real
subprocess (Neovim's and VS Code's capabilities), the editor a buffer-keeping test client."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e import test_lsp_server as base
from tests.e2e.test_lsp_server import CALC, FIXED, Editor, command
from tests.support.scripted_server import ScriptedModelServer

client, lsp_options, project = base.client, base.lsp_options, base.project

TEST_CALC = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def test_preview_accept_reject_cycle_leaves_the_disk_untouched(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    (root / "test_calc.py").write_text(TEST_CALC)
    editor.buffer_only = True
    uri = editor.open(root / "calc.py")
    before = _files(root)
    decisions = [False, True]  # the user rejects the notes file and accepts the fix

    async def user_decides(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        editor.accept = decisions.pop(0)
        return await Editor.apply(editor, params)

    editor.apply = user_decides  # type: ignore[method-assign]
    model_server.extend(
        [
            _call("write_file", path="notes.txt", content="fixed add\n"),
            _call("patch", path="calc.py", search="return a - b", replace="return a + b"),
            {"content": "Fixed add."},
        ]
    )
    shadows = set(Path(tempfile.gettempdir()).glob("smallcode-shadow-*"))

    answer = await command(client, "smallcode.ask", {"prompt": "fix add", "uri": uri})

    statuses = {e["path"]: e["status"] for e in answer["data"]["edits"]}
    assert statuses == {"calc.py": "applied", "notes.txt": "rejected"}, answer
    assert editor.buffers[uri] == FIXED  # the accepted edit landed, in the buffer
    assert not (root / "notes.txt").exists()  # the rejected one stayed out
    after = {k: v for k, v in _files(root).items() if not k.startswith((".smallcode/", "__pycache__/"))}
    assert after == before and (root / "calc.py").read_text() == CALC  # nothing written
    assert editor.save_calls == []
    # the tests ran against the accepted text (on disk `add` still subtracts), and the shadow is gone
    checks = answer["data"]["checks"]
    assert checks is not None and checks["passed"] == 1 and checks["failed"] == 0, checks
    assert answer["data"]["success"] is True
    assert set(Path(tempfile.gettempdir()).glob("smallcode-shadow-*")) == shadows
