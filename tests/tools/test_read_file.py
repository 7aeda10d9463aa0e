from __future__ import annotations

import os
from pathlib import Path

from agent_core.tools.base import ToolContext
from tests.tools.helpers import MakeCtx, call


def write_lines(ctx: ToolContext, name: str, count: int) -> None:
    path = ctx.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"line {i}\n" for i in range(1, count + 1)))


async def test_small_file_is_numbered_and_recorded_as_read(ctx: ToolContext) -> None:
    (ctx.root / "a.py").write_text("def f():\n    return 1\n")
    out = await call(ctx, "read_file", path="a.py")
    assert out.ok
    assert out.text == "   1| def f():\n   2|     return 1"
    assert (ctx.root / "a.py").resolve() in ctx.read_paths


async def test_range_is_inclusive_and_says_where_it_is(ctx: ToolContext) -> None:
    write_lines(ctx, "big.txt", 50)
    out = await call(ctx, "read_file", path="big.txt", start_line=10, end_line=12)
    assert out.text.splitlines() == [
        "  10| line 10",
        "  11| line 11",
        "  12| line 12",
        "[lines 10-12 of 50; call read_file with start_line=13 to read on]",
    ]


async def test_range_to_the_end_says_end_of_file(ctx: ToolContext) -> None:
    write_lines(ctx, "f.txt", 20)
    out = await call(ctx, "read_file", path="f.txt", start_line=19, end_line=400)
    assert out.text.splitlines()[-1] == "[lines 19-20 of 20; end of file]"
    assert "  20| line 20" in out.text


async def test_large_file_is_paged_by_lines(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(max_tool_result_chars=100_000)
    write_lines(ctx, "big.txt", 5000)
    out = await call(ctx, "read_file", path="big.txt")
    lines = out.text.splitlines()
    assert lines[0] == "   1| line 1"
    assert lines[199] == " 200| line 200"
    assert lines[-1] == "[lines 1-200 of 5000; call read_file with start_line=201 to read on]"
    nxt = await call(ctx, "read_file", path="big.txt", start_line=201)
    assert nxt.text.splitlines()[0] == " 201| line 201"
    assert nxt.text.splitlines()[-1].startswith("[lines 201-400 of 5000;")


async def test_page_is_cut_at_the_character_cap_with_an_accurate_footer(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(max_tool_result_chars=1000)
    (ctx.root / "wide.txt").write_text("".join(f"{i:03d} " + "x" * 90 + "\n" for i in range(1, 101)))
    out = await call(ctx, "read_file", path="wide.txt")
    assert len(out.text) <= 1000
    footer = out.text.splitlines()[-1]
    shown = len(out.text.splitlines()) - 1
    assert footer == f"[lines 1-{shown} of 100; call read_file with start_line={shown + 1} to read on]"
    assert "cut" not in out.text  # the tool paged itself; the registry did not have to chop it


async def test_start_past_end_is_a_clear_error(ctx: ToolContext) -> None:
    write_lines(ctx, "f.txt", 3)
    out = await call(ctx, "read_file", path="f.txt", start_line=10)
    assert not out.ok
    assert out.text == "start_line 10 is past the end of f.txt, which has 3 lines."


async def test_empty_file(ctx: ToolContext) -> None:
    (ctx.root / "e.txt").write_text("")
    out = await call(ctx, "read_file", path="e.txt")
    assert out.ok and out.text == "(e.txt is empty)"


async def test_binary_file_is_refused(ctx: ToolContext) -> None:
    (ctx.root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    out = await call(ctx, "read_file", path="img.png")
    assert not out.ok
    assert "binary" in out.text and "img.png" in out.text


async def test_missing_file_points_to_find_files(ctx: ToolContext) -> None:
    out = await call(ctx, "read_file", path="nope.py")
    assert not out.ok
    assert out.text.startswith("nope.py does not exist.") and "find_files" in out.text


async def test_directory_lists_entries(ctx: ToolContext) -> None:
    (ctx.root / "pkg" / "sub").mkdir(parents=True)
    (ctx.root / "pkg" / "m.py").write_text("x = 1\n")
    (ctx.root / "pkg" / "__pycache__").mkdir()
    out = await call(ctx, "read_file", path="pkg")
    assert out.ok
    assert out.text.splitlines() == [
        "pkg/ is a directory with 2 entries (read_file a file inside it):",
        "m.py",
        "sub/",
    ]


async def test_paths_outside_the_workspace_are_refused(ctx: ToolContext, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    os.symlink(secret, ctx.root / "link.txt")
    for path in ["../secret.txt", str(secret), "link.txt"]:
        out = await call(ctx, "read_file", path=path)
        assert not out.ok, path
        assert "outside the workspace" in out.text, path
        assert "password" not in out.text


async def test_git_directory_is_refused(ctx: ToolContext) -> None:
    (ctx.root / ".git").mkdir()
    (ctx.root / ".git" / "config").write_text("[core]\n")
    out = await call(ctx, "read_file", path=".git/config")
    assert not out.ok and ".git" in out.text


async def test_crlf_and_long_lines(ctx: ToolContext) -> None:
    (ctx.root / "w.txt").write_bytes(b"a\r\nb\r\n" + b"y" * 5000 + b"\n")
    out = await call(ctx, "read_file", path="w.txt")
    lines = out.text.splitlines()
    assert lines[:2] == ["   1| a", "   2| b"]
    assert lines[2].endswith("[line cut, 5000 characters]")
