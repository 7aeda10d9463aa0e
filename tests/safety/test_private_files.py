"""Traces and sessions hold a run's code, commands and conversation: only the user may read them (0600, their
folders 0700), whatever the umask, and a session file that was world-readable becomes private when saved."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_core.memory.sessions import save_session, sessions_dir
from agent_core.observe.trace import TraceWriter, traces_dir


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_trace_is_private(tmp_path: Path) -> None:
    writer = TraceWriter(tmp_path)
    writer.write("run_start", task="deploy with PASSWORD=hunter2")
    writer.write("run_end")
    assert mode(writer.path) == 0o600
    assert mode(traces_dir(tmp_path)) == 0o700
    assert len(writer.path.read_text().splitlines()) == 2


def test_a_trace_is_not_written_through_a_symlink(tmp_path: Path) -> None:
    writer = TraceWriter(tmp_path)
    traces_dir(tmp_path).mkdir(parents=True)
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep\n")
    writer.path.symlink_to(target)
    with pytest.raises(OSError):
        writer.write("run_start", task="x")
    assert target.read_text() == "keep\n"


def test_a_session_is_private_even_when_it_was_not(tmp_path: Path) -> None:
    path = save_session(tmp_path, "s1", [{"role": "user", "content": "hi"}], {})
    assert mode(path) == 0o600 and mode(sessions_dir(tmp_path)) == 0o700
    path.chmod(0o644)
    save_session(tmp_path, "s1", [{"role": "user", "content": "hi again"}], {})
    assert mode(path) == 0o600
