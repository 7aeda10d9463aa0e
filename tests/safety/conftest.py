from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agent_core.config import Settings
from agent_core.tools.base import ToolContext
from agent_core.workspace import FileWorkspace


def tree_digest(top: Path) -> str:
    """A hash of every name, type, mode, link target and content under `top` (symlinks not followed)."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            st = path.lstat()
            digest.update(f"{path.relative_to(top)}|{st.st_mode:o}|".encode())
            if path.is_symlink():
                digest.update(os.readlink(path).encode())
            elif path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """A workspace `ws/` (with a git repo stub, a .env and a key) and a sibling directory `outside/`."""
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    (ws / "src").mkdir(parents=True)
    (ws / ".git" / "hooks").mkdir(parents=True)
    (ws / ".git" / "config").write_text("[core]\n")
    (ws / "src" / "app.py").write_text("print('app')\n")
    (ws / ".env").write_text("DATABASE_PASSWORD=hunter2hunter2\n")
    (ws / "deploy.pem").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    outside.mkdir()
    (outside / "secret.txt").write_text("outside secret\n")
    (outside / "victim.py").write_text("precious = True\n")
    return {"ws": ws, "outside": outside, "tmp": tmp_path}


MakeCtx = Callable[..., ToolContext]


@pytest.fixture
async def make_ctx(layout: dict[str, Path]) -> AsyncIterator[MakeCtx]:
    made: list[ToolContext] = []

    def make(**settings: Any) -> ToolContext:
        ws = layout["ws"]
        ctx = ToolContext(root=ws, settings=Settings(**settings), workspace=FileWorkspace(ws))
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        await ctx.aclose()
