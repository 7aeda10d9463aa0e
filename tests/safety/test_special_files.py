"""Files that would hang, crash or exhaust the agent: a 1 GB file read two lines at a time, one endless line,
FIFOs, sockets, devices and symlink loops in the workspace. Reads stream and cost what they show; `search`
skips what is not a regular file; a read never blocks on a pipe."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_core.tools import default_tools
from agent_core.tools.base import Tool, ToolContext
from agent_core.tools.search import SearchTool, find_ripgrep
from agent_core.workspace import FileWorkspace, WorkspaceError
from tests.safety.conftest import MakeCtx
from tests.tools.helpers import call

GB = 1 << 30
MEMORY_BOUND = 32 << 20
"""Python allocations a bounded read may make (tracemalloc peak)."""


def sparse_text_file(path: Path, size: int, head: bytes) -> None:
    """`head`, then a hole up to `size` bytes: costs no disk, reads like a huge file."""
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)


@contextlib.contextmanager
def peak_python_memory() -> Iterator[list[int]]:
    out: list[int] = []
    tracemalloc.start()
    try:
        yield out
    finally:
        out.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


@contextlib.contextmanager
def fifo(path: Path, unblock_after: float = 8.0) -> Iterator[Path]:
    """A FIFO; after `unblock_after` seconds, and on the way out, whoever waits on it gets end-of-file (so a
    test of code that wrongly blocks on it fails instead of hanging)."""
    os.mkfifo(path)

    def unblock() -> None:
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    timer = threading.Timer(unblock_after, unblock)
    timer.start()
    try:
        yield path
    finally:
        timer.cancel()
        unblock()


# streamed reads --------------------------------------------------------------------------------------
async def test_two_lines_of_a_1gb_file_cost_what_they_show(
    make_ctx: MakeCtx, layout: dict[str, Path]
) -> None:
    ctx = make_ctx()
    lines = b"".join(b"line %d of a big log\n" % n for n in range(1, 401))
    sparse_text_file(layout["ws"] / "big.log", GB, lines)
    with peak_python_memory() as peak:
        result = await asyncio.wait_for(call(ctx, "read_file", path="big.log", start_line=2, end_line=3), 30)
        middle = await asyncio.wait_for(
            call(ctx, "read_file", path="big.log", start_line=300, end_line=301), 30
        )
    assert result.ok, result.text
    assert "   2| line 2 of a big log\n   3| line 3 of a big log\n" in result.text
    assert "1073.7 MB file" in result.text and "start_line=4" in result.text
    assert " 300| line 300 of a big log" in middle.text
    assert peak[0] < MEMORY_BOUND, f"{peak[0] >> 20} MB"


async def test_a_page_of_a_1gb_file_without_a_range_is_bounded(
    make_ctx: MakeCtx, layout: dict[str, Path]
) -> None:
    ctx = make_ctx()
    sparse_text_file(layout["ws"] / "big.txt", GB, b"first\nsecond\n" * 1000)
    with peak_python_memory() as peak:
        result = await asyncio.wait_for(call(ctx, "read_file", path="big.txt"), 30)
    assert result.ok and result.text.startswith("   1| first\n   2| second\n"), result.text[:200]
    assert peak[0] < MEMORY_BOUND, f"{peak[0] >> 20} MB"


async def test_one_endless_line_is_cut_not_loaded(make_ctx: MakeCtx, layout: dict[str, Path]) -> None:
    ctx = make_ctx()
    sparse_text_file(layout["ws"] / "one.min.js", 256 << 20, b"var a = 1;" * 1000)
    with peak_python_memory() as peak:
        result = await asyncio.wait_for(call(ctx, "read_file", path="one.min.js", end_line=1), 60)
    assert result.ok, result.text
    assert f"[line cut, {256 << 20} characters]" in result.text
    assert peak[0] < MEMORY_BOUND, f"{peak[0] >> 20} MB"


async def test_edit_tools_refuse_a_huge_file_without_reading_it(
    make_ctx: MakeCtx, layout: dict[str, Path]
) -> None:
    ctx = make_ctx()
    sparse_text_file(layout["ws"] / "big.py", GB, b"x = 1\n" * 2000)
    with peak_python_memory() as peak:
        read = await call(ctx, "read_file", path="big.py", end_line=1)
        result = await call(ctx, "patch", path="big.py", search="x = 1", replace="x = 2")
    assert read.ok
    assert not result.ok and "1073.7 MB, more than the 2 MB the edit tools work on" in result.text
    assert peak[0] < MEMORY_BOUND, f"{peak[0] >> 20} MB"


async def test_reading_a_fifo_never_blocks(layout: dict[str, Path]) -> None:
    """A FIFO swapped in after the path check (the shell can do that) is refused, not waited on."""
    workspace = FileWorkspace(layout["ws"])
    with fifo(layout["ws"] / "pipe.py") as path:
        with pytest.raises(WorkspaceError, match="pipe.py is a pipe, socket or device"):
            await asyncio.wait_for(workspace.read_text(path), 5)
        with pytest.raises(WorkspaceError, match="pipe.py is a pipe, socket or device"):
            await asyncio.wait_for(workspace.read_lines(path, 1, 2), 5)


# search ----------------------------------------------------------------------------------------------
@pytest.fixture(params=["ripgrep", "python"])
def tools(request: pytest.FixtureRequest) -> list[Tool]:
    if request.param == "ripgrep" and find_ripgrep() is None:
        pytest.skip("rg is not installed (pip install ripgrep)")
    others = [t for t in default_tools() if t.name != "search"]
    return [*others, SearchTool(use_ripgrep=request.param == "ripgrep")]


async def test_search_skips_fifos_sockets_devices_and_symlink_loops(
    make_ctx: MakeCtx, layout: dict[str, Path], tools: list[Tool]
) -> None:
    ctx: ToolContext = make_ctx()
    ws = layout["ws"]
    (ws / "src" / "app.py").write_text("needle = 1\n")
    (ws / "loop").symlink_to("loop")
    (ws / "a").symlink_to("b")
    (ws / "b").symlink_to("a")
    (ws / "src" / "up").symlink_to("..")  # a directory loop
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(ws / "src" / "server.sock"))
    if os.geteuid() == 0:
        os.mknod(ws / "src" / "zero", 0o600 | 0o020000, os.makedev(1, 5))  # like /dev/zero
    try:
        with fifo(ws / "src" / "pipe.txt"):
            result = await asyncio.wait_for(call(ctx, "search", tools=tools, pattern="needle"), 20)
            narrowed = await asyncio.wait_for(
                call(ctx, "search", tools=tools, pattern="needle", path="src"), 20
            )
            found = await asyncio.wait_for(call(ctx, "find_files", tools=tools, pattern="*"), 20)
    finally:
        sock.close()
    assert result.ok and "src/app.py:1: needle = 1" in result.text, result.text
    assert narrowed.ok and "src/app.py:1: needle = 1" in narrowed.text, narrowed.text
    assert found.ok and "src/app.py" in found.text
