"""The code graph's tools: `graph_search {query}` and `explain_symbol {name}`. Each brings the index up to
date first (a stat walk; only changed files are parsed), in a thread, so the event loop never waits."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from agent_core.context.tokens import TokenCounter
from agent_core.memory.graph import lookup
from agent_core.memory.graph.index import CodeIndex
from agent_core.memory.graph.store import GraphStore
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput

FIRST_BUILD_WAIT = 20.0
"""Seconds a graph tool waits for the index; after that it answers from what is indexed so far."""
_counter = TokenCounter()


async def fresh_index(ctx: ToolContext) -> tuple[CodeIndex, str]:
    """The workspace's index brought up to date, the editor's unsaved buffers included (or as far as it got in
    FIRST_BUILD_WAIT), and a note for the model when it is not complete yet."""
    index = CodeIndex.for_root(ctx.root)
    done = await asyncio.to_thread(index.catch_up, await ctx.workspace.unsaved_texts(), FIRST_BUILD_WAIT)
    if index.error is not None:
        raise ToolError(f"the code index is unavailable ({index.error}); use search and find_files instead.")
    return index, "" if done else "[the code index is still being built: results may be incomplete]\n"


def _query(index: CodeIndex, fn: Any, *args: Any) -> str:
    store = GraphStore(index.path)
    try:
        return str(fn(store, *args))
    finally:
        store.close()


class GraphSearchArgs(ToolArgs):
    query: str = Field(
        description="A name (parse_reply, Client.send) or a few words saying what the code does "
        '("where tool calls are parsed").'
    )


class GraphSearchTool(Tool):
    name = "graph_search"
    description = (
        "Find definitions (functions, classes, methods) by name or by a phrase describing them; answers "
        "'path:line kind name — signature' lines, best first."
    )
    Args = GraphSearchArgs

    async def run(self, args: GraphSearchArgs, ctx: ToolContext) -> ToolOutput:
        if not args.query.strip():
            raise ToolError("query is empty: give a name or a few words describing the code you look for.")
        index, note = await fresh_index(ctx)
        text = await asyncio.to_thread(_query, index, lookup.render_search, args.query)
        return ToolOutput(text=note + text)


class ExplainSymbolArgs(ToolArgs):
    name: str = Field(
        description="The definition: a name, Class.method, or path:name when the name is common."
    )


class ExplainSymbolTool(Tool):
    name = "explain_symbol"
    description = (
        "Show one definition: where it is, its signature, docstring and code, who calls it and what it calls."
    )
    Args = ExplainSymbolArgs

    async def run(self, args: ExplainSymbolArgs, ctx: ToolContext) -> ToolOutput:
        if not args.name.strip():
            raise ToolError("name is empty: give a function, class or method name (graph_search finds them).")
        index, note = await fresh_index(ctx)
        # A fifth of the result cap in tokens (about 800 for the default 4000 characters): room for the code.
        budget = max(200, ctx.settings.max_tool_result_chars // 5)
        text = await asyncio.to_thread(
            _query, index, lookup.explain, ctx.root.resolve(), args.name, budget, _counter.estimate
        )
        return ToolOutput(text=note + text)


def graph_tools() -> list[Tool]:
    return [GraphSearchTool(), ExplainSymbolTool()]
