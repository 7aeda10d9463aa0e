"""The code graph follows the editor (issue 18): the language server, a real subprocess with Neovim's and VS
Code's capabilities, indexes an open buffer's unsaved text on didChange, goes back to the file on disk on
didSave and didClose, and never creates an index in a workspace that had none."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from agent_core.memory.graph.index import CodeIndex
from agent_core.memory.graph.store import GraphStore, index_path
from tests.e2e import test_lsp_server as base
from tests.e2e.test_lsp_server import CALC, Editor, wait_until

# the server-and-client fixtures of test_lsp_server, shared
client, lsp_options, project = base.client, base.lsp_options, base.project

TYPED = CALC + "\n\ndef typed_helper(values):\n    return sorted(values)\n"
SAVED = CALC + "\n\ndef saved_helper(values):\n    return list(values)\n"


def indexed(root: Path) -> set[str]:
    """The names of calc.py's definitions in the workspace's index, as a reader (a graph tool) sees them."""
    store = GraphStore(index_path(root))
    try:
        return {s.name for s in store.symbols("WHERE f.path = ?", ("calc.py",))}
    finally:
        store.close()


async def test_buffers_are_indexed_as_typed_and_saves_and_closes_go_back_to_disk(
    client: LanguageClient,
) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    CodeIndex(root).update_all()  # the index a first graph tool call would have made
    assert indexed(root) == {"add"}

    uri = editor.open(root / "calc.py")
    editor.type(uri, TYPED)
    await wait_until(lambda: "typed_helper" in indexed(root))
    assert (root / "calc.py").read_text() == CALC  # indexed from the buffer; the file is untouched

    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=uri)))
    await wait_until(lambda: indexed(root) == {"add"})  # closed unsaved: the disk's text again

    uri = editor.open(root / "calc.py")
    (root / "calc.py").write_text(SAVED)  # the user's save, then the editor's notification
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=uri)))
    await wait_until(lambda: indexed(root) == {"add", "saved_helper"})


async def test_a_workspace_without_an_index_gets_none_from_typing(client: LanguageClient) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    uri = editor.open(root / "calc.py")
    editor.type(uri, TYPED)
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=uri)))
    # a request after the notifications is answered after them: by then the feature has seen both
    await client.text_document_code_lens_async(types.CodeLensParams(types.TextDocumentIdentifier(uri=uri)))
    assert not index_path(root).exists()
