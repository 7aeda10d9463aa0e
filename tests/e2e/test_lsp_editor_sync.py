"""The server and the editor's buffers stay in step with the disk: in auto mode an applied edit is saved by the
editor (smallcode/saveDocuments) when its buffer held no unsaved changes, never by the server; ask-list
shell commands are confirmed through window/showMessageRequest; smallcode.undo restores open documents through
workspace/applyEdit. The server is a real subprocess (Neovim's and VS Code's capabilities), the model the
scripted HTTP server, the editor a buffer-keeping test client (tests/e2e/test_lsp_server.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound
from pytest_lsp import LanguageClient

from lsp_server.save_documents import SAVE_DOCUMENTS
from tests.e2e import test_lsp_server as base
from tests.e2e.test_lsp_server import CALC, FIXED, Editor, command
from tests.support.scripted_server import ScriptedModelServer

# the server-and-client fixtures of test_lsp_server, shared
client, lsp_options, project = base.client, base.lsp_options, base.project


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


PATCH_THEN_CAT = [
    _call("read_file", path="calc.py"),
    _call("patch", path="calc.py", search="return a - b", replace="return a + b"),
    _call("bash", command="cat calc.py"),
    {"content": "Fixed add; the file on disk has it."},
]


def _tool_result(model_server: ScriptedModelServer, request: int) -> str:
    """The last tool result the model saw in its `request`-th request."""
    messages = model_server.requests[request]["messages"]
    return str([m for m in messages if m["role"] in ("tool", "user")][-1]["content"])


def _uris(edit: types.WorkspaceEdit) -> list[str]:
    changed = [
        c.text_document.uri for c in edit.document_changes or [] if isinstance(c, types.TextDocumentEdit)
    ]
    return changed + list((edit.changes or {}).keys())


def without(client: LanguageClient, method: str) -> None:
    """This client does not implement `method`: pygls answers MethodNotFound, as real editors do; that answer
    is expected here, not a test failure (pytest-lsp reports every client-side error by default)."""
    report = client.report_server_error

    def report_unexpected(error: Exception, source: Any) -> None:
        if not (isinstance(error, JsonRpcMethodNotFound) and method in str(error)):
            report(error, source)

    client.report_server_error = report_unexpected  # type: ignore[method-assign]


def _setup(client: LanguageClient, saver: str) -> tuple[Editor, Path]:
    """A buffer-keeping editor whose answer to smallcode/saveDocuments is `saver`: "saves" (writes the
    buffers), "missing" (MethodNotFound), "silent" (no answer until the test ends)."""
    editor: Editor = client.editor  # type: ignore[attr-defined]
    editor.buffer_only = True
    editor.saver = saver
    if saver == "missing":
        without(client, SAVE_DOCUMENTS)
    return editor, client.root  # type: ignore[attr-defined]


@pytest.mark.parametrize("lsp_options", [{"applyMode": "auto"}])
@pytest.mark.parametrize("saver", ["saves", "missing", "silent"])
async def test_auto_mode_the_editor_saves_or_nothing_is_written(
    client: LanguageClient, model_server: ScriptedModelServer, saver: str, lsp_options: dict[str, Any]
) -> None:
    """Auto mode: the editor saves a buffer that held no unsaved changes, so the shell sees the edit; a client
    that cannot save or does not answer gets nothing written behind it."""
    editor, root = _setup(client, saver)
    uri = editor.open(root / "calc.py")
    model_server.extend(PATCH_THEN_CAT)

    answer = await command(client, "smallcode.ask", {"prompt": "fix add", "uri": uri})

    assert answer["data"]["success"] is True, answer
    assert editor.buffers[uri] == FIXED
    saved = saver == "saves"
    assert ("return a + b" in _tool_result(model_server, 3)) is saved  # `cat calc.py` after the save
    assert (root / "calc.py").read_text() == (FIXED if saved else CALC)
    assert editor.save_calls == ([] if saver == "missing" else [[uri]])


@pytest.mark.parametrize("lsp_options", [{"applyMode": "auto"}])
async def test_a_file_not_open_is_not_written_by_the_server(
    client: LanguageClient, model_server: ScriptedModelServer, lsp_options: dict[str, Any]
) -> None:
    editor, root = _setup(client, "missing")
    model_server.extend(PATCH_THEN_CAT)
    answer = await command(client, "smallcode.ask", {"prompt": "fix add"})
    assert answer["data"]["success"] is True, answer
    assert (root / "calc.py").read_text() == CALC


@pytest.mark.parametrize("lsp_options", [{"applyMode": "auto"}])
@pytest.mark.parametrize("saver", ["saves", "missing"])
async def test_unsaved_user_changes_are_never_written_to_disk(
    client: LanguageClient, model_server: ScriptedModelServer, saver: str, lsp_options: dict[str, Any]
) -> None:
    editor, root = _setup(client, saver)
    uri = editor.open(root / "calc.py")
    editor.type(uri, CALC + "# my unsaved note\n")
    model_server.extend(PATCH_THEN_CAT)

    answer = await command(client, "smallcode.ask", {"prompt": "fix add", "uri": uri})

    assert answer["data"]["success"] is True, answer
    assert editor.buffers[uri] == FIXED + "# my unsaved note\n"  # the edit is in the buffer, unsaved
    assert (root / "calc.py").read_text() == CALC  # the disk keeps what the user last saved
    assert "return a - b" in _tool_result(model_server, 3)
    assert any("unsaved changes" in m.message for m in client.log_messages)
    assert editor.save_calls == []  # not even asked: saving would write the user's line too


@pytest.mark.parametrize("lsp_options", [{"saveAfterEdit": False}])
async def test_save_after_edit_can_be_turned_off(
    client: LanguageClient, model_server: ScriptedModelServer, lsp_options: dict[str, Any]
) -> None:
    editor, root = _setup(client, "saves")
    uri = editor.open(root / "calc.py")
    model_server.extend(PATCH_THEN_CAT)
    await command(client, "smallcode.ask", {"prompt": "fix add", "uri": uri})
    assert editor.buffers[uri] == FIXED
    assert editor.save_calls == [] and (root / "calc.py").read_text() == CALC


# shell confirmation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("choice", ["Allow", "Deny", "dismissed", "no handler"])
async def test_ask_list_command_is_confirmed_in_the_editor(
    client: LanguageClient, model_server: ScriptedModelServer, choice: str
) -> None:
    asked: list[types.ShowMessageRequestParams] = []
    steps: list[Any] = []

    @client.feature("smallcode/step")
    def step(params: Any) -> None:
        steps.append(params)

    if choice == "no handler":
        without(client, types.WINDOW_SHOW_MESSAGE_REQUEST)
    else:

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def show_message_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
            asked.append(params)
            return None if choice == "dismissed" else types.MessageActionItem(title=choice)

    model_server.extend([_call("bash", command="git push origin main"), {"content": "done"}])

    answer = await command(client, "smallcode.ask", {"prompt": "publish my commits"})

    result = _tool_result(model_server, 1)
    if choice == "no handler":
        assert asked == []
    else:
        [params] = asked
        assert "wants to run: git push origin main" in params.message
        assert [a.title for a in params.actions or []] == ["Allow", "Deny"]
    bash = [c for c in answer["data"]["tool_calls"] if c["name"] == "bash"]
    if choice == "Allow":  # it ran (and failed: no repository here), rather than being refused
        assert "declined" not in result and "not a git repository" in result, result
    else:
        assert "the user declined this command" in result, result
        assert bash and bash[0]["ok"] is False
    # the chat views show the question while it waits and then the answer
    approvals = [s.text for s in steps if s.kind == "approval"]
    assert approvals[0].startswith("waiting for your answer: may it run `git push origin main`?"), approvals
    outcome = {"Allow": "you allowed", "Deny": "you declined"}.get(choice, "no answer:")
    assert len(approvals) == 2 and approvals[1].startswith(outcome), approvals


# undo -----------------------------------------------------------------------------------------------------


UNDO_SCRIPT = [
    _call("read_file", path="calc.py"),
    {
        "tool_calls": [
            {
                "name": "patch",
                "arguments": {"path": "calc.py", "search": "return a - b", "replace": "return a + b"},
            },
            {"name": "write_file", "arguments": {"path": "notes.txt", "content": "fixed add\n"}},
        ]
    },
    {"content": "Fixed add and wrote notes."},
]


@pytest.mark.parametrize("lsp_options", [{"applyMode": "auto"}])
@pytest.mark.parametrize("saver", ["saves"])  # a client that cannot save never had the edit on disk
async def test_undo_restores_open_documents_through_the_editor(
    client: LanguageClient, model_server: ScriptedModelServer, saver: str, lsp_options: dict[str, Any]
) -> None:
    editor, root = _setup(client, saver)
    uri = editor.open(root / "calc.py")
    model_server.extend(UNDO_SCRIPT)
    answer = await command(client, "smallcode.ask", {"prompt": "fix add, note it", "uri": uri})
    assert answer["data"]["success"] is True, answer
    assert (root / "calc.py").read_text() == FIXED and (root / "notes.txt").read_text() == "fixed add\n"
    edits_before = len(editor.edits)

    undone = await command(client, "smallcode.undo", {"uri": uri})

    assert undone["ok"] is True, undone
    assert undone["data"]["editor"] == ["calc.py"]
    assert sorted(undone["data"]["restored"]) == ["calc.py"] and undone["data"]["removed"] == ["notes.txt"]
    [undo_edit] = editor.edits[edits_before:]
    assert "undo" in (undo_edit.label or "")
    assert _uris(undo_edit.edit) == [uri]
    assert editor.buffers[uri] == CALC  # the open buffer got its old text through workspace/applyEdit
    assert (root / "calc.py").read_text() == CALC  # and was saved
    assert not (root / "notes.txt").exists()  # not open: removed on disk, as /undo does

    again = await command(client, "smallcode.undo")
    assert again["ok"] is False and "nothing to undo" in again["text"]


@pytest.mark.parametrize("lsp_options", [{"applyMode": "auto"}])
async def test_undo_refused_in_the_editor_changes_nothing(
    client: LanguageClient, model_server: ScriptedModelServer, lsp_options: dict[str, Any]
) -> None:
    editor, root = _setup(client, "saves")
    uri = editor.open(root / "calc.py")
    model_server.extend(UNDO_SCRIPT)
    await command(client, "smallcode.ask", {"prompt": "fix add, note it", "uri": uri})
    editor.accept = False

    refused = await command(client, "smallcode.undo")

    assert refused["ok"] is False and "nothing changed" in refused["text"]
    assert editor.buffers[uri] == FIXED and (root / "calc.py").read_text() == FIXED
    assert (root / "notes.txt").exists()
    editor.accept = True
    undone = await command(client, "smallcode.undo")  # still undoable
    assert undone["ok"] is True and editor.buffers[uri] == CALC
    assert (root / "calc.py").read_text() == CALC
