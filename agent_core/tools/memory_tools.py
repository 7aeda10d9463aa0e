"""Memory tools: `memory_remember {text}` and `memory_load {query}` (notes that outlive the session, searched
with FTS5 where SQLite has it), and `scratchpad {text}` (working notes shown with every request)."""

from __future__ import annotations

import asyncio
import time

from pydantic import Field

from agent_core.memory import notes, scratchpad
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput


class RememberArgs(ToolArgs):
    text: str = Field(description="One fact worth keeping, in a sentence (e.g. 'tests run with make test').")


class MemoryRememberTool(Tool):
    name = "memory_remember"
    description = "Remember a fact about this project for later sessions: a command that works, a convention, a pitfall."
    Args = RememberArgs

    async def run(self, args: RememberArgs, ctx: ToolContext) -> ToolOutput:
        try:
            note = await asyncio.to_thread(notes.add_note, ctx.root, args.text)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        return ToolOutput(text=f"Remembered as note #{note['id']}; memory_load finds it in later sessions.")


class LoadArgs(ToolArgs):
    query: str = Field(description="Words to look for in remembered notes; empty for the newest notes.")


class MemoryLoadTool(Tool):
    name = "memory_load"
    description = (
        "Look up facts remembered in earlier sessions (memory_remember), by words; best matches first."
    )
    Args = LoadArgs

    async def run(self, args: LoadArgs, ctx: ToolContext) -> ToolOutput:
        found = await asyncio.to_thread(notes.search_notes, ctx.root, args.query)
        if not found:
            return ToolOutput(text=f"No remembered notes match {args.query!r}.")
        lines = [
            f"#{n.get('id')} ({time.strftime('%Y-%m-%d', time.localtime(float(n.get('at', 0))))}) {n['text']}"
            for n in found
        ]
        return ToolOutput(text="\n".join(lines))


class ScratchpadArgs(ToolArgs):
    text: str = Field(
        description="The whole new scratchpad (it replaces the old one): findings, decisions, what is left."
    )


class ScratchpadTool(Tool):
    name = "scratchpad"
    description = (
        "Rewrite your scratchpad: short working notes (findings, what is left to do) shown to you with every "
        "request. An empty text clears it."
    )
    Args = ScratchpadArgs

    async def run(self, args: ScratchpadArgs, ctx: ToolContext) -> ToolOutput:
        kept = await asyncio.to_thread(scratchpad.write_pad, ctx.root, args.text)
        if not kept:
            return ToolOutput(text="Scratchpad cleared.")
        cut = " (cut: keep it shorter)" if len(kept) < len(args.text.strip()) else ""
        return ToolOutput(
            text=f"Scratchpad saved, {len(kept)} characters{cut}; you see it with every request."
        )


def memory_tools() -> list[Tool]:
    return [MemoryRememberTool(), MemoryLoadTool(), ScratchpadTool()]
