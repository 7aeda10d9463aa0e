"""The one seam every edit goes through.

On the command line a FileWorkspace writes files atomically. In the language server another Workspace turns
the same writes into a WorkspaceEdit the editor applies (so unsaved buffers are never overwritten). Tools
only ever call `read_text` / `write_text` / `delete` here, never open files for writing themselves.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 2_000_000
"""Text files larger than this are refused by edit tools (read_file pages through them instead)."""


class WorkspaceError(Exception):
    """A file cannot be read or written as text; the message is written for the model."""


@dataclass
class EditResult:
    applied: bool
    message: str = ""
    """Why an edit was not applied (e.g. the user rejected it in the editor)."""


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def decode_text(data: bytes, name: str) -> str:
    """Text of a file, with its BOM and line endings kept as they are (so writing it back is byte-exact)."""
    if looks_binary(data):
        raise WorkspaceError(f"{name} is a binary file; the agent only reads and edits text files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory, fsync, rename: the old or the new file, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".smallcode-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
        with contextlib.suppress(OSError):
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Workspace(ABC):
    """Where the agent's files live. Paths given to these methods are absolute and already confined."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @abstractmethod
    async def read_text(self, path: Path) -> str: ...

    @abstractmethod
    async def write_text(self, path: Path, text: str, *, label: str = "") -> EditResult: ...

    async def exists(self, path: Path) -> bool:
        return path.exists()


class FileWorkspace(Workspace):
    """The command line's workspace: real files, atomic writes."""

    async def read_text(self, path: Path) -> str:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise WorkspaceError(f"{path.relative_to(self.root).as_posix()} does not exist") from None
        except IsADirectoryError:
            raise WorkspaceError(f"{path.relative_to(self.root).as_posix()} is a directory") from None
        return decode_text(data, path.relative_to(self.root).as_posix())

    async def write_text(self, path: Path, text: str, *, label: str = "") -> EditResult:
        if path.is_dir():
            return EditResult(False, f"{path.relative_to(self.root).as_posix()} is a directory")
        atomic_write(path, text.encode("utf-8"))
        return EditResult(True)
