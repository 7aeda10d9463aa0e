"""The MCP servers an editor passes with session/new or session/load, as the agent core's MCP configuration.

They join the user's own servers (~/.config/smallcode/mcp.json, and the workspace's when the user allowed it;
agent_core.extend.mcp_config) and start with the session's first run like those do. The editor's settings are
the user's, so they need no workspace trust; their tools are not marked trusted, so each call asks first
(session/request_permission). SSE servers are not supported by the MCP client (stdio and streamable HTTP are).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent_core.extend.mcp_config import McpConfig, ServerEntry, load_mcp_config

SOURCE = "the editor (ACP session)"


def server_name(name: str) -> str:
    """A name usable in tool names (`mcp__NAME__TOOL`: letters, digits, _ and -, at most 40)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name.strip())[:40].strip("_") or "server"


def editor_entries(servers: list[Any]) -> tuple[dict[str, ServerEntry], list[str]]:
    """The ACP server declarations (stdio, http, sse) as ServerEntry by name, and one line per one not used."""
    entries: dict[str, ServerEntry] = {}
    problems: list[str] = []
    for server in servers:
        name = server_name(str(getattr(server, "name", "")))
        kind = getattr(server, "type", None) or ("stdio" if getattr(server, "command", None) else "http")
        try:
            if kind == "stdio":
                entry = ServerEntry(
                    command=server.command,
                    args=list(server.args or []),
                    env={e.name: e.value for e in server.env or []},
                    source=SOURCE,
                )
            elif kind == "http":
                headers = {h.name: h.value for h in server.headers or []}
                entry = ServerEntry(url=server.url, headers=headers, source=SOURCE)
            else:
                problems.append(
                    f"{SOURCE}: server {name!r} uses {kind}, which is not supported (stdio or http)"
                )
                continue
        except ValidationError as exc:
            problems.append(f"{SOURCE}: server {name!r}: {exc.errors()[0]['msg']}")
            continue
        entries[name] = entry
    return entries, problems


def session_config(root: Path, servers: list[Any]) -> McpConfig:
    """The user's servers for `root`, with the editor's (an editor's server wins over one of the same name)."""
    config = load_mcp_config(root)
    entries, problems = editor_entries(servers)
    return McpConfig(servers={**config.servers, **entries}, problems=[*config.problems, *problems])
