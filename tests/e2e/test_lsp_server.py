"""The language server as a real subprocess under pytest-lsp, with Neovim's and VS Code's capabilities,
against the scripted model server (real HTTP)."""

from __future__ import annotations

import asyncio
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound
from pygls.uris import from_fs_path, to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_server.features.commands import ALL_COMMANDS
from lsp_server.save_documents import SAVE_DOCUMENTS
from tests.support.scripted_server import ScriptedModelServer

LOG_DIR = Path(tempfile.mkdtemp(prefix="smallcode-lsp-test-"))
SERVER = [
    sys.executable,
    "-m",
    "lsp_server",
    "--log-file",
    str(LOG_DIR / "server.log"),
    "--log-level",
    "DEBUG",
]
CALC = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"


class Editor:
    """What the test client does with workspace/applyEdit: apply it to the files (like an editor that saves),
    tell the server about open documents (didChange), and record every request. With `buffer_only`, like a
    real editor: an edit changes the buffer (`buffers`), and the file only when saved (`save`)."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.edits: list[types.ApplyWorkspaceEditParams] = []
        self.accept = True
        self.buffer_only = False
        self.buffers: dict[str, str] = {}
        self.saver = "saves"
        """Its answer to smallcode/saveDocuments: "saves", "missing" (MethodNotFound), "silent" (none)."""
        self.save_calls: list[list[str]] = []
        self.release = asyncio.Event()  # lets a "silent" editor's pending answers go at the end
        self.hold: asyncio.Event | None = None  # when set, answers wait for it (a user looking at a preview)
        self.received = asyncio.Event()
        self.open_docs: dict[str, int] = {}
        self.lens_refreshes = 0

    def open(self, path: Path, language: str = "python") -> str:
        uri = from_fs_path(str(path)) or path.as_uri()
        self.open_docs[uri] = 1
        self.buffers[uri] = path.read_text()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=self.buffers[uri]
                )
            )
        )
        return uri

    def type(self, uri: str, text: str) -> None:
        """The user changes an open buffer (unsaved)."""
        self.buffers[uri] = text
        self._changed(uri, text)

    async def save_documents(self, uris: list[str]) -> dict[str, list[str]]:
        if self.saver == "missing":
            raise JsonRpcMethodNotFound.of(SAVE_DOCUMENTS)
        self.save_calls.append(uris)
        if self.saver == "silent":
            await self.release.wait()
        if self.buffer_only:
            for uri in uris:
                Path(to_fs_path(uri) or "").write_text(self.buffers[uri])
        return {"saved": uris}

    def _changed(self, uri: str, text: str) -> None:
        if uri in self.open_docs:
            self.open_docs[uri] += 1
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.open_docs[uri]),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )

    async def apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        self.edits.append(params)
        self.received.set()
        if self.hold is not None:
            await self.hold.wait()
        if not self.accept:
            return types.ApplyWorkspaceEditResult(applied=False)
        edit = params.edit
        per_uri: list[tuple[str, list[Any]]] = list((edit.changes or {}).items())
        for change in edit.document_changes or []:
            if isinstance(change, types.CreateFile):
                path = Path(to_fs_path(change.uri) or "")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            elif isinstance(change, types.TextDocumentEdit):
                per_uri.append((change.text_document.uri, list(change.edits)))
            elif isinstance(change, types.DeleteFile):
                Path(to_fs_path(change.uri) or "").unlink(missing_ok=True)
                self.buffers.pop(change.uri, None)
        for uri, edits in per_uri:
            path = Path(to_fs_path(uri) or "")
            if self.buffer_only and uri in self.buffers:
                text = self.buffers[uri]
            else:
                text = path.read_text() if path.exists() else ""
            for text_edit in sorted(
                edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
            ):
                text = _splice(text, text_edit.range, text_edit.new_text)
            self.buffers[uri] = text
            if not self.buffer_only:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            self._changed(uri, text)
        return types.ApplyWorkspaceEditResult(applied=True)


def _splice(text: str, rng: types.Range, new: str) -> str:
    lines = text.split("\n")

    def offset(pos: types.Position) -> int:
        if pos.line >= len(lines):
            return len(text)
        return sum(len(line) + 1 for line in lines[: pos.line]) + min(pos.character, len(lines[pos.line]))

    return text[: offset(rng.start)] + new + text[offset(rng.end) :]


async def wait_until(condition: Any, timeout: float = 20.0) -> None:
    """Wait for a condition the server's behaviour makes true (polling, bounded)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def lsp_options() -> dict[str, Any]:
    """Extra initializationOptions; a test overrides it with @pytest.mark.parametrize("lsp_options", …)."""
    return {}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "calc.py").write_text(CALC)
    return root


@pytest_lsp.fixture(params=["neovim", "visual_studio_code"], config=ClientServerConfig(server_command=SERVER))
async def client(request: Any, lsp_client: LanguageClient) -> Any:
    model_server: ScriptedModelServer = request.getfixturevalue("model_server")
    root: Path = request.getfixturevalue("project")
    options: dict[str, Any] = request.getfixturevalue("lsp_options")
    init = {
        "baseUrl": model_server.base_url,
        "model": "scripted-model",
        "applyMode": "preview",
        "retries": 0,
        "trace": False,
    }
    init.update(options)
    editor = Editor(lsp_client)
    lsp_client.editor = editor  # type: ignore[attr-defined]
    lsp_client.root = root  # type: ignore[attr-defined]
    lsp_client.client_name = request.param  # type: ignore[attr-defined]

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    async def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return await editor.apply(params)

    @lsp_client.feature(SAVE_DOCUMENTS)
    async def save_documents(params: Any) -> dict[str, list[str]]:
        return await editor.save_documents(list(params.uris))

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(params: None) -> None:
        editor.lens_refreshes += 1

    capabilities = client_capabilities(request.param)
    experimental = request.getfixturevalue("client_experimental")
    if experimental is not None:
        capabilities.experimental = experimental
    uri = from_fs_path(str(root))
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri or "", name="proj")],
            initialization_options=init,
        )
    )
    yield
    editor.release.set()
    await asyncio.wait_for(lsp_client.shutdown_session(), 20)


async def command(client: LanguageClient, name: str, *arguments: Any, raw: bool = False) -> Any:
    params = types.ExecuteCommandParams(command=name, arguments=list(arguments) if arguments or raw else None)
    return await asyncio.wait_for(client.workspace_execute_command_async(params), 60)


FIX_SCRIPT = [
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
    {
        "tool_calls": [
            {
                "name": "patch",
                "arguments": {"path": "calc.py", "search": "return a - b", "replace": "return a + b"},
            }
        ]
    },
    {"content": "Fixed add: it now adds."},
]


async def test_ask_agent_applies_edit_with_annotation_and_progress(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    uri = editor.open(root / "calc.py")
    model_server.extend(FIX_SCRIPT)
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}

    answer = await command(client, "smallcode.ask", {"prompt": "fix add", "uri": uri, "range": rng})

    assert answer["data"]["success"] is True, answer
    assert answer["data"]["files_edited"] == ["calc.py"]
    assert (root / "calc.py").read_text() == FIXED
    assert len(editor.edits) == 1
    edit = editor.edits[0].edit
    if client.client_name == "visual_studio_code":  # type: ignore[attr-defined]
        assert edit.change_annotations is not None
        annotation = next(iter(edit.change_annotations.values()))
        assert annotation.needs_confirmation is True and "calc.py" in annotation.label
        text_edit = edit.document_changes[0].edits[0]  # type: ignore[index,union-attr]
        assert isinstance(text_edit, types.AnnotatedTextEdit)
    else:
        assert edit.changes is not None
        text_edit = edit.changes[uri][0]
    assert text_edit.new_text == "    return a + b\n"
    # the task the model saw carries the selected code
    assert "fix add" in model_server.requests[0]["messages"][-1]["content"]
    assert "return a - b" in model_server.requests[0]["messages"][-1]["content"]

    [reports] = [r for r in client.progress_reports.values() if r]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert any(isinstance(r, types.WorkDoneProgressReport) and "patch" in (r.message or "") for r in reports)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert reports[-1].message == "done — not verified: no tests found for this project"

    diff = await command(client, "smallcode.diff")
    assert "-    return a - b" in diff["text"] and "+    return a + b" in diff["text"]
    assert diff["data"]["edits"][0]["status"] == "applied"


async def test_ask_says_whether_the_tests_passed(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    (root / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    model_server.extend(FIX_SCRIPT)
    answer = await command(client, "smallcode.ask", {"prompt": "fix add in calc.py"})
    assert answer["data"]["success"] is True and answer["data"]["verified"] is True, answer
    assert answer["data"]["checks"]["passed"] == 1
    assert answer["text"].endswith("checks passed: 1 test (`python -m pytest test_calc.py`)"), answer["text"]
    # The first prompt showed how the test fails before any change (calc.py is named in the task).
    assert "assert -1 == 5" in model_server.requests[0]["messages"][-1]["content"]


async def test_new_file_is_created_through_the_editor(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    model_server.extend(
        [
            {
                "tool_calls": [
                    {"name": "write_file", "arguments": {"path": "pkg/hello.py", "content": "print('hi')\n"}}
                ]
            },
            {"content": "Created pkg/hello.py."},
        ]
    )
    answer = await command(client, "smallcode.ask", {"prompt": "create pkg/hello.py printing hi"})
    assert answer["data"]["files_created"] == ["pkg/hello.py"], answer
    assert (root / "pkg" / "hello.py").read_text() == "print('hi')\n"
    edit = editor.edits[0].edit
    if client.client_name == "visual_studio_code":  # type: ignore[attr-defined]
        assert isinstance(edit.document_changes[0], types.CreateFile)  # type: ignore[index]


async def test_rejected_edit_is_reported_to_the_model(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    editor.accept = False
    model_server.extend(FIX_SCRIPT)
    answer = await command(client, "smallcode.ask", {"prompt": "fix add"})
    assert (root / "calc.py").read_text() == CALC
    patch_calls = [c for c in answer["data"]["tool_calls"] if c["name"] == "patch"]
    assert patch_calls and patch_calls[0]["ok"] is False
    tool_results = [m for m in model_server.requests[2]["messages"] if m["role"] in ("tool", "user")]
    assert "rejected" in tool_results[-1]["content"]
    diff = await command(client, "smallcode.diff")
    assert diff["data"]["edits"][0]["status"] == "rejected"


@pytest.mark.parametrize("lsp_options", [{"modelStrong": "strong-model"}])
async def test_a_switch_to_the_strong_model_is_shown_to_the_user(
    client: LanguageClient, model_server: ScriptedModelServer, lsp_options: dict[str, Any]
) -> None:
    # three failed steps move the run to the strong tier; the editor says so, as an information message
    model_server.models.append("strong-model")
    failing = [
        {
            "tool_calls": [
                {"name": "patch", "arguments": {"path": "calc.py", "search": f"x{i}", "replace": "y"}}
            ]
        }
        for i in range(3)
    ]
    model_server.extend([*failing, {"content": "Could not fix it."}])
    await command(client, "smallcode.ask", {"prompt": "fix add"})
    assert [r["model"] for r in model_server.requests] == ["scripted-model"] * 3 + ["strong-model"]
    notices = [
        m for m in client.messages if m.message.startswith("SmallCode: ") and "strong-model" in m.message
    ]
    assert len(notices) == 1, [m.message for m in client.messages]
    assert notices[0].type == types.MessageType.Info
    assert "scripted-model" in notices[0].message and "failure rate" in notices[0].message


async def test_every_command_answers(client: LanguageClient, model_server: ScriptedModelServer) -> None:
    for name in ALL_COMMANDS:
        for args in ((), ({},)):
            answer = await command(client, name, *args, raw=bool(args))
            assert isinstance(answer, dict) and "data" in answer and isinstance(answer["text"], str), (
                name,
                answer,
            )
    help_answer = await command(client, "smallcode.help")
    assert "budget" in help_answer["data"]["commands"]
    budget = await command(client, "smallcode.budget", {})
    assert budget["text"]
    trace = await command(client, "smallcode.trace", {"action": "list"})
    assert "traces" in trace["data"]


@pytest.mark.parametrize("how", ["progress", "request"])
async def test_cancel_mid_run_leaves_no_half_applied_edit(
    client: LanguageClient, model_server: ScriptedModelServer, how: str
) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    editor.hold = asyncio.Event()  # the user is still looking at the preview when the cancel comes
    model_server.extend(FIX_SCRIPT)
    params = types.ExecuteCommandParams(command="smallcode.ask", arguments=[{"prompt": "fix add"}])
    future = asyncio.wrap_future(
        client.protocol.send_request("workspace/executeCommand", params, msg_id="ask-1")
    )
    await asyncio.wait_for(editor.received.wait(), 20)
    if how == "progress":
        [token] = [t for t, r in client.progress_reports.items() if r]
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    else:
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="ask-1"))
    if how == "request":  # pygls answers the cancelled request at once; the run stops at its next await
        await asyncio.wait_for(asyncio.wait({future}), 20)
    editor.hold.set()  # the user accepts; the edit is applied whole, and the run stops
    try:
        answer = await asyncio.wait_for(future, 20)
        assert answer["data"]["cancelled"] is True
    except Exception as exc:  # $/cancelRequest: the request answers with "cancelled"
        assert how == "request" and "cancel" in str(exc).lower()
    await wait_until(
        lambda: any(
            isinstance(r, types.WorkDoneProgressEnd)
            for reports in client.progress_reports.values()
            for r in reports
        )
    )
    end = [r for reports in client.progress_reports.values() for r in reports][-1]
    assert isinstance(end, types.WorkDoneProgressEnd) and end.message == "cancelled"
    assert (root / "calc.py").read_text() == FIXED  # the one edit the user accepted, whole
    assert len(editor.edits) == 1
    assert model_server.remaining == 1  # the run stopped: the final reply was never asked for
    diff = await command(client, "smallcode.diff")
    assert [e["status"] for e in diff["data"]["edits"]] == ["applied"]
    stats = await command(client, "smallcode.stats")  # the server is free for more work
    assert "runs" in stats["data"]


async def test_code_lens_answered_while_run_waits_on_slow_model(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    (root / "todo.py").write_text("x = 1\n# agent: add input validation\n")
    uri = editor.open(root / "todo.py")
    model_server.extend([{"content": "thinking slowly", "delay": 30}])
    run = asyncio.ensure_future(command(client, "smallcode.ask", {"prompt": "slow task"}))
    await wait_until(lambda: len(model_server.requests) >= 1)
    started = time.monotonic()
    lenses = await asyncio.wait_for(
        client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        ),
        5,
    )
    lens_ms = (time.monotonic() - started) * 1000
    actions = await asyncio.wait_for(
        client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(
                    start=types.Position(line=0, character=0), end=types.Position(line=1, character=0)
                ),
                context=types.CodeActionContext(diagnostics=[]),
            )
        ),
        5,
    )
    assert lens_ms < 1000, lens_ms
    assert lenses and lenses[0].command.title == "▶ Ask SmallCode"  # type: ignore[union-attr]
    assert actions
    assert not run.done()
    cancelled = await command(client, "smallcode.cancel")
    assert cancelled["data"]["cancelled"] == 1
    answer = await asyncio.wait_for(run, 20)
    assert answer["data"]["cancelled"] is True


@pytest.mark.parametrize("lsp_options", [{"baseUrl": f"http://127.0.0.1:{free_port()}/v1"}])
async def test_model_server_down_shows_a_message(client: LanguageClient, lsp_options: dict[str, Any]) -> None:
    answer = await command(client, "smallcode.ask", {"prompt": "anything"})
    assert answer["data"]["success"] is False
    await wait_until(lambda: any("baseUrl" in m.message for m in client.messages))
    [message] = [m for m in client.messages if "baseUrl" in m.message]
    assert message.type == types.MessageType.Error
    assert "SmallCode" in message.message


async def test_agent_comment_lenses_in_any_comment_syntax(client: LanguageClient) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    source = (
        "\n".join(
            [
                "# agent: add input validation",
                "x = 1  # agent: rename x",
                "// agent: js task",
                "-- agent: sql task",
                ";; agent: lisp task",
                "/* agent: c task */",
                "<!-- agent: html task -->",
                "s = 'no comment agent: here'",
                "# agent:",
            ]
        )
        + "\n"
    )
    (root / "mixed.txt").write_text(source)
    uri = editor.open(root / "mixed.txt", "plaintext")
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    prompts = [(lens.range.start.line, lens.command.arguments[0]["prompt"]) for lens in lenses]  # type: ignore[union-attr,index]
    assert prompts == [
        (0, "add input validation"),
        (1, "rename x"),
        (2, "js task"),
        (3, "sql task"),
        (4, "lisp task"),
        (5, "c task"),
        (6, "html task"),
    ]
    assert all(lens.command.command == "smallcode.ask" for lens in lenses)  # type: ignore[union-attr]


PLAN = """# Plan

> fix and test calc

- [ ] 1. Fix add in calc.py
  - file: calc.py:2
- [x] 2. Read the code
- [!] 3. Write tests
  - attempts: 1
"""


async def test_plan_lenses_show_state_and_change(client: LanguageClient) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    (root / ".smallcode").mkdir()
    (root / ".smallcode" / "plan.md").write_text(PLAN)
    plan_uri = from_fs_path(str(root / ".smallcode" / "plan.md")) or ""
    calc_uri = editor.open(root / "calc.py")

    async def titles(uri: str) -> list[tuple[int, str]]:
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        return [(lens.range.start.line, lens.command.title) for lens in lenses]  # type: ignore[union-attr]

    in_plan = await titles(plan_uri)
    assert (4, "○ step 1 pending: Fix add in calc.py") in in_plan
    assert (4, "▶ Run step") in in_plan and (4, "Skip") in in_plan
    assert (6, "✓ step 2 done: Read the code") in in_plan
    assert (7, "✗ step 3 failed: Write tests") in in_plan and (7, "Retry") in in_plan
    in_calc = await titles(calc_uri)
    assert in_calc[0] == (1, "○ step 1 pending: Fix add in calc.py")

    skipped = await command(client, "smallcode.planStep", {"action": "skip", "step": "1", "uri": plan_uri})
    assert skipped["text"] == "skipped step 1"
    assert (await titles(calc_uri))[0] == (1, "– step 1 skipped: Fix add in calc.py")
    assert "- [-] 1. Fix add in calc.py" in (root / ".smallcode" / "plan.md").read_text()
    if client.client_name == "visual_studio_code":  # type: ignore[attr-defined]
        await wait_until(lambda: editor.lens_refreshes >= 1)


@pytest.mark.parametrize("lsp_options", [{"applyMode": "sometimes", "maxTurns": "many", "bogusOption": 1}])
async def test_invalid_settings_use_defaults_and_changes_apply_without_restart(
    client: LanguageClient, model_server: ScriptedModelServer, lsp_options: dict[str, Any]
) -> None:
    await wait_until(lambda: any("invalid settings, using defaults" in m.message for m in client.messages))
    message = next(m.message for m in client.messages if "invalid settings" in m.message)
    assert "applyMode" in message and "maxTurns" in message and "bogusOption" in message
    model_server.models.append("other-model")
    client.set_configuration({"smallcode": {"model": "other-model"}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await wait_until(lambda: any("other-model" in m.message for m in client.log_messages))
    answer = await command(client, "smallcode.model")
    assert answer["data"]["model"] == "other-model"
