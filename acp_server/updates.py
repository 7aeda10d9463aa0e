"""The agent's tools, plans and commands as ACP shapes: tool kinds and titles, the locations a call touches,
plan entries, available commands. Pure functions: no connection, no agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acp.schema import (
    AvailableCommand,
    AvailableCommandInput,
    PlanEntry,
    ToolCallLocation,
    ToolKind,
    UnstructuredCommandInput,
)

from agent_core.tools.base import describe_call

KINDS: dict[str, ToolKind] = {
    "read_file": "read",
    "write_file": "edit",
    "patch": "edit",
    "bash": "execute",
    "search": "search",
    "find_files": "search",
    "graph_search": "search",
    "explain_symbol": "search",
    "memory_load": "search",
    "web_fetch": "fetch",
    "web_search": "fetch",
    "plan": "think",
    "todo": "think",
}

PLAN_STATUS = {
    "pending": "pending",
    "running": "in_progress",
    "done": "completed",
    "skipped": "completed",
    "failed": "pending",  # a failed step is tried again (or the plan is revised)
}

TERMINAL_ONLY = {"quit"}
"""Slash commands that make no sense in an editor's agent panel."""

ARGUMENT_HINTS = {
    "trace": "show ID | export ID",
    "memory": "add TEXT | clear",
    "model": "model name to switch to",
    "sessions": "resume ID",
    "undo": "redo | run N | to ID | list",
    "diff": "run N | ID | A..B",
}


def tool_kind(name: str) -> ToolKind:
    return KINDS.get(name, "other")


def tool_title(name: str, args: dict[str, Any]) -> str:
    """`bash pytest -q`, `read_file src/app.py`: what the user sees on the tool call."""
    return describe_call(name, args, width=120)


def tool_locations(root: Path, name: str, args: dict[str, Any]) -> list[ToolCallLocation]:
    """The files a call reads or changes (absolute paths), with the first line when the call names one.
    Edit blocks name several files in one `path` ("a.py, b.py")."""
    raw = args.get("path")
    if not isinstance(raw, str) or not raw.strip() or KINDS.get(name) not in ("read", "edit", "search"):
        return []
    line = args.get("start_line") if name == "read_file" else None
    out = []
    for part in raw.split(", ") if name == "patch" else [raw]:
        path = Path(part.strip())
        full = path if path.is_absolute() else root / path
        out.append(
            ToolCallLocation(path=str(full), line=line if isinstance(line, int) and line > 0 else None)
        )
    return out


def plan_entries(steps: list[Any]) -> list[PlanEntry]:
    """The agent's TODO plan (agent_core.planning.PlanStep) as ACP plan entries, in order."""
    entries = []
    for step in steps:
        title = str(getattr(step, "title", step))
        where = getattr(step, "file", None)
        entries.append(
            PlanEntry(
                content=f"{title} ({where})" if where and where not in title else title,
                priority="medium",
                status=PLAN_STATUS.get(str(getattr(step, "status", "pending")), "pending"),  # type: ignore[arg-type]
            )
        )
    return entries


def available_commands(commands: dict[str, str]) -> list[AvailableCommand]:
    """The slash commands (agent_core.commands.COMMANDS) an editor can offer after `/`."""
    return [
        AvailableCommand(
            name=name,
            description=text,
            input=AvailableCommandInput(root=UnstructuredCommandInput(hint=ARGUMENT_HINTS[name]))
            if name in ARGUMENT_HINTS
            else None,
        )
        for name, text in commands.items()
        if name not in TERMINAL_ONLY
    ]
