"""A shadow copy of the workspace for the checks, with the editor's unsaved text in it.

In the editor the agent's edits live in buffers (in preview mode until the user saves them), not on disk, yet
the checks must judge the text the user would get. `shadow_copy` copies the workspace into a temporary
directory, writes the unsaved texts over their files there, and the checks run in it; the workspace's own
files are never written. VCS data and caches are left out; dependency folders (node_modules, virtualenvs) are
symlinked, not copied.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

SKIPPED = {".git", ".hg", ".svn", ".smallcode", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
LINKED = {"node_modules", ".venv", "venv", ".tox", "target"}
MAX_FILES = 20_000
"""A workspace with more files than this gets no shadow: the checks then read the saved files."""


class TooLarge(Exception):
    pass


def make_shadow(root: Path, texts: dict[Path, str]) -> Path:
    """A temporary copy of `root` with `texts` (absolute paths inside root) written over it; the caller removes
    its parent. TooLarge beyond MAX_FILES entries."""
    base = Path(tempfile.mkdtemp(prefix="smallcode-shadow-"))
    shadow = base / root.name
    count = 0
    linked: list[Path] = []

    def ignore(directory: str, names: list[str]) -> set[str]:
        nonlocal count
        here = Path(directory)
        left_out = {n for n in names if n in SKIPPED or (n in LINKED and (here / n).is_dir())}
        count += len(names) - len(left_out)
        if count > MAX_FILES:
            raise TooLarge(f"more than {MAX_FILES} files")
        linked.extend(here / n for n in left_out - SKIPPED)
        return left_out

    try:
        shutil.copytree(root, shadow, symlinks=True, ignore=ignore)
        for source in linked:  # dependency folders: linked in place, not copied
            (shadow / source.relative_to(root)).symlink_to(source, target_is_directory=True)
        for path, text in texts.items():
            target = shadow / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()
            target.write_bytes(text.encode("utf-8"))
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    return shadow


@contextlib.asynccontextmanager
async def shadow_copy(root: Path, texts: dict[Path, str]) -> AsyncIterator[Path]:
    """The directory to check in: `root` itself when nothing is unsaved (or the workspace is too large to copy),
    else a shadow copy, removed afterwards."""
    inside = {p: t for p, t in texts.items() if p.is_relative_to(root)}
    if not inside:
        yield root
        return
    try:
        shadow = await asyncio.to_thread(make_shadow, root, inside)
    except (TooLarge, OSError):
        yield root
        return
    try:
        yield shadow
    finally:
        await asyncio.to_thread(shutil.rmtree, shadow.parent, True)
