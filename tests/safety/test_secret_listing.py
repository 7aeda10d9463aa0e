"""Listings and searches never show sensitive files (keys, .env), with or without ripgrep."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_core.config import Settings
from agent_core.tools import ToolContext
from agent_core.tools.files import FindFilesArgs, FindFilesTool
from agent_core.tools.search import SearchArgs, SearchTool
from agent_core.workspace import FileWorkspace


def ctx_for(root: Path, **settings: object) -> ToolContext:
    return ToolContext(root=root, settings=Settings(**settings), workspace=FileWorkspace(root))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-live-secret-value-123456\n")
    (tmp_path / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-value\n")
    (tmp_path / "app.py").write_text("print('secret-value is not here')\n")
    return tmp_path


@pytest.mark.parametrize("use_ripgrep", [True, False])
async def test_search_leaves_out_env_files_and_keys(workspace: Path, use_ripgrep: bool) -> None:
    out = await SearchTool(use_ripgrep=use_ripgrep).run(
        SearchArgs(pattern="secret-value"), ctx_for(workspace)
    )
    assert "app.py" in out.text
    assert ".env" not in out.text and "id_rsa" not in out.text and "sk-live" not in out.text


async def test_find_files_leaves_out_env_files_and_keys(workspace: Path) -> None:
    out = await FindFilesTool().run(FindFilesArgs(pattern="*"), ctx_for(workspace))
    assert "app.py" in out.text and ".env" not in out.text and "id_rsa" not in out.text


async def test_env_files_visible_when_the_user_allows_them(workspace: Path) -> None:
    out = await FindFilesTool().run(FindFilesArgs(pattern="*"), ctx_for(workspace, allow_env_files=True))
    assert ".env" in out.text and "id_rsa" not in out.text
