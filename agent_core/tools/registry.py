"""The tools a run offers, their OpenAI schemas, and validated execution with capped results."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from agent_core.tools.base import Tool, ToolContext, ToolError, ToolOutput


def cap_text(text: str, limit: int, hint: str = "") -> str:
    """Keep a result under `limit` characters, saying how much was cut and how to read the rest."""
    if len(text) <= limit:
        return text
    note = f"\n[… {len(text) - limit} more characters cut. {hint or 'Narrow the request to see the rest.'}]"
    keep = max(0, limit - len(note))
    return text[:keep] + note


def describe_validation_error(tool: type[Tool], exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        problems.append(f"{where}: {err['msg']}")
    expected = json.dumps(tool.Args.model_json_schema().get("properties", {}), separators=(",", ":"))
    required = tool.Args.model_json_schema().get("required", [])
    return (
        f"Invalid arguments for {tool.name}: {'; '.join(problems)}. "
        f"Expected {{{', '.join(repr(r) for r in required)}}} (schema {expected})."
    )


class ToolRegistry:
    def __init__(self, tools: list[Tool]) -> None:
        self._tools = {tool.name: tool for tool in tools}

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def add(self, tools: Iterable[Tool]) -> list[str]:
        """Add tools (from plugins, MCP servers); one whose name is taken is left out. Returns those left out."""
        clashes = []
        for tool in tools:
            if tool.name in self._tools:
                clashes.append(tool.name)
            else:
                self._tools[tool.name] = tool
        return clashes

    def remove(self, names: Iterable[str]) -> None:
        for name in names:
            self._tools.pop(name, None)

    def without(self, names: Iterable[str]) -> ToolRegistry:
        """The same tools minus `names` (e.g. plan tools for a one-step task)."""
        drop = set(names)
        return ToolRegistry([tool for name, tool in self._tools.items() if name not in drop])

    def schemas(self) -> list[dict[str, Any]]:
        return [tool.schema() for tool in self._tools.values()]

    async def execute(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        """Validate and run one call; every failure becomes a ToolOutput(ok=False) the model can read."""
        tool = self._tools.get(name)
        if tool is None:
            return ToolOutput(
                ok=False, text=f"Unknown tool {name!r}. Available tools: {', '.join(self._tools)}."
            )
        garbled = [key for key in arguments if key not in tool.Args.model_fields and _looks_like_content(key)]
        if garbled:
            # Broken quoting turns file content into an argument *name* (seen with real small models):
            # running the call would write an empty or truncated file.
            return ToolOutput(
                ok=False,
                text=(
                    f"The arguments of {name} are garbled: {garbled[0][:60]!r}… ended up as an argument name, so "
                    "the JSON quoting broke. Send the call again with every value inside its own quotes, "
                    'newlines written as \\n and quotes inside values as \\".'
                ),
            )
        try:
            args = tool.Args.model_validate(arguments)
        except ValidationError as exc:
            return ToolOutput(ok=False, text=describe_validation_error(type(tool), exc))
        hooks = ctx.hooks
        refusal = await hooks.before_tool(name, arguments) if hooks is not None else None
        if refusal:  # a plugin's policy: the call is not run and the model reads why
            return ToolOutput(ok=False, text=refusal)
        try:
            output = await tool.run(args, ctx)
        except ToolError as exc:
            output = ToolOutput(ok=False, text=str(exc))
        else:
            output.text = cap_text(output.text, ctx.settings.max_tool_result_chars, _read_more_hint(name))
        if hooks is not None:
            await hooks.after_tool(name, arguments, output)
            if not output.ok:
                await hooks.on_error(f"{name}: {output.text.splitlines()[0] if output.text else 'failed'}")
        return output


def _looks_like_content(key: str) -> bool:
    return "\n" in key or len(key) > 60


def _read_more_hint(name: str) -> str:
    if name == "read_file":
        return "Call read_file again with start_line/end_line to read the rest."
    if name == "bash":
        return "Pipe the command through head, tail or grep to see a smaller part."
    return "Narrow the pattern or path to see the rest."
