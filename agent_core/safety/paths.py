"""Workspace confinement: every path a tool touches resolves inside the workspace root."""

from __future__ import annotations

import os
from pathlib import Path


class PathError(Exception):
    """A path the agent may not use; the message is written for the model."""


# Places inside the workspace that tools never touch, whatever the model asks.
_DENIED_PARTS = {".git"}
_MAX_PATH = 4096


def resolve_in_workspace(root: Path, path: str) -> Path:
    """Absolute, symlink-resolved path for `path` (relative to root or absolute), refused outside root."""
    if not isinstance(path, str) or not path.strip():
        raise PathError("path is empty: give a file path relative to the workspace root")
    if "\x00" in path:
        raise PathError("path contains a NUL byte")
    if len(path) > _MAX_PATH:
        raise PathError("path is too long")
    root = root.resolve()
    candidate = Path(os.path.expanduser(path.strip())) if path.strip().startswith("~") else Path(path.strip())
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = candidate.resolve()
    if resolved != root and root not in resolved.parents:
        raise PathError(f"{path} is outside the workspace ({root}); use a path inside it")
    rel_parts = resolved.relative_to(root).parts
    if any(part in _DENIED_PARTS for part in rel_parts):
        raise PathError(f"{path} is inside .git, which the agent does not touch")
    return resolved


def relative(root: Path, path: Path) -> str:
    """Workspace-relative POSIX path for reports (RunResult, traces)."""
    return path.resolve().relative_to(root.resolve()).as_posix()
