"""MCP tools as SmallCode tools: `mcp__SERVER__TOOL` with the server's own input schema.

A call to a server not marked `"trust": true` is confirmed first, like an ask-list shell command
(ToolContext.confirm: the terminal's prompt, the editor's showMessageRequest; nobody to ask means not run).
The registry caps the result like any other tool's.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from mcp import types as mcp_types
from pydantic import ConfigDict

from agent_core.extend.mcp_client import McpManager, McpServer, first_line
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from agent_core.tools.routing import MCP_PREFIX

PREFIX = MCP_PREFIX
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class McpArgs(ToolArgs):
    """Whatever the server's schema asks for: the server validates its own arguments."""

    model_config = ConfigDict(extra="allow")


def tool_name(server: str, tool: str) -> str:
    """`mcp__SERVER__TOOL`, in the alphabet and length (64) that OpenAI-style APIs accept."""
    return f"{PREFIX}{server}__{_UNSAFE.sub('_', tool)}"[:64]


class McpTool(Tool):
    """Base of the per-tool classes `mcp_tools` makes (a tool's name and schema are class attributes)."""

    Args = McpArgs
    server: ClassVar[McpServer]
    remote_name: ClassVar[str]
    input_schema: ClassVar[dict[str, Any]]

    @classmethod
    def schema(cls) -> dict[str, Any]:
        params = dict(cls.input_schema) if isinstance(cls.input_schema, dict) else {}
        params.setdefault("type", "object")
        params.setdefault("properties", {})
        return {
            "type": "function",
            "function": {"name": cls.name, "description": cls.description, "parameters": params},
        }

    async def run(self, args: McpArgs, ctx: ToolContext) -> ToolOutput:
        arguments = dict(args.model_extra or {})
        server = self.server
        if not server.entry.trust:
            await _confirm(self.name, arguments, server, ctx)
        try:
            result = await server.call(self.remote_name, arguments)
        except Exception as exc:  # a dead server, a timeout, a protocol error: one line for the model
            raise ToolError(f"{self.name} failed: {first_line(exc)}") from None
        text = result_text(result)
        return ToolOutput(ok=not result.isError, text=text or "(no output)")


async def _confirm(name: str, arguments: dict[str, Any], server: McpServer, ctx: ToolContext) -> None:
    label = f"{name} {json.dumps(arguments, ensure_ascii=False)[:300]}"
    reason = f"a tool of MCP server {server.name!r} (from {server.entry.source}), which is not marked trusted"
    if ctx.confirm is None:
        raise ToolError(
            f"not run: {name} needs the user's confirmation ({reason}) and nobody can confirm in this run. Do "
            'the task without it, or say in your answer that the user should allow it ("trust": true).'
        )
    if not await ctx.confirm(label, reason):
        raise ToolError(
            f"the user declined this call of {name}. Do not call it again; find another way or explain in "
            "your answer what is needed."
        )


def result_text(result: mcp_types.CallToolResult) -> str:
    """A tool result as text: text parts as they are, other parts named; structured content as JSON."""
    parts: list[str] = []
    for item in result.content:
        if isinstance(item, mcp_types.TextContent):
            parts.append(item.text)
        elif isinstance(item, mcp_types.EmbeddedResource):
            res = item.resource
            text = getattr(res, "text", None)
            parts.append(text if isinstance(text, str) else f"[binary resource {res.uri}]")
        elif isinstance(item, mcp_types.ResourceLink):
            parts.append(f"[resource {item.uri}]")
        else:
            parts.append(f"[{item.type} content, {getattr(item, 'mimeType', '')} not shown]")
    if not parts and result.structuredContent is not None:
        parts.append(json.dumps(result.structuredContent, ensure_ascii=False))
    return "\n".join(parts)


def mcp_tools(manager: McpManager) -> list[Tool]:
    """Tools of every running server, one class each (name and schema are per class)."""
    out: list[Tool] = []
    for server in manager.running():
        for tool in server.tools:
            cls = type(
                "McpTool_" + _UNSAFE.sub("_", f"{server.name}_{tool.name}"),
                (McpTool,),
                {
                    "name": tool_name(server.name, tool.name),
                    "description": (tool.description or tool.title or tool.name).strip()[:1000],
                    "server": server,
                    "remote_name": tool.name,
                    "input_schema": tool.inputSchema,
                },
            )
            out.append(cls())
    return out
