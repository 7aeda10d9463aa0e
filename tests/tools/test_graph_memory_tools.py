"""The graph and memory tools through the registry: the editor's unsaved buffers reach the code graph, bad
arguments get one line for the model, an unusable index is named."""

from __future__ import annotations

from pathlib import Path

from agent_core.tools import ToolRegistry
from agent_core.tools.base import ToolContext
from agent_core.tools.graph_tools import graph_tools
from agent_core.tools.memory_tools import memory_tools
from agent_core.workspace import FileWorkspace
from tests.tools.helpers import call

TOOLS = graph_tools() + memory_tools()


class EditorWorkspace(FileWorkspace):
    """A workspace whose editor holds unsaved text (what the language server's workspace reports)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.buffers: dict[Path, str] = {}

    async def unsaved_texts(self) -> dict[Path, str]:
        return dict(self.buffers)


async def test_unsaved_editor_text_is_searched_until_it_is_gone(ctx: ToolContext) -> None:
    (ctx.root / "shop.py").write_text("def checkout(cart):\n    return cart\n")
    editor = EditorWorkspace(ctx.root)
    ctx.workspace = editor
    found = await call(ctx, "graph_search", TOOLS, query="checkout")
    assert found.ok and found.text.startswith("shop.py:1 function checkout — def checkout(cart)")
    editor.buffers[ctx.root / "shop.py"] = (
        "def checkout(cart):\n    return cart\n\n\ndef refund(order):\n    pass\n"
    )
    assert (await call(ctx, "graph_search", TOOLS, query="refund")).text.startswith(
        "shop.py:5 function refund"
    )
    editor.buffers.clear()  # closed without saving: the disk's version again
    assert (await call(ctx, "graph_search", TOOLS, query="refund")).text.startswith("No definitions match")


async def test_bad_arguments_and_an_unusable_index_get_one_line(ctx: ToolContext) -> None:
    registry = ToolRegistry(TOOLS)
    for tool, args in (("graph_search", {"query": " "}), ("explain_symbol", {"name": ""})):
        out = await registry.execute(tool, args, ctx)
        assert not out.ok and len(out.text.splitlines()) == 1 and "empty" in out.text
    out = await call(ctx, "memory_remember", TOOLS, text="")
    assert not out.ok and out.text == "the note is empty: give the fact to remember as text"
    (ctx.root / "a.py").write_text("def a():\n    pass\n")
    (ctx.root / ".smallcode").write_text("a file where the folder should be")
    out = await call(ctx, "graph_search", TOOLS, query="a")
    assert not out.ok and out.text.startswith("the code index is unavailable (")
    assert out.text.endswith("use search and find_files instead.")


async def test_memory_and_scratchpad_tools(ctx: ToolContext) -> None:
    assert (await call(ctx, "memory_load", TOOLS, query="tests")).text == "No remembered notes match 'tests'."
    await call(ctx, "memory_remember", TOOLS, text="The tests run with make test.")
    assert (
        "The tests run with make test." in (await call(ctx, "memory_load", TOOLS, query="how to test")).text
    )
    saved = await call(ctx, "scratchpad", TOOLS, text="x" * 5000)
    assert saved.ok and "cut: keep it shorter" in saved.text
    assert (await call(ctx, "scratchpad", TOOLS, text="")).text == "Scratchpad cleared."
