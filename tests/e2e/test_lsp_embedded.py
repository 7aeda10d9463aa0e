"""The language server with no model server configured: it starts the embedded model, reports loading in
the progress of the first ask, uses it, and leaves no model process behind when it exits. Slow."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from agent_core.config import Settings
from agent_core.llm.embedded import engine_missing
from agent_core.llm.models import FAST_MODEL, pull

pytestmark = pytest.mark.slow

MODELS_DIR = os.environ.get("SMALLCODE_MODELS_DIR") or os.path.join(
    tempfile.gettempdir(), "smallcode-test-models"
)
LOG = Path(tempfile.mkdtemp(prefix="smallcode-lsp-embedded-")) / "server.log"
SERVER = [sys.executable, "-m", "lsp_server", "--log-file", str(LOG)]


def model_processes() -> list[str]:
    """Command lines of running processes serving this test's model from MODELS_DIR (read from /proc: `ps` cuts)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if MODELS_DIR in cmdline and f"--model_alias {FAST_MODEL}" in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture(scope="module", autouse=True)
def joined_model() -> None:
    if engine_missing():
        pytest.skip("llama-cpp-python[server] is not installed: pip install '.[embedded-fast]'")
    pull(FAST_MODEL, Settings(models_dir=MODELS_DIR))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "README.md").write_text("demo\n")
    return tmp_path


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(request: Any, lsp_client: LanguageClient) -> Any:
    root: Path = request.getfixturevalue("project")
    edits: list[types.ApplyWorkspaceEditParams] = []
    lsp_client.edits = edits  # type: ignore[attr-defined]

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    async def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    uri = from_fs_path(str(root)) or ""
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name="proj")],
            initialization_options={
                "embeddedModel": FAST_MODEL,
                "modelsDir": MODELS_DIR,
                "maxTurns": 3,
                "maxTokens": 256,
                "applyMode": "auto",
            },
        )
    )
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 30)


@pytest.mark.timeout(900)
async def test_ask_starts_the_embedded_model_and_reports_it(client: LanguageClient, project: Path) -> None:
    params = types.ExecuteCommandParams(
        command="smallcode.ask",
        arguments=[
            {
                "prompt": "create hello.py that prints hello world",
                "uri": from_fs_path(str(project / "README.md")),
            }
        ],
    )
    answer = await asyncio.wait_for(client.workspace_execute_command_async(params), 600)
    assert isinstance(answer, dict) and "text" in answer
    reports = [
        str(getattr(value, "message", "") or "")
        for values in client.progress_reports.values()
        for value in values
    ]
    assert any(r.startswith("loading Qwen2.5-Coder-0.5B") for r in reports), reports
    assert any("ready in" in r for r in reports), reports
    assert model_processes(), "the embedded model server should run while the server is up"


@pytest.mark.timeout(900)
async def test_inline_completion_comes_from_the_embedded_model(client: LanguageClient, project: Path) -> None:
    """No baseUrl: completions fill the middle with the embedded model (started by the first one)."""
    path = project / "area.py"
    text = "def rectangle_area(width, height):\n    return \n"
    path.write_text(text)
    uri = from_fs_path(str(path)) or ""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    request = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=1, character=11),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
    )
    answer = await asyncio.wait_for(client.text_document_inline_completion_async(request), 600)
    assert isinstance(answer, types.InlineCompletionList) and answer.items, answer
    assert "width" in str(answer.items[0].insert_text) and "height" in str(answer.items[0].insert_text)
    assert model_processes(), "the completion started the embedded model server"


async def test_no_model_process_survives_the_server(project: Path) -> None:
    """Runs after the test above in this module: its server has shut down by now."""
    for _ in range(100):
        if not model_processes():
            break
        await asyncio.sleep(0.1)
    assert model_processes() == []
