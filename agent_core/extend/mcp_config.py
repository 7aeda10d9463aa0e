"""MCP server declarations: `~/.config/smallcode/mcp.json` (the user's) and `.smallcode/mcp.json` (the
workspace's), in the shape most clients use:

    {"mcpServers": {"NAME": {"command": "...", "args": [...], "env": {...}, "trust": false}
                             | {"url": "https://...", "trust": false}}}

A workspace's mcp.json starts programs of the project's choosing, so it is workspace configuration that weakens
safety: its servers are used only when the user said yes to exactly those entries for this workspace
(agent_core/safety/trust.py, topic "mcp"; asked once on a terminal, remembered, asked again when they change).
A name declared in both files is the user's.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent_core.config import Ask
from agent_core.safety import trust

log = logging.getLogger("smallcode.mcp")

NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
"""Server names become part of tool names (`mcp__NAME__TOOL`), which OpenAI-style APIs limit to this alphabet."""


class ServerEntry(BaseModel):
    """One server: a program over stdio (`command`) or a streamable-HTTP endpoint (`url`)."""

    model_config = ConfigDict(extra="ignore")

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    """The server's whole environment beyond PATH-like basics: nothing else of SmallCode's is inherited."""
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    trust: bool = False
    """Run its tools without asking each time (else they are confirmed like ask-list shell commands)."""
    source: str = ""
    """Which file declared it (for messages)."""

    @model_validator(mode="after")
    def _one_transport(self) -> ServerEntry:
        if bool(self.command) == bool(self.url):
            raise ValueError("give either `command` (stdio) or `url` (streamable HTTP)")
        return self

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"


def user_file() -> Path:
    return trust.user_config_file().parent / "mcp.json"


def workspace_file(root: Path) -> Path:
    return root / ".smallcode" / "mcp.json"


class McpConfig(BaseModel):
    servers: dict[str, ServerEntry] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)
    """One line per file or entry that could not be used (shown by /mcp)."""


def _read(path: Path, problems: list[str]) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{path}: not valid JSON ({exc})")
        return {}
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        problems.append(f'{path}: expected {{"mcpServers": {{NAME: {{command, args, env}} | {{url}}}}}}')
        return {}
    return servers


def _entries(raw: dict[str, Any], source: Path, problems: list[str]) -> dict[str, ServerEntry]:
    out: dict[str, ServerEntry] = {}
    for name, value in raw.items():
        if not NAME.match(str(name)):
            problems.append(f"{source}: server name {name!r} must be letters, digits, _ or - (at most 40)")
            continue
        try:
            entry = ServerEntry.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            problems.append(f"{source}: server {name!r}: {where + ': ' if where else ''}{first['msg']}")
            continue
        out[name] = entry.model_copy(update={"source": str(source)})
    return out


def load_mcp_config(root: Path, ask: Ask | None = None) -> McpConfig:
    """The servers to use for workspace `root`. `ask` (a terminal's yes/no) is asked about a workspace
    mcp.json the user has not answered for yet; without it such servers are left out with a warning."""
    problems: list[str] = []
    user = _entries(_read(user_file(), problems), user_file(), problems)
    path = workspace_file(root)
    raw = _read(path, problems)
    project = {k: v for k, v in raw.items() if k not in user}
    if project:
        allowed = trust.decision(root, project, topic="mcp")
        if allowed is None and ask is not None:
            names = ", ".join(sorted(project))
            trusted = [k for k, v in project.items() if isinstance(v, dict) and v.get("trust") is True]
            unasked = f" ({', '.join(trusted)} would run tools without asking you)" if trusted else ""
            allowed = ask(
                f"{path} in this project declares MCP servers ({names}) that SmallCode would start or "
                f"connect to: programs chosen by the project, not by you{unasked}. Use them for this project?"
            )
            trust.remember(root, project, allowed, topic="mcp")
        if allowed:
            user.update(_entries(project, path, problems))
        else:
            why = (
                "you declined them" if allowed is False else "run smallcode here on a terminal to allow them"
            )
            problems.append(f"{path}: servers {', '.join(sorted(project))} not used ({why})")
            log.warning("MCP servers of %s not used (%s)", path, why)
    return McpConfig(servers=user, problems=problems)
