"""The one seam every edit goes through.

On the command line a FileWorkspace writes files atomically. In the language server another Workspace turns
the same writes into a WorkspaceEdit the editor applies (so unsaved buffers are never overwritten). Tools
only ever call `read_text` / `write_text` / `delete` here, never open files for writing themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from agent_core.patch.textfile import MAX_FILE_BYTES, TextFile, TextFileError, looks_binary

LINE_KEEP_BYTES = 8192
"""What `read_lines` keeps of one line of a large file (its full length is still reported)."""


class WorkspaceError(Exception):
    """A file cannot be read or written as text; the message is written for the model."""


@dataclass
class EditResult:
    applied: bool
    message: str = ""
    """Why an edit was not applied (e.g. the user rejected it in the editor)."""


def decode_text(data: bytes, name: str) -> str:
    """Text of a file, with its BOM and line endings kept as they are (so writing it back is byte-exact)."""
    try:
        return TextFile.decode(data, name, max_bytes=len(data)).text
    except TextFileError as exc:
        raise WorkspaceError(str(exc)) from None


@dataclass
class LineWindow:
    """Some lines of a file, from `first` (1-based): each without its line ending, maybe cut (`lengths` has
    the full lengths), with the file's line count when it was read to the end (`total`) and its `size`."""

    first: int
    lines: list[str] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    total: int | None = None
    size: int = 0


def window_of_text(text: str, first: int, last: int) -> LineWindow:
    lines = text.splitlines()
    shown = lines[first - 1 : last]
    return LineWindow(first, shown, [len(line) for line in shown], len(lines), len(text))


def open_regular(path: Path, name: str) -> BinaryIO:
    """Open a regular file for reading: never blocks on a FIFO, never reads a device or follows a symlink
    swapped in for the last component; WorkspaceError (for the model) otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise WorkspaceError(f"{name} does not exist") from None
    except IsADirectoryError:
        raise WorkspaceError(f"{name} is a directory") from None
    except OSError as exc:
        raise WorkspaceError(f"cannot read {name}: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "a pipe, socket or device, not a file"
        raise WorkspaceError(f"{name} is {kind}")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_file_bytes(path: Path, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, refused (WorkspaceError) beyond `limit` without reading them."""
    with open_regular(path, name) as handle:
        size = os.fstat(handle.fileno()).st_size
        data = handle.read(limit + 1) if size <= limit else b""
    if size > limit or len(data) > limit:
        raise WorkspaceError(
            f"{name} is {max(size, len(data)) / 1e6:.1f} MB, more than the {limit / 1e6:g} MB the edit tools "
            "work on; read_file shows parts of it (start_line, end_line)"
        )
    return data


def read_text_file(path: Path, name: str) -> TextFile:
    """A file decoded by the one codec (TextFile); WorkspaceError (for the model) when it is not text."""
    try:
        return TextFile.decode(read_file_bytes(path, name), name)
    except TextFileError as exc:
        raise WorkspaceError(str(exc)) from None


def encode_for(path: Path, text: str, name: str) -> bytes:
    """`text` as the bytes to write over `path`: in the file's encoding and style (TextFile). A new file, or
    one that is not text (binary, too large), gets `text` as it is, in UTF-8."""
    current = TextFile()
    if path.exists():
        with contextlib.suppress(WorkspaceError):  # not text: nothing of its style to keep
            current = read_text_file(path, name)
    try:
        return current.encode(text, name)
    except TextFileError as exc:
        raise WorkspaceError(str(exc)) from None


def read_line_window(path: Path, name: str, first: int, last: int) -> LineWindow:
    """Lines `first`..`last` of a file streamed from disk: memory for those lines (each cut to
    LINE_KEEP_BYTES), never the whole file; `total` is known only when the file ended by `last`."""
    with open_regular(path, name) as handle:
        window = LineWindow(first, size=os.fstat(handle.fileno()).st_size)
        if looks_binary(handle.read(8192)):
            raise WorkspaceError(f"{name} is a binary file; the agent only reads and edits text files")
        handle.seek(0)
        number = 0
        while number < last:
            head = handle.readline(LINE_KEEP_BYTES)
            if not head:
                window.total = number
                break
            number += 1
            tail, length = head, len(head)
            while not tail.endswith(b"\n") and (tail := handle.readline(1 << 20)):
                length += len(tail)  # the rest of a long line is counted, not kept
            if number >= first:
                cut = length > len(head)
                window.lines.append(_decode_line(head if cut else head.rstrip(b"\r\n"), cut))
                window.lengths.append(length - (1 if tail.endswith(b"\n") else 0))
        else:
            if not handle.read(1):
                window.total = number
    return window


def _decode_line(data: bytes, cut: bool) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace") if cut else data.decode("latin-1")


def _umask() -> int:
    """The process umask, read without changing it where Linux tells it (os.umask can only set)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write via a temporary file in the same directory, fsync, rename: the old or the new file, never a torn one.
    The file keeps its permissions (a new one gets what the umask gives any new file), or gets `mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        # mkstemp makes the file 0600: a new project file must not end up private by accident.
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
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
    """Where the agent's files live. Paths given to these methods are absolute and already confined.

    Besides reading and writing, the loop tells every workspace about turns and shell commands and asks it
    for the editor's unsaved text; a workspace that keeps no checkpoints and has no editor (the defaults
    here) has nothing to do then. The checkpointing one (agent_core.safety.checkpointing) acts on them.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    # turns and shell commands ---------------------------------------------------------------------
    def begin_turn(self, turn: int, run_id: str | None = None) -> None:  # noqa: B027 (a hook)
        """Turn `turn` of a run starts (a turn number not above the last one starts a new run)."""

    def finish_turn(self) -> None:  # noqa: B027 (a hook)
        """The current turn is over: what it changed is kept."""

    def rollback_turn(self) -> dict[str, Any] | None:
        """Revert what the current turn changed; None when there is nothing this workspace can revert."""
        return None

    def rollback_run(self) -> list[dict[str, Any]]:
        """Revert what this run changed (one outcome per reverted checkpoint; none here)."""
        return []

    def turn_originals(self) -> dict[str, str | None]:
        """The text of each file the current turn wrote, as it was before the turn's first write to it (None:
        it did not exist), by workspace-relative path; empty where no turn is tracked."""
        return {}

    def before_shell(self) -> str:
        """A shell command is about to run; returns a note for the model when its changes cannot be undone."""
        return ""

    def after_shell(self) -> None:  # noqa: B027 (a hook)
        """The shell command is over."""

    async def unsaved_texts(self) -> dict[Path, str]:
        """The editor's text that the disk does not have, by absolute path (none without an editor)."""
        return {}

    # files ----------------------------------------------------------------------------------------
    @abstractmethod
    async def read_text(self, path: Path) -> str: ...

    @abstractmethod
    async def write_text(self, path: Path, text: str, *, label: str = "") -> EditResult: ...

    async def exists(self, path: Path) -> bool:
        return path.exists()

    async def read_lines(self, path: Path, first: int, last: int) -> LineWindow:
        """Lines `first`..`last` (1-based, inclusive): from `read_text` for files up to MAX_FILE_BYTES,
        else streamed from disk (a 1 GB file costs what the lines shown cost)."""
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        if size <= MAX_FILE_BYTES:
            return window_of_text(await self.read_text(path), first, last)
        return await asyncio.to_thread(read_line_window, path, _name(self.root, path), first, last)


class FileWorkspace(Workspace):
    """The command line's workspace: real files, atomic writes."""

    async def read_text(self, path: Path) -> str:
        return read_text_file(path, _name(self.root, path)).text

    async def write_text(self, path: Path, text: str, *, label: str = "") -> EditResult:
        """Write `text` in the file's own encoding and style (see TextFile): byte-exact outside the change."""
        if path.is_dir():
            return EditResult(False, f"{path.relative_to(self.root).as_posix()} is a directory")
        atomic_write(path, encode_for(path, text, _name(self.root, path)))
        return EditResult(True)


def _name(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
