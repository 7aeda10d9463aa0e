from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent_core.tools import ToolRegistry, default_tools
from agent_core.tools.base import Tool, ToolContext, ToolOutput

MakeCtx = Callable[..., ToolContext]
"""The `make_ctx` fixture: a ToolContext on a tmp_path workspace, settings as keyword arguments."""


async def call(ctx: ToolContext, name: str, tools: list[Tool] | None = None, **arguments: Any) -> ToolOutput:
    """Run a tool the way the agent loop does: through the registry, with raw JSON-ish arguments."""
    return await ToolRegistry(tools or default_tools()).execute(name, arguments, ctx)
