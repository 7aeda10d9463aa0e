from __future__ import annotations

from agent_core.tools.base import ToolContext
from tests.tools.helpers import call


def make_tree(ctx: ToolContext) -> None:
    files = {
        "setup.py": "",
        "src/app/main.py": "",
        "src/app/util.py": "",
        "src/web/index.ts": "",
        "src/web/view.tsx": "",
        "tests/test_main.py": "",
        "build/gen.py": "",
        "logs/debug.log": "",
        "logs/keep.log": "",
        "vendor/lib/x.py": "",
        "vendor/lib/keep.py": "",
        "node_modules/pkg/index.py": "",
        ".venv/lib/site.py": "",
        "src/__pycache__/main.cpython-311.py": "",
        ".smallcode/traces/t.py": "",
        ".git/hooks/h.py": "",
    }
    for name, text in files.items():
        path = ctx.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (ctx.root / ".gitignore").write_text("build/\n*.log\n!keep.log\n")
    (ctx.root / "vendor" / ".gitignore").write_text("lib/*\n!lib/keep.py\n")


async def listed(ctx: ToolContext, pattern: str) -> list[str]:
    out = await call(ctx, "find_files", pattern=pattern)
    assert out.ok, out.text
    return out.text.splitlines()[1:]


async def test_bare_name_glob_matches_at_any_depth_and_honours_gitignore(ctx: ToolContext) -> None:
    make_tree(ctx)
    out = await call(ctx, "find_files", pattern="*.py")
    assert out.text.splitlines() == [
        "5 files match '*.py':",
        "setup.py",
        "src/app/main.py",
        "src/app/util.py",
        "tests/test_main.py",
        "vendor/lib/keep.py",
    ]


async def test_negation_in_root_gitignore(ctx: ToolContext) -> None:
    make_tree(ctx)
    assert await listed(ctx, "*.log") == ["logs/keep.log"]


async def test_double_star_and_anchored_patterns(ctx: ToolContext) -> None:
    make_tree(ctx)
    assert await listed(ctx, "src/**/*.py") == ["src/app/main.py", "src/app/util.py"]
    assert await listed(ctx, "src/*.py") == []
    assert await listed(ctx, "./src/app/*.py") == ["src/app/main.py", "src/app/util.py"]
    assert await listed(ctx, str(ctx.root.resolve() / "tests" / "*.py")) == ["tests/test_main.py"]


async def test_braces_and_plain_names(ctx: ToolContext) -> None:
    make_tree(ctx)
    assert await listed(ctx, "*.{ts,tsx}") == ["src/web/index.ts", "src/web/view.tsx"]
    assert await listed(ctx, "main.py") == ["src/app/main.py"]


async def test_no_match_explains_the_syntax(ctx: ToolContext) -> None:
    make_tree(ctx)
    out = await call(ctx, "find_files", pattern="*.rs")
    assert out.ok
    assert out.text.startswith("No files match '*.rs'.") and "**" in out.text


async def test_long_lists_are_capped_with_the_count(ctx: ToolContext) -> None:
    for i in range(250):
        (ctx.root / f"f{i:03d}.txt").write_text("")
    out = await call(ctx, "find_files", pattern="*.txt")
    lines = out.text.splitlines()
    assert lines[0] == "250 files match '*.txt':"
    assert len(lines) == 202
    assert lines[-1] == "[showing the first 200 of 250; use a narrower pattern]"


async def test_empty_pattern(ctx: ToolContext) -> None:
    out = await call(ctx, "find_files", pattern="  ")
    assert not out.ok and "pattern is empty" in out.text
