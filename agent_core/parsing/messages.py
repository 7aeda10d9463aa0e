"""Messages for the model when a call it clearly attempted cannot be used: what was wrong, and the exact
shape to send instead, in the format family it was writing (JSON, XML or Python call)."""

from __future__ import annotations

import json
from typing import Any

from agent_core.parsing.toolset import ToolInfo, ToolSet
from agent_core.parsing.types import Family

SHAPE_LEAD = 'Send it in this shape, with real values in place of "...":'
"""Not "send exactly": small models then copy the example verbatim, placeholders and all (seen from the
0.5B). A call that still holds only placeholders is refused (normalize.is_placeholder)."""


def placeholder(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None and isinstance(schema.get("anyOf"), list):
        kind = next(
            (s.get("type") for s in schema["anyOf"] if isinstance(s, dict) and s.get("type") != "null"), None
        )
    return {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(str(kind), "...")


def example_arguments(tool: ToolInfo) -> dict[str, Any]:
    """Required parameters first (all of them), then optional ones only when nothing is required."""
    names = tool.required or list(tool.params)[:2]
    return {n: placeholder(tool.params.get(n, {})) for n in names}


def expected_shape(tool: ToolInfo | None, family: Family, toolset: ToolSet) -> str:
    if tool is None:
        first = next(iter(toolset.tools.values()), None)
        tool = first if first is not None else ToolInfo(name="TOOL_NAME")
    args = example_arguments(tool)
    if family == "xml":
        params = "".join(
            f"<parameter={k}>{v if isinstance(v, str) else json.dumps(v)}</parameter>"
            for k, v in args.items()
        )
        return f"<function={tool.name}>{params}</function>"
    if family == "python":
        inner = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return f"{tool.name}({inner})"
    call = json.dumps({"name": tool.name, "arguments": args})
    if family == "json_fence":
        return f"```json\n{call}\n```"
    return f"<tool_call>{call}</tool_call>"


def available(toolset: ToolSet) -> str:
    return ", ".join(toolset.names()) or "(none)"


def no_name(family: Family, toolset: ToolSet) -> str:
    return (
        "Your tool call has no tool name, so nothing was run. "
        f"Name one of: {available(toolset)}. {SHAPE_LEAD} {expected_shape(None, family, toolset)}"
    )


def unknown_tool(name: str, family: Family, toolset: ToolSet, fits: ToolInfo | None = None) -> str:
    """`fits`: the one real tool whose parameters the call's arguments match (named as a hint, never run)."""
    hint = f" Your arguments fit {fits.name}." if fits is not None else ""
    return (
        f"There is no tool named {name[:60]!r}, so nothing was run.{hint} "
        f"Use one of: {available(toolset)}. {SHAPE_LEAD} {expected_shape(fits, family, toolset)}"
    )


def bad_arguments(tool: ToolInfo, detail: str, family: Family, toolset: ToolSet) -> str:
    return (
        f"Could not read the arguments of your {tool.name} call: {detail}. Nothing was run. "
        f"{SHAPE_LEAD} {expected_shape(tool, family, toolset)}"
    )


def placeholder_arguments(tool: ToolInfo, family: Family, toolset: ToolSet) -> str:
    return (
        f'Your {tool.name} call has placeholders ("...") instead of real values, so nothing was run. '
        f"{SHAPE_LEAD} {expected_shape(tool, family, toolset)}"
    )
