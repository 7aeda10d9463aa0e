from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent_core.config import Settings
from agent_core.tools.base import ToolContext
from agent_core.workspace import FileWorkspace
from tests.tools.helpers import MakeCtx


@pytest.fixture
async def make_ctx(tmp_path: Path) -> AsyncIterator[MakeCtx]:
    """ToolContexts on a tmp_path workspace (`ws/`); every shell they start is closed afterwards."""
    made: list[ToolContext] = []

    def make(**settings: Any) -> ToolContext:
        root = tmp_path / "ws"
        root.mkdir(exist_ok=True)
        ctx = ToolContext(root=root, settings=Settings(**settings), workspace=FileWorkspace(root))
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        await ctx.aclose()


@pytest.fixture
def ctx(make_ctx: MakeCtx) -> ToolContext:
    return make_ctx()
