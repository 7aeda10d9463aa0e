from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from agent_core.tools.base import ToolContext, ToolOutput
from agent_core.tools.shell import KEEP_BYTES, BashTool, ShellSession, cap_head_tail, run_once
from tests.tools.helpers import MakeCtx
from tests.tools.helpers import call as call_tool


async def call(ctx: ToolContext, name: str, **arguments: object) -> ToolOutput:
    return await call_tool(ctx, name, tools=[BashTool()], **arguments)


def alive(pid: int) -> bool:
    """A process exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


async def gone(pid: int, within: float = 10.0) -> bool:
    """Poll until `pid` has ended (killing is asynchronous in the kernel), up to a deadline."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        await asyncio.sleep(0.02)
    return False


async def test_cwd_and_exported_env_persist(ctx: ToolContext) -> None:
    (ctx.root / "sub").mkdir()
    assert (await call(ctx, "bash", command="cd sub && export GREETING=hello")).ok
    out = await call(ctx, "bash", command='pwd; echo "$GREETING"')
    assert out.ok
    assert out.text == f"{(ctx.root / 'sub').resolve()}\nhello\n[exit code 0]"


async def test_non_persistent_mode_starts_fresh_each_time(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(shell_persist=False)
    (ctx.root / "sub").mkdir()
    await call(ctx, "bash", command="cd sub; export GREETING=hello")
    out = await call(ctx, "bash", command='pwd; echo "[$GREETING]"')
    assert out.text == f"{ctx.root.resolve()}\n[]\n[exit code 0]"
    assert ctx.shell is None


async def test_exit_code_and_stderr_are_reported(ctx: ToolContext) -> None:
    out = await call(ctx, "bash", command="echo out; echo err >&2; false")
    assert not out.ok
    assert out.text == "out\nerr\n[exit code 1]"
    ok = await call(ctx, "bash", command="true")
    assert ok.ok and ok.text == "(no output)\n[exit code 0]"


async def test_syntax_error_and_stdin_readers_do_not_break_the_session(ctx: ToolContext) -> None:
    out = await call(ctx, "bash", command='echo "unclosed')  # the policy reads it as bash would: refused
    assert not out.ok and "does not parse as bash (an unclosed quote" in out.text
    out = await call(ctx, "bash", command="fi")  # one it reads, which bash rejects
    assert not out.ok and "exit code 2" in out.text
    out = await call(ctx, "bash", command="cat; echo after-cat")  # stdin is /dev/null: cat ends at once
    assert out.text == "after-cat\n[exit code 0]"
    out = await call(ctx, "bash", command="set -x; echo traced")
    assert "traced" in out.text and out.text.endswith("[exit code 0]")
    # The model's `set -x` persists, but only its own command is traced, never the sentinel lines.
    out = await call(ctx, "bash", command="echo still-here")
    assert out.text == "++ echo still-here\nstill-here\n[exit code 0]"
    assert (await call(ctx, "bash", command="set +x; echo quiet")).text.endswith("quiet\n[exit code 0]")
    assert (await call(ctx, "bash", command="echo plain")).text == "plain\n[exit code 0]"


async def test_exit_ends_the_shell_and_the_next_call_gets_a_new_one(ctx: ToolContext) -> None:
    await call(ctx, "bash", command="cd /")
    out = await call(ctx, "bash", command="echo bye; exit 3")
    assert out.text == "bye\n[exit code 3; the shell exited, the next command starts a fresh one]"
    out = await call(ctx, "bash", command="pwd")
    assert out.text == f"{ctx.root.resolve()}\n[exit code 0]"


async def test_output_without_trailing_newline(ctx: ToolContext) -> None:
    out = await call(ctx, "bash", command="printf abc")
    assert out.text == "abc\n[exit code 0]"


async def test_timeout_kills_the_process_group_and_restarts(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(shell_sandbox="off")  # host pids: the sandbox has a pid namespace of its own
    first = await call(ctx, "bash", command="sleep 1000 & echo $!")
    child = int(first.text.splitlines()[0])
    assert alive(child)
    assert ctx.shell is not None
    shell_pid = ctx.shell.pid
    assert shell_pid is not None
    out = await call(ctx, "bash", command="echo started; sleep 30", timeout=0.5)
    assert not out.ok
    assert out.text == "started\n[timed out after 0.5s (process group killed); the shell was restarted]"
    assert await gone(child), "background child survived the timeout"
    assert await gone(shell_pid)
    again = await call(ctx, "bash", command="echo fresh")
    assert again.text == "fresh\n[exit code 0]"
    assert ctx.shell.pid != shell_pid


async def test_close_kills_background_children(tmp_path: Path) -> None:
    session = ShellSession(tmp_path)
    result = await session.run("sleep 1000 & echo $!", timeout=10)
    child = int(result.output.strip())
    assert alive(child)
    await session.close()
    assert await gone(child)


async def test_non_persistent_timeout_and_leftover_children(tmp_path: Path) -> None:
    result = await run_once(tmp_path, "sleep 1000 & echo $!; sleep 30", timeout=0.5)
    assert result.timed_out and result.exit_code is None
    assert await gone(int(result.output.strip()))
    # A command that returns at once still leaves no background job behind.
    result = await run_once(tmp_path, "sleep 1000 & echo $!", timeout=10)
    assert result.exit_code == 0
    assert await gone(int(result.output.strip()))


async def test_output_is_capped_keeping_head_and_tail(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(max_tool_result_chars=1000)
    out = await call(ctx, "bash", command="seq 1 100000")
    assert len(out.text) <= 1000
    lines = out.text.splitlines()
    assert lines[0] == "1"
    assert lines[-2] == "100000" and lines[-1] == "[exit code 0]"
    assert "characters cut" in out.text


async def test_huge_output_is_cut_while_it_is_read(ctx: ToolContext, tmp_path: Path) -> None:
    command = "head -c 5000000 /dev/zero | tr '\\0' 'a'; echo; echo END"
    session = ShellSession(tmp_path)
    try:
        result = await session.run(command, timeout=30)
    finally:
        await session.close()
    assert result.exit_code == 0 and result.output.endswith("\nEND\n")
    assert len(result.output) < 3 * KEEP_BYTES + 70_000  # head + rolling tail + one read, never 5 MB
    assert "bytes of output cut" in result.output
    out = await call(ctx, "bash", command=command)
    assert out.ok and out.text.endswith("\nEND\n[exit code 0]")
    cut = int(out.text.split("[… about ")[1].split()[0])
    assert 4_990_000 < cut < 5_000_100  # the note counts everything cut, in both stages


def test_cap_head_tail_keeps_more_tail() -> None:
    text = "".join(f"{i}\n" for i in range(1000))
    capped = cap_head_tail(text, 300)
    assert len(capped) <= 300 and capped.startswith("0\n1\n") and capped.endswith("998\n999\n")


async def test_secrets_are_not_in_the_shell_environment(
    make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shell's environment is an allow list: secrets under names no deny list would guess stay out."""
    secrets = {
        "SMALLCODE_API_KEY": "sk-smallcode",
        "OPENAI_API_KEY": "sk-openai",
        "OPENAI_KEY": "sk-openai-plain-name",
        "GH_PAT": "ghp_patvalue",
        "DB_PASS": "db-pass-value",
        "DATABASE_URL": "postgres://u:url-password@h/db",
        "PRIVATE_KEY_PEM": "pem-body-value",
        "HTTPS_PROXY": "http://user:proxy-password@proxy:3128",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HARMLESS", "yes")
    monkeypatch.setenv("MY_TOOL_HOME", "/opt/tool")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    out = await call(make_ctx(), "bash", command="env")
    assert out.ok, out.text
    for name, value in secrets.items():
        assert value not in out.text and f"{name}=" not in out.text, name
    assert "HARMLESS" not in out.text  # not on the allow list
    assert "LC_ALL=C.UTF-8" in out.text and "PATH=" in out.text and "HOME=" in out.text
    # The user's setting lets more names through.
    out = await call(make_ctx(shell_env_pass=["HARMLESS", "MY_TOOL_*"]), "bash", command="env")
    assert "HARMLESS=yes" in out.text and "MY_TOOL_HOME=/opt/tool" in out.text
    assert "sk-openai" not in out.text


def test_a_project_cannot_let_secrets_into_the_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_core.config import load_settings

    (tmp_path / "smallcode.toml").write_text('shell_env_pass = ["OPENAI_KEY", "*"]\n')
    assert load_settings(tmp_path).shell_env_pass == []  # a weakening the user did not say yes to
    monkeypatch.setenv("SMALLCODE_SHELL_ENV_PASS", '["MY_TOOL_*"]')
    assert load_settings(tmp_path).shell_env_pass == ["MY_TOOL_*"]


async def test_empty_command(ctx: ToolContext) -> None:
    out = await call(ctx, "bash", command="   ")
    assert not out.ok and out.text == "command is empty: give a shell command to run."


async def test_cancelling_a_call_ends_the_shell_and_the_next_call_works(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(shell_sandbox="off")  # host pids: the sandbox has a pid namespace of its own
    marker = ctx.root / "started"
    task = asyncio.create_task(call(ctx, "bash", command=f"sleep 1000 & echo $! > {marker}; sleep 30"))
    deadline = time.monotonic() + 10
    while not (marker.exists() and marker.read_text().strip()) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    child = int(marker.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await gone(child)
    out = await call(ctx, "bash", command="echo next", timeout=10)
    assert out.text == "next\n[exit code 0]"
