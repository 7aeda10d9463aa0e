from __future__ import annotations

import pytest

from agent_core.tools import default_tools
from agent_core.tools.base import Tool, ToolContext, ToolOutput
from agent_core.tools.search import MAX_SHOWN, SearchTool, find_ripgrep
from tests.tools.helpers import call


@pytest.fixture(params=["ripgrep", "python"])
def tools(request: pytest.FixtureRequest) -> list[Tool]:
    if request.param == "ripgrep" and find_ripgrep() is None:
        pytest.skip("rg is not installed (pip install ripgrep)")
    others = [t for t in default_tools() if t.name != "search"]
    return [*others, SearchTool(use_ripgrep=request.param == "ripgrep")]


def make_tree(ctx: ToolContext) -> None:
    files = {
        "app.py": "import os\n\ndef handler(event):\n    return os.getenv('X')\n",
        "pkg/util.py": "def helper():\n    return handler_name\n",
        "pkg/readme.md": "call handler(event) here\n",
        "build/out.py": "def handler(event): pass\n",
        "node_modules/m/index.js": "function handler(event) {}\n",
        ".venv/lib/x.py": "def handler(event): pass\n",
    }
    for name, text in files.items():
        path = ctx.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (ctx.root / "blob.bin").write_bytes(b"\x00\x01handler(event)\x00")
    (ctx.root / "huge.txt").write_text("handler(event)\n" + "x" * 2_100_000)
    (ctx.root / ".gitignore").write_text("build/\n")


async def search(ctx: ToolContext, tools: list[Tool], **args: object) -> ToolOutput:
    return await call(ctx, "search", tools=tools, **args)


async def test_regex_matches_lines_and_skips_ignored_binary_and_huge(
    ctx: ToolContext, tools: list[Tool]
) -> None:
    make_tree(ctx)
    out = await search(ctx, tools, pattern=r"handler\(\w+\)")
    assert out.ok
    assert out.text.splitlines() == [
        "app.py:3: def handler(event):",
        "pkg/readme.md:1: call handler(event) here",
        "[2 matches in 2 files]",
    ]


async def test_path_and_glob_narrow_the_search(ctx: ToolContext, tools: list[Tool]) -> None:
    make_tree(ctx)
    out = await search(ctx, tools, pattern="handler", path="pkg")
    assert [line.split(":")[0] for line in out.text.splitlines()[:-1]] == ["pkg/readme.md", "pkg/util.py"]
    out = await search(ctx, tools, pattern="handler", glob="*.py")
    assert out.text.splitlines() == [
        "app.py:3: def handler(event):",
        "pkg/util.py:2: return handler_name",
        "[2 matches in 2 files (files matching '*.py')]",
    ]
    out = await search(ctx, tools, pattern="getenv", path="app.py")
    assert out.text.splitlines()[0] == "app.py:4: return os.getenv('X')"


async def test_invalid_regex_falls_back_to_literal_and_says_so(ctx: ToolContext, tools: list[Tool]) -> None:
    make_tree(ctx)
    out = await search(ctx, tools, pattern="handler(event")
    assert out.ok
    lines = out.text.splitlines()
    assert lines[0].startswith("['handler(event' is not a valid regex (")
    assert lines[0].endswith("searched for it as literal text instead]")
    assert lines[1:] == [
        "app.py:3: def handler(event):",
        "pkg/readme.md:1: call handler(event) here",
        "[2 matches in 2 files]",
    ]


async def test_lookaround_works_on_both_paths(ctx: ToolContext, tools: list[Tool]) -> None:
    make_tree(ctx)  # rg's default engine has no lookaround: the tool falls back to Python re
    out = await search(ctx, tools, pattern=r"handler(?=_name)")
    assert out.text.splitlines() == ["pkg/util.py:2: return handler_name", "[1 match in 1 file]"]


async def test_no_match_hints_at_case(ctx: ToolContext, tools: list[Tool]) -> None:
    make_tree(ctx)
    out = await search(ctx, tools, pattern="HANDLER")
    assert out.ok
    assert out.text == "No matches for 'HANDLER'. Patterns are case-sensitive; try (?i) or a shorter pattern."


async def test_many_matches_are_capped(ctx: ToolContext, tools: list[Tool]) -> None:
    (ctx.root / "many.txt").write_text("hit\n" * 300)
    out = await search(ctx, tools, pattern="hit")
    lines = out.text.splitlines()
    assert len(lines) == MAX_SHOWN + 1
    assert lines[-1] == "[showing 100 of 300 matches in 1 file; narrow the pattern, path or glob]"


async def test_bad_path(ctx: ToolContext, tools: list[Tool]) -> None:
    out = await search(ctx, tools, pattern="x", path="missing")
    assert not out.ok and "does not exist" in out.text
    out = await search(ctx, tools, pattern="x", path="../..")
    assert not out.ok and "outside the workspace" in out.text
