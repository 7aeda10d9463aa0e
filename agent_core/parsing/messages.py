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


CUT_OFF_LEAD = "Your reply was cut off"
"""Every cut-off message starts so (the parser keeps one of them when a reply holds several)."""


def _append_tool(toolset: ToolSet) -> ToolInfo | None:
    """A tool that writes a file and can add to its end (`append`), for writing a long file in parts."""
    for tool in toolset.tools.values():
        kind = tool.params.get("append", {}).get("type")
        if kind == "boolean" and "content" in tool.params:
            return tool
    return None


def cut_off(tool: ToolInfo | None, family: Family, toolset: ToolSet, limit: bool = False) -> str:
    """The reply stopped before it ended (`limit`: at the token limit; else it ends mid-call): nothing
    ran; how to go on."""
    what = f"before your {tool.name} call was finished" if tool else "before it was finished"
    if limit:
        what += " (it reached the token limit)"
    writer = _append_tool(toolset)
    if writer is not None and (tool is None or "content" in tool.params or tool.name == writer.name):
        advice = (
            "Send a shorter call. For a long file, write it in parts: the first part with "
            f'{writer.name}, then each next part with {writer.name} and "append": true.'
        )
    else:
        advice = (
            "Send a shorter call: one call, no long text before it, and big changes split into smaller ones."
        )
    text = f"{CUT_OFF_LEAD} {what} (it reached the token limit), so nothing in it was run. {advice}"
    if tool is not None:
        text += f" {SHAPE_LEAD} {expected_shape(tool, family, toolset)}"
    return text


def ambiguous_argument(tool: ToolInfo, key: str, targets: list[str], family: Family, toolset: ToolSet) -> str:
    """An argument name that could mean several of the tool's parameters: ask rather than guess."""
    options = " or ".join(targets)
    return (
        f"Your {tool.name} call has an argument {key[:40]!r} that could be {options}, so nothing was run. "
        f"Name each argument exactly as the tool does. {SHAPE_LEAD} {expected_shape(tool, family, toolset)}"
    )


def unknown_arguments(
    tool: ToolInfo, unknown: list[str], missing: list[str], family: Family, toolset: ToolSet
) -> str:
    """Arguments the tool does not take while a required one is missing: which was meant is unclear."""
    return (
        f"Your {tool.name} call has arguments it does not take ({', '.join(k[:40] for k in unknown[:5])}) "
        f"and lacks {', '.join(missing)}, so nothing was run. Use the tool's own argument names. "
        f"{SHAPE_LEAD} {expected_shape(tool, family, toolset)}"
    )
