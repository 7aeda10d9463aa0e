"""The editor's workspace edits keep a file's encoding, BOM, line endings and final newline: the TextEdit covers
only the changed line, in the file's line ending, so the buffer saved in the file's encoding gives the file's
bytes with that one line changed. The server is a real subprocess (Neovim's and VS Code's capabilities); the
editor keeps each buffer as the file decodes (UTF-8, else Latin-1, endings as they are), like an editor that
guesses encodings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pytest_lsp import LanguageClient

from tests.e2e import test_lsp_server as base
from tests.e2e.test_lsp_server import Editor, command
from tests.support.scripted_server import ScriptedModelServer
from tests.tools.test_byte_exact import FILES, _expected, _model_text

# the server-and-client fixtures of test_lsp_server, shared
client, lsp_options, project = base.client, base.lsp_options, base.project


class ByteEditor:
    """Buffers as decoded text (endings kept), edits applied exactly; `saved` gives a buffer's bytes."""

    def __init__(self, client: LanguageClient) -> None:
        self.editor: Editor = client.editor  # type: ignore[attr-defined]
        self.client = client
        self.texts: dict[str, str] = {}
        self.encodings: dict[str, str] = {}
        self.edits: list[types.TextEdit] = []
        self.editor.apply = self.apply  # type: ignore[method-assign]
        self.editor.save_documents = self.save  # type: ignore[method-assign]

    def saved(self, path: Path) -> bytes:
        """What saving the buffer of `path` writes (the file as it is when the editor never loaded it)."""
        uri = from_fs_path(str(path)) or path.as_uri()
        return self.texts[uri].encode(self.encodings[uri]) if uri in self.texts else path.read_bytes()

    def _load(self, uri: str) -> str:
        if uri not in self.texts:
            data = Path(to_fs_path(uri) or "").read_bytes()
            try:
                self.texts[uri], self.encodings[uri] = data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                self.texts[uri], self.encodings[uri] = data.decode("latin-1"), "latin-1"
        return self.texts[uri]

    def open(self, path: Path) -> str:
        uri = from_fs_path(str(path)) or path.as_uri()
        self.editor.open_docs[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=self._load(uri)
                )
            )
        )
        return uri

    async def apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edit = params.edit
        per_uri = list((edit.changes or {}).items()) + [
            (c.text_document.uri, list(c.edits))
            for c in edit.document_changes or []
            if isinstance(c, types.TextDocumentEdit)
        ]
        for uri, edits in per_uri:
            text = self._load(uri)
            for text_edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))[::-1]:
                self.edits.append(text_edit)
                text = _splice(text, text_edit.range, text_edit.new_text)
            self.texts[uri] = text
            self.editor._changed(uri, text)
        return types.ApplyWorkspaceEditResult(applied=True)

    async def save(self, uris: list[str]) -> dict[str, list[str]]:
        for uri in uris:
            path = Path(to_fs_path(uri) or "")
            path.write_bytes(self.saved(path))
        return {"saved": uris}


def _splice(text: str, rng: types.Range, new: str) -> str:
    starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]

    def offset(pos: types.Position) -> int:
        return len(text) if pos.line >= len(starts) else min(starts[pos.line] + pos.character, len(text))

    return text[: offset(rng.start)] + new + text[offset(rng.end) :]


def _line_ending(data: bytes) -> str:
    second = data.split(b"\n")[1]
    return "\r\n" if second.endswith(b"\r") else "\n"


@pytest.mark.parametrize(("kind", "data"), list(FILES.items()), ids=list(FILES))
async def test_patch_of_an_open_document_changes_one_line_in_its_style(
    client: LanguageClient, model_server: ScriptedModelServer, kind: str, data: bytes
) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    (root / "mod.py").write_bytes(data)
    editor = ByteEditor(client)
    editor.open(root / "mod.py")
    model_server.extend(
        [
            {"tool_calls": [{"name": "patch", "arguments": {"path": "mod.py", "search": "name = 'x'\n",
                                                            "replace": "name = 'y'\n"}}]},
            {"content": "Set name."},
        ]
    )  # fmt: skip
    answer = await command(client, "smallcode.ask", {"prompt": "set name to 'y' in mod.py"})
    assert answer["data"]["files_edited"] == ["mod.py"], answer
    [text_edit] = editor.edits
    assert (text_edit.range.start.line, text_edit.range.end.line) == (1, 2)
    assert text_edit.new_text == "name = 'y'" + _line_ending(data)
    assert editor.saved(root / "mod.py") == _expected(data)


@pytest.mark.parametrize("kind", ["latin-1", "utf-8 bom", "crlf", "no final newline"])
async def test_whole_file_from_the_model_changes_one_line_of_a_closed_file(
    client: LanguageClient, model_server: ScriptedModelServer, kind: str
) -> None:
    """write_file with LF text, no BOM and a final newline, for a file the editor does not have open."""
    root: Path = client.root  # type: ignore[attr-defined]
    data = FILES[kind]
    (root / "mod.py").write_bytes(data)
    editor = ByteEditor(client)
    model_server.extend(
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "mod.py"}}]},
            {"tool_calls": [{"name": "write_file", "arguments": {"path": "mod.py", "content": _model_text(data)}}]},
            {"content": "Set name."},
        ]
    )  # fmt: skip
    answer = await command(client, "smallcode.ask", {"prompt": "set name to 'y' in mod.py"})
    assert answer["data"]["files_edited"] == ["mod.py"], answer
    [text_edit] = editor.edits
    assert text_edit.new_text == "name = 'y'" + _line_ending(data)
    assert editor.saved(root / "mod.py") == _expected(data)
    diff = await command(client, "smallcode.diff")
    assert "-name = 'x'" in diff["text"] and "+name = 'y'" in diff["text"]
    assert diff["text"].count("\n-") == 1  # one line changed, not the whole file


async def test_a_character_the_files_encoding_cannot_hold_is_refused(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    (root / "mod.py").write_bytes(FILES["latin-1"])
    editor = ByteEditor(client)
    model_server.extend(
        [
            {"tool_calls": [{"name": "patch", "arguments": {"path": "mod.py", "search": "name = 'x'",
                                                            "replace": "name = '€'"}}]},
            {"content": "Tried."},
        ]
    )  # fmt: skip
    answer: dict[str, Any] = await command(client, "smallcode.ask", {"prompt": "set name to '€' in mod.py"})
    [call] = [c for c in answer["data"]["tool_calls"] if c["name"] == "patch"]
    assert call["ok"] is False and "Latin-1" in call["error"], call
    assert editor.edits == []
    assert (root / "mod.py").read_bytes() == FILES["latin-1"]
