"""A SmallCode plugin for tests (installed by tests/extend/test_plugins.py): a tool, a slash command and every
hook; what the hooks saw is kept in EVENTS."""

from __future__ import annotations

from typing import Any

from agent_core.tools import Tool, ToolArgs, ToolContext, ToolOutput

EVENTS: list[tuple[Any, ...]] = []


class ShoutArgs(ToolArgs):
    text: str


class ShoutTool(Tool):
    name = "demo_shout"
    description = "Say the text loudly."
    Args = ShoutArgs

    async def run(self, args: ShoutArgs, ctx: ToolContext) -> ToolOutput:
        return ToolOutput(text=args.text.upper() + "!")


class DemoPlugin:
    name = "demo"

    def tools(self) -> list[Tool]:
        return [ShoutTool()]

    def commands(self) -> dict[str, Any]:
        return {"demo": self.demo}

    async def demo(self, agent: Any, words: list[str]) -> str:
        return f"demo says {' '.join(words) or 'hi'} in {agent.root.name}"

    def before_request(self, messages: list[Any], tools: list[Any]) -> None:
        EVENTS.append(("before_request", len(messages), len(tools)))

    async def after_request(self, reply: Any) -> None:
        EVENTS.append(("after_request", reply.content))

    def before_tool(self, name: str, arguments: dict[str, Any]) -> str | None:
        EVENTS.append(("before_tool", name))
        if "forbidden" in str(arguments):
            return "the demo plugin refuses this call"
        return None

    def after_tool(self, name: str, arguments: dict[str, Any], output: Any) -> None:
        EVENTS.append(("after_tool", name, output.ok))

    def on_error(self, error: str) -> None:
        EVENTS.append(("on_error", error))
