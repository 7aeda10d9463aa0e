"""EditorWorkspace: the agent's reads and writes through an ACP client's fs methods, and what it does when the
client refuses or cannot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from acp import RequestError
from acp.schema import ReadTextFileResponse, WriteTextFileResponse

from acp_server.workspace import EditorWorkspace
from agent_core.workspace import WorkspaceError


class Client:
    """The fs half of an ACP client: buffers over the disk; `refuse` makes writes fail like a user's No."""

    def __init__(self) -> None:
        self.buffers: dict[str, str] = {}
        self.refuse = False
        self.reads: list[str] = []

    async def read_text_file(self, session_id: str, path: str, **kwargs: Any) -> ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        raise RequestError.resource_not_found(path)

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse:
        if self.refuse:
            raise RequestError.internal_error({"details": "Permission denied for fs/write_text_file"})
        self.buffers[path] = content
        return WriteTextFileResponse()


async def test_reads_the_buffer_writes_to_it_and_reports_the_change(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("a = 1\r\n")
    client = Client()
    client.buffers[str(app)] = "a = 1\r\nb = 2\r\n"  # unsaved in the editor
    changes: list[tuple[Path, str | None, str]] = []

    async def on_change(path: Path, old: str | None, new: str) -> None:
        changes.append((path, old, new))

    ws = EditorWorkspace(tmp_path, client, "s1", reads=True, writes=True, on_change=on_change)
    assert await ws.read_text(app) == "a = 1\r\nb = 2\r\n"
    result = await ws.write_text(app, "a = 1\nb = 3\n")
    assert result.applied
    assert client.buffers[str(app)] == "a = 1\r\nb = 3\r\n"  # in the file's own line endings
    assert app.read_bytes() == b"a = 1\r\n"  # the disk is the editor's business
    assert changes == [(app, "a = 1\r\nb = 2\r\n", "a = 1\r\nb = 3\r\n")]
    assert await ws.unsaved_texts() == {app: "a = 1\r\nb = 3\r\n"}  # what the checks must see


async def test_a_file_the_editor_cannot_read_comes_from_disk(tmp_path: Path) -> None:
    (tmp_path / "on_disk.py").write_text("x = 1\n")
    ws = EditorWorkspace(tmp_path, Client(), "s1", reads=True, writes=True)
    assert await ws.read_text(tmp_path / "on_disk.py") == "x = 1\n"
    with pytest.raises(WorkspaceError, match="does not exist"):
        await ws.read_text(tmp_path / "missing.py")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01" * 10)
    with pytest.raises(WorkspaceError, match="binary"):
        await ws.read_text(tmp_path / "blob.bin")


async def test_a_refused_write_is_not_applied_and_says_why(tmp_path: Path) -> None:
    client = Client()
    client.refuse = True
    ws = EditorWorkspace(tmp_path, client, "s1", reads=True, writes=True)
    result = await ws.write_text(tmp_path / "new.py", "x = 1\n")
    assert not result.applied and "Permission denied for fs/write_text_file" in result.message
    assert not (tmp_path / "new.py").exists() and not await ws.exists(tmp_path / "new.py")


async def test_without_fs_capabilities_the_disk_is_used(tmp_path: Path) -> None:
    client = Client()
    changes: list[Path] = []

    async def on_change(path: Path, old: str | None, new: str) -> None:
        changes.append(path)

    ws = EditorWorkspace(tmp_path, client, "s1", reads=False, writes=False, on_change=on_change)
    assert (await ws.write_text(tmp_path / "new.py", "x = 1\n")).applied
    assert (tmp_path / "new.py").read_text() == "x = 1\n" and await ws.read_text(
        tmp_path / "new.py"
    ) == "x = 1\n"
    assert client.reads == [] and client.buffers == {} and changes == [tmp_path / "new.py"]
    assert await ws.unsaved_texts() == {}
