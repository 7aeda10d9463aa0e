"""The files a trace carries, so that `smallcode trace test` can rebuild the workspace as it was when the run
started and check what it became: a size-capped snapshot of the workspace at the start (all of a small
project), the first version of any other file a tool touches, and the final contents of the files it changed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from agent_core.safety.paths import is_sensitive

MAX_FILE_BYTES = 64_000
"""A larger file is left out of the start snapshot (and recorded by hash only at the end)."""
MAX_TOTAL_BYTES = 512_000
MAX_FILES = 300
MAX_VISITED = 5000
"""Caps on the start snapshot (files kept, bytes kept, files looked at): a big repository gets a partial
snapshot plus the files the run touched, and the walk stays quick."""
SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".smallcode", "node_modules", ".venv", "venv", "env", "__pycache__", "target",
        "dist", "build", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".idea", ".vscode",
    }
)  # fmt: skip
PATH_TOOLS = frozenset({"read_file", "write_file", "patch", "edit_file"})


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str | None:
    """The file's text, or None when it is missing, binary, not UTF-8 or over `limit` bytes."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > limit:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def start_snapshot(root: Path) -> dict[str, Any]:
    """{"files": {relative path: text}, "complete": whether every text file of the workspace is in it}."""
    files: dict[str, str] = {}
    total = visited = 0
    complete = True
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            visited += 1
            if visited > MAX_VISITED:
                return {"files": files, "complete": False}
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if is_sensitive(rel):
                continue  # .env, keys: never copied into a trace
            text = read_text(path)
            if text is None:
                if path.is_file() and not path.is_symlink():
                    complete = complete and _binary(path)  # a binary file is not wanted; a big text file is
                continue
            if len(files) >= MAX_FILES or total + len(text) > MAX_TOTAL_BYTES:
                return {"files": files, "complete": False}
            files[rel] = text
            total += len(text)
    return {"files": files, "complete": complete}


def _binary(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return b"\0" in handle.read(8192)
    except OSError:
        return True


class FileRecorder:
    """Writes a `file` entry (its text before the tool ran, or null when it did not exist) the first time a
    tool names a path the start snapshot does not hold. Subscribed to the `tool_start` event."""

    def __init__(self, root: Path, write: Any, snapshot: dict[str, Any]) -> None:
        self.root = root
        self.write = write
        self.complete = bool(snapshot.get("complete"))
        self.seen: set[str] = set(snapshot.get("files", {}))

    def on_tool_start(self, payload: dict[str, Any]) -> None:
        args = payload.get("args") or {}
        if self.complete or payload.get("name") not in PATH_TOOLS or not isinstance(args.get("path"), str):
            return
        try:
            path = (self.root / args["path"]).resolve()
            rel = path.relative_to(self.root).as_posix()
        except (OSError, ValueError):
            return  # outside the workspace: the tool refuses it anyway
        if rel in self.seen or is_sensitive(rel):
            return
        self.seen.add(rel)
        self.write("file", path=rel, content=read_text(path), existed=path.exists())


def final_files(root: Path, paths: list[str]) -> dict[str, dict[str, Any]]:
    """Each changed file's end state: {"content": text or None, "sha256": hash or None (deleted)}."""
    out: dict[str, dict[str, Any]] = {}
    for rel in paths:
        path = root / rel
        try:
            data = path.read_bytes() if path.is_file() else None
        except OSError:
            data = None
        out[rel] = {
            "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
            "content": read_text(path) if data is not None else None,
        }
    return out
