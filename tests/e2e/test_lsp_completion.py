"""Completions from the local model: fill-in-the-middle against a real HTTP /v1/completions endpoint, as
inline completion (a client that supports it) or completion items (one that does not)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.support.fim_server import FimServer

LOG = Path(tempfile.mkdtemp(prefix="smallcode-lsp-completion-")) / "server.log"
SERVER = [sys.executable, "-m", "lsp_server", "--log-file", str(LOG)]


@pytest.fixture
def fim() -> Iterator[FimServer]:
    server = FimServer("return a + b")
    yield server
    server.close()


def _capabilities(name: str) -> types.ClientCapabilities:
    if name == "inline":
        caps = client_capabilities("visual_studio_code")
        assert caps.text_document is not None
        caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
        return caps
    return client_capabilities(name)


@pytest_lsp.fixture(params=["neovim", "inline"], config=ClientServerConfig(server_command=SERVER))
async def client(request: Any, lsp_client: LanguageClient) -> Any:
    fim: FimServer = request.getfixturevalue("fim")
    root: Path = request.getfixturevalue("tmp_path")
    (root / "calc.py").write_text("def add(a, b):\n    \n")
    lsp_client.mode = request.param  # type: ignore[attr-defined]
    lsp_client.uri = from_fs_path(str(root / "calc.py"))  # type: ignore[attr-defined]
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=_capabilities(request.param),
            root_uri=from_fs_path(str(root)),
            initialization_options={
                "baseUrl": fim.base_url,
                "model": "qwen2.5-coder-1.5b",
                "completionDebounceMs": 200,
            },
        )
    )
    lsp_client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=lsp_client.uri,  # type: ignore[attr-defined]
                language_id="python",
                version=1,
                text="def add(a, b):\n    \n",
            )
        )
    )
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 20)


async def _complete(client: LanguageClient) -> str | None:
    uri: str = client.uri  # type: ignore[attr-defined]
    position = types.Position(line=1, character=4)
    doc = types.TextDocumentIdentifier(uri=uri)
    if client.mode == "inline":  # type: ignore[attr-defined]
        inline = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=doc,
                position=position,
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Automatic
                ),
            )
        )
        items = inline.items if isinstance(inline, types.InlineCompletionList) else inline
        return str(items[0].insert_text) if items else None
    completion = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc, position=position)
    )
    items = completion.items if isinstance(completion, types.CompletionList) else completion or []
    return items[0].text_edit.new_text if items and items[0].text_edit else None  # type: ignore[union-attr]


async def test_completion_fills_the_middle(client: LanguageClient, fim: FimServer) -> None:
    assert await _complete(client) == "return a + b"
    prompt = fim.bodies[-1]["prompt"]
    assert prompt == "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n<|fim_middle|>"  # Qwen's FIM layout


async def test_typing_on_cancels_a_pending_completion(client: LanguageClient, fim: FimServer) -> None:
    pending = asyncio.ensure_future(_complete(client))
    await asyncio.sleep(0)  # let the request go out before the keystroke
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=client.uri, version=2),  # type: ignore[attr-defined]
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="def add(a, b):\n    r\n")],
        )
    )
    assert await asyncio.wait_for(pending, 10) is None
    assert fim.bodies == []  # superseded during the debounce: the model was never asked


async def test_a_trigger_kind_outside_the_protocol_still_completes(client: LanguageClient) -> None:
    """vscode-languageclient 9 sends VS Code's trigger kinds (0, 1) where LSP has 1 and 2: still answered."""
    zero = SimpleNamespace(value=0)  # sent as 0: lsprotocol's own enum has no such member
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=client.uri),  # type: ignore[attr-defined]
        position=types.Position(line=1, character=4),
        context=types.InlineCompletionContext(trigger_kind=zero),  # type: ignore[arg-type]
    )
    request = client.text_document_inline_completion_async(params)
    answer = await asyncio.wait_for(request, 30)
    assert isinstance(answer, types.InlineCompletionList) and answer.items[0].insert_text == "return a + b"
