from __future__ import annotations

from pathlib import Path

from agent_core.tools.base import ToolContext
from agent_core.tools.files import PatchTool, WriteFileTool
from agent_core.workspace import EditResult, FileWorkspace
from tests.tools.helpers import MakeCtx, call


async def test_write_creates_file_and_parent_folders(ctx: ToolContext) -> None:
    out = await call(ctx, "write_file", path="src/pkg/new.py", content="x = 1\n")
    assert out.ok, out.text
    assert out.text == "Created src/pkg/new.py (1 lines)."
    assert out.created == ["src/pkg/new.py"] and out.edited == []
    assert (ctx.root / "src/pkg/new.py").read_text() == "x = 1\n"


async def test_write_guard_refuses_first_unread_overwrite_then_allows(ctx: ToolContext) -> None:
    target = ctx.root / "keep.py"
    target.write_text("important = True\n")
    first = await call(ctx, "write_file", path="keep.py", content="oops\n")
    assert not first.ok
    assert "read it first" in first.text
    assert target.read_text() == "important = True\n"
    second = await call(ctx, "write_file", path="keep.py", content="replaced\n")
    assert second.ok
    assert second.edited == ["keep.py"] and second.created == []
    assert target.read_text() == "replaced\n"


async def test_write_after_read_is_allowed_at_once(ctx: ToolContext) -> None:
    (ctx.root / "a.txt").write_text("old\n")
    assert (await call(ctx, "read_file", path="a.txt")).ok
    out = await call(ctx, "write_file", path="a.txt", content="new\n")
    assert out.ok and out.edited == ["a.txt"]
    assert out.text == "Wrote a.txt (1 lines)."


async def test_write_guard_off(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(write_guard=False)
    (ctx.root / "a.txt").write_text("old\n")
    out = await call(ctx, "write_file", path="a.txt", content="new\n")
    assert out.ok and (ctx.root / "a.txt").read_text() == "new\n"


async def test_a_new_file_then_rewriting_it_needs_no_read(ctx: ToolContext) -> None:
    assert (await call(ctx, "write_file", path="n.txt", content="1\n")).created == ["n.txt"]
    again = await call(ctx, "write_file", path="n.txt", content="2\n")
    assert again.ok and again.edited == ["n.txt"]


async def test_write_is_refused_outside_and_in_git(ctx: ToolContext, tmp_path: Path) -> None:
    for path in ["../escape.txt", str(tmp_path / "abs.txt"), ".git/hooks/pre-commit"]:
        out = await call(ctx, "write_file", path=path, content="x")
        assert not out.ok, path
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "abs.txt").exists()
    assert not (ctx.root / ".git").exists()


async def test_write_under_a_file_is_a_clear_error(ctx: ToolContext) -> None:
    (ctx.root / "file").write_text("x")
    out = await call(ctx, "write_file", path="file/child.txt", content="y")
    assert not out.ok and "file is a file" in out.text


class RejectingWorkspace(FileWorkspace):
    """Like an editor whose user declines the edit preview."""

    async def write_text(self, path: Path, text: str, *, label: str = "") -> EditResult:
        return EditResult(applied=False, message="declined in the diff preview")


async def test_rejected_edit_reports_and_leaves_no_folders(ctx: ToolContext) -> None:
    ctx.workspace = RejectingWorkspace(ctx.root)
    out = await WriteFileTool().run(WriteFileTool.Args(path="new/dir/f.py", content="x"), ctx)
    assert not out.ok
    assert out.text == "the user rejected this edit: declined in the diff preview"
    assert not (ctx.root / "new").exists()
    (ctx.root / "p.py").write_text("a = 1\n")
    out = await PatchTool().run(PatchTool.Args(path="p.py", search="a = 1", replace="a = 2"), ctx)
    assert not out.ok and out.text.startswith("the user rejected this edit")
    assert (ctx.root / "p.py").read_text() == "a = 1\n"


async def test_patch_applies_and_shows_a_diff(ctx: ToolContext) -> None:
    target = ctx.root / "calc.py"
    target.write_text("def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n")
    out = await call(
        ctx,
        "patch",
        path="calc.py",
        search="def add(a, b):\n    return a - b",
        replace="def add(a, b):\n    return a + b",
    )
    assert out.ok, out.text
    assert out.edited == ["calc.py"]
    assert target.read_text() == "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
    assert out.text.splitlines() == [
        "Patched calc.py.",
        "--- a/calc.py",
        "+++ b/calc.py",
        "@@ -1,3 +1,3 @@",
        " def add(a, b):",
        "-    return a - b",
        "+    return a + b",
        " ",
    ]
    assert target.resolve() in ctx.read_paths  # a later write_file is not blocked by the guard


async def test_patch_no_match_tells_the_model_what_to_do(ctx: ToolContext) -> None:
    (ctx.root / "m.py").write_text("x = 1\n")
    out = await call(ctx, "patch", path="m.py", search="y = 2", replace="y = 3")
    assert not out.ok
    assert out.text.startswith("patch of m.py failed: ")
    assert (ctx.root / "m.py").read_text() == "x = 1\n"


async def test_patch_of_missing_file_points_to_write_file(ctx: ToolContext) -> None:
    out = await call(ctx, "patch", path="ghost.py", search="a", replace="b")
    assert not out.ok
    assert out.text == "ghost.py does not exist; use write_file to create a new file."


async def test_patch_that_changes_nothing(ctx: ToolContext) -> None:
    (ctx.root / "m.py").write_text("x = 1\n")
    out = await call(ctx, "patch", path="m.py", search="x = 1", replace="x = 1")
    assert not out.ok and out.edited == []
    assert "identical" in out.text or "unchanged" in out.text  # the patch engine or the tool says so


async def test_patch_diff_is_compact_for_big_changes(ctx: ToolContext) -> None:
    (ctx.root / "big.txt").write_text("start\nend\n")
    out = await call(
        ctx, "patch", path="big.txt", search="start\n", replace="".join(f"l{i}\n" for i in range(200))
    )
    assert out.ok
    assert out.text.splitlines()[-1] == "[… 165 more diff lines]"
    assert len(out.text.splitlines()) == 42


async def test_append_adds_to_the_end_instead_of_replacing(ctx: ToolContext) -> None:
    """The 1.5B model sent write_file(..., append: true); ignoring it would have replaced the file."""
    (ctx.root / "notes.txt").write_text("first\n")
    await call(ctx, "read_file", path="notes.txt")
    out = await call(ctx, "write_file", path="notes.txt", content="second\n", append=True)
    assert out.ok and out.edited == ["notes.txt"]
    assert (ctx.root / "notes.txt").read_text() == "first\nsecond\n"
    new = await call(ctx, "write_file", path="new.txt", content="only\n", append=True)
    assert new.created == ["new.txt"] and (ctx.root / "new.txt").read_text() == "only\n"


def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path: Path) -> None:
    import os
    import stat

    from agent_core.workspace import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.py", b"x = 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.py").stat().st_mode) == 0o644
