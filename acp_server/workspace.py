"""The agent's files through the editor: fs/read_text_file and fs/write_text_file, when the client offers them.

The editor owns the files: a read returns its buffer (unsaved changes included), a write goes into the
buffer and the editor decides when it reaches the disk. Without those capabilities the files are read and
written on disk like the command line does (agent_core.workspace.FileWorkspace). Everything but reading and
writing (turns, checkpoints, deletes) stays with the seam's other layers. Each change is reported to
`on_change(path, old, new)`, so the session can show it as a diff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from agent_core.patch.textfile import conform
from agent_core.workspace import (
    MAX_FILE_BYTES,
    EditResult,
    FileWorkspace,
    Workspace,
    WorkspaceError,
    decode_text,
    looks_binary,
    read_file_bytes,
)

log = logging.getLogger(__name__)

ChangeListener = Callable[[Path, str | None, str], Awaitable[None]]


class FileClient(Protocol):
    """The part of the ACP client connection this workspace uses (acp.interfaces.Client)."""

    async def read_text_file(self, session_id: str, path: str, **kwargs: Any) -> Any: ...

    async def write_text_file(self, session_id: str, path: str, content: str, **kwargs: Any) -> Any: ...


class EditorWorkspace(Workspace):
    """Reads and writes through the ACP client where it can (`reads`/`writes`), on disk otherwise."""

    def __init__(
        self,
        root: Path,
        client: FileClient,
        session_id: str,
        *,
        reads: bool,
        writes: bool,
        on_change: ChangeListener | None = None,
    ) -> None:
        super().__init__(root)
        self.client = client
        self.session_id = session_id
        self.reads = reads
        self.writes = writes
        self.on_change = on_change
        self.disk = FileWorkspace(root)
        self._editor_text: dict[Path, str] = {}
        """What the editor last had for files read or written through it (maybe not saved yet)."""

    # reading ----------------------------------------------------------------------------------------
    async def read_text(self, path: Path) -> str:
        if not self.reads:
            if path in self._editor_text:  # written through the editor, which cannot be asked: our copy
                return self._editor_text[path]
            return await self.disk.read_text(path)
        name = self._rel(path)
        await asyncio.to_thread(_refuse_unreadable, path, name)
        try:
            response = await self.client.read_text_file(session_id=self.session_id, path=str(path))
        except Exception as exc:  # the editor cannot read it (e.g. it does not exist): the disk says why
            log.debug("fs/read_text_file %s failed: %s", name, exc)
            if path in self._editor_text:
                return self._editor_text[path]
            return await self.disk.read_text(path)
        text = str(response.content)
        if len(text) > MAX_FILE_BYTES:
            raise WorkspaceError(
                f"{name} is {len(text) / 1e6:.1f} MB, more than the {MAX_FILE_BYTES / 1e6:g} MB the edit tools "
                "work on"
            )
        self._editor_text[path] = text
        return text

    async def exists(self, path: Path) -> bool:
        return path in self._editor_text or path.exists()

    # writing ----------------------------------------------------------------------------------------
    async def write_text(self, path: Path, text: str, *, label: str = "") -> EditResult:
        rel = self._rel(path)
        if path.is_dir():
            return EditResult(False, f"{rel} is a directory")
        if path in self._editor_text and self.writes:
            old: str | None = self._editor_text[
                path
            ]  # what the tool just read and changed: no second round trip
        else:
            old = await self.read_text(path) if await self.exists(path) else None
        if not self.writes:
            result = await self.disk.write_text(path, text, label=label)
            if result.applied:
                self._editor_text.pop(path, None)
                await self._changed(path, old, await self.disk.read_text(path))
            return result
        if old is not None:
            text = conform(old, text)  # the file's BOM, line endings and final newline
        if old == text:
            return EditResult(True, "no change")
        try:
            await self.client.write_text_file(session_id=self.session_id, path=str(path), content=text)
        except Exception as exc:
            return EditResult(False, f"the editor did not write {rel}: {_reason(exc)}")
        self._editor_text[path] = text
        await self._changed(path, old, text)
        return EditResult(True)

    async def unsaved_texts(self) -> dict[Path, str]:
        """The editor's text that the disk does not have: the agent's checks run on a copy with it."""
        out = {}
        for path, text in list(self._editor_text.items()):
            if not await asyncio.to_thread(_on_disk, path, text, self._rel(path)):
                out[path] = text
        return out

    async def _changed(self, path: Path, old: str | None, new: str) -> None:
        if self.on_change is not None:
            try:
                await self.on_change(path, old, new)
            except Exception:  # showing the diff must never undo the edit
                log.exception("reporting the change of %s failed", path)

    def _rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def _refuse_unreadable(path: Path, name: str) -> None:
    """What the disk already says the edit tools cannot use (a huge or binary file) is refused before the
    editor is asked to send all of it."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise WorkspaceError(
                f"{name} is {size / 1e6:.1f} MB, more than the {MAX_FILE_BYTES / 1e6:g} MB the edit tools work "
                "on; read_file shows parts of it (start_line, end_line)"
            )
        with open(path, "rb") as handle:
            head = handle.read(8192)
    except OSError:
        return  # not on disk (yet): the editor may still have it
    if looks_binary(head):
        raise WorkspaceError(f"{name} is a binary file; the agent only reads and edits text files")


def _on_disk(path: Path, text: str, name: str) -> bool:
    with contextlib.suppress(WorkspaceError, OSError):
        return decode_text(read_file_bytes(path, name), name) == text
    return False


def _reason(exc: BaseException) -> str:
    data = getattr(exc, "data", None)
    details = data.get("details") if isinstance(data, dict) else None
    return str(details or exc or type(exc).__name__)[:300]
