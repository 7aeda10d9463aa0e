"""A model server gone wrong (or hostile) cannot take the `smallcode` command down with it: an endless stream,
endless tool-call arguments, keep-alives forever, a 50 MB answer, chunks of the wrong shape — each ends the run
with exit 1 and one line saying why, in bounded time and memory, and nothing huge on the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agent_core.cli.cmd_run import print_summary
from agent_core.cli.common import MAX_SHOWN_CHARS
from agent_core.result import RunResult
from tests.support.scripted_server import ScriptedModelServer

MEMORY_LIMIT_KB = 200_000
"""Peak resident memory the command may reach (about 55 MB here whatever the server sends)."""


def run_cli(server: ScriptedModelServer, cwd: Path, *extra: str, timeout: float = 60) -> dict[str, Any]:
    """`smallcode run` as a subprocess; its exit code, output, wall time and peak memory (KB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMALLCODE_")}
    env.update(
        SMALLCODE_BASE_URL=server.base_url,
        SMALLCODE_MODEL="scripted-model",
        SMALLCODE_RETRIES="0",
        SMALLCODE_REQUEST_TIMEOUT="3",
        SMALLCODE_TEST_DISABLE="true",
    )
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent_core.cli.main", "run", *extra, "write a.txt"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    outputs: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda name=name, pipe=pipe: outputs.__setitem__(name, pipe.read()))
        for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for reader in readers:
        reader.start()
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    peaks: list[int] = [0]
    sampler = threading.Thread(target=_sample_peak, args=(proc.pid, peaks), daemon=True)
    sampler.start()
    _, status, _ = os.wait4(proc.pid, 0)
    watchdog.cancel()
    sampler.join(5)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(10)
    seconds = time.monotonic() - start
    assert seconds < timeout, f"smallcode run did not end within {timeout}s"
    return {
        "code": proc.returncode,
        "stdout": outputs.get("stdout", b"").decode("utf-8", "replace"),
        "stderr": outputs.get("stderr", b"").decode("utf-8", "replace"),
        "seconds": seconds,
        "peak_kb": max(peaks),
    }


def _sample_peak(pid: int, peaks: list[int]) -> None:
    """The child's VmHWM (its own peak after exec; ru_maxrss would count the parent's pages it forked from),
    read until it exits."""
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
        if "State:\tZ" in text:
            return
        time.sleep(0.02)


HOSTILE = {
    "endless stream": {"endless": "content", "piece": "all work and no play "},
    "endless tool-call arguments": {"endless": "arguments", "piece": "x" * 4096},
    "keep-alives forever": {"endless": "comments", "interval": 0.05},
    "a line that never ends": {"endless": "drip", "piece": "x" * 8192},
    "an endless whole answer": {"endless": "whole"},
    "a 50 MB answer": {"sse": ["50 MB", "[DONE]"]},
    "delta is a list": {"sse": ['{"choices": [{"index": 0, "delta": [1, 2, 3]}]}', "[DONE]"]},
    "function is text": {
        "sse": ['{"choices": [{"index": 0, "delta": {"tool_calls": [{"function": "f"}]}}]}', "[DONE]"]
    },
    "a choice is a number": {"sse": ['{"choices": [1]}', "[DONE]"]},
}


@pytest.mark.parametrize("reply", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_model_server_ends_the_run_with_one_line(
    model_server: ScriptedModelServer, tmp_path: Path, reply: dict[str, Any]
) -> None:
    if reply.get("sse", [None])[0] == "50 MB":  # made here, not at import: a complete, well-formed answer
        content = {"choices": [{"index": 0, "delta": {"content": "y" * 50_000_000}}]}
        reply = {"sse": [json.dumps(content), "[DONE]"]}
    model_server.extend([reply])
    result = run_cli(model_server, tmp_path)
    assert result["code"] == 1, result["stderr"][-2000:]
    assert result["seconds"] < 45
    assert "Traceback" not in result["stderr"] and "Error:" not in result["stderr"]
    said = result["stdout"] + result["stderr"]
    errors = [line for line in said.splitlines() if "model server" in line]
    assert len(errors) == 1 and len(errors[0]) < 400, said[-2000:]
    assert len(result["stdout"]) < MAX_SHOWN_CHARS + 1000
    assert result["peak_kb"] < MEMORY_LIMIT_KB, f"peak {result['peak_kb']} KB"
    assert not (tmp_path / "a.txt").exists()


def test_a_long_answer_is_cut_on_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """However long an answer gets (a server with a huge max_tokens), the terminal gets a bounded part."""
    print_summary(RunResult(response="z" * 5_000_000, success=True))
    out = capsys.readouterr().out
    assert len(out) < MAX_SHOWN_CHARS + 200
    assert "4980000 more characters not shown; --json prints the whole answer" in out


async def test_the_interactive_session_streams_a_bounded_part_of_an_answer() -> None:
    import io

    from rich.console import Console

    from agent_core.cli.interactive import Session

    class Agent:
        def on(self, event: str, callback: object) -> None:
            pass

    out = io.StringIO()
    session = Session(Agent(), Console(file=out))  # type: ignore[arg-type]
    await session._on_turn({})
    for _ in range(500):
        await session._on_token({"text": "prose " * 2000})
    assert len(out.getvalue()) < MAX_SHOWN_CHARS + 200
    assert "[… the rest of this answer is not shown]" in out.getvalue()
    await session._on_turn({})  # the next turn streams again
    await session._on_token({"text": "Next answer, in plain words.\n"})
    assert out.getvalue().endswith("Next answer, in plain words.\n")
