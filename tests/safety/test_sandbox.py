"""The bash tool inside bubblewrap: workspace writable, the rest read-only, credentials masked, no network."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from pathlib import Path

import pytest

from agent_core.config import Settings
from agent_core.safety import sandbox
from agent_core.safety.checkpoints import CheckpointStore, store_dir
from agent_core.tools import ToolRegistry, default_tools
from agent_core.tools.shell import ShellSession
from tests.safety.conftest import MakeCtx, tree_digest

_PROBE_DIR = Path(__file__).parent
_FOUND = sandbox.probe(_PROBE_DIR)
needs_bwrap = pytest.mark.skipif(
    not _FOUND.available, reason=f"bubblewrap cannot run here: {_FOUND.reason} (apt-get install bubblewrap)"
)


async def bash(ctx, command: str) -> tuple[bool, str]:  # type: ignore[no-untyped-def]
    out = await ToolRegistry(default_tools()).execute("bash", {"command": command, "timeout": 30}, ctx)
    return out.ok, out.text


@needs_bwrap
async def test_workspace_is_writable_and_the_shell_persists(
    make_ctx: MakeCtx, layout: dict[str, Path]
) -> None:
    ctx = make_ctx()
    ok, text = await bash(ctx, "echo made > made.txt && mkdir -p sub && cd sub && export KEEP=yes")
    assert ok, text
    assert (layout["ws"] / "made.txt").read_text() == "made\n"
    ok, text = await bash(ctx, 'pwd; echo "$KEEP"')
    assert ok and text.splitlines()[:2] == [str(layout["ws"].resolve() / "sub"), "yes"], text
    assert ctx.shell is not None and ctx.shell._proc is not None
    assert os.path.basename(await asyncio.to_thread(os.readlink, f"/proc/{ctx.shell.pid}/exe")) == "bwrap"


@needs_bwrap
async def test_outside_is_read_only_and_tmp_is_private(make_ctx: MakeCtx, layout: dict[str, Path]) -> None:
    ctx = make_ctx()
    before = tree_digest(layout["outside"])
    marker = Path("/etc") / f"smallcode-sandbox-{uuid.uuid4().hex}"
    # The policy would refuse these outright; the sandbox must hold even for what the policy lets through,
    # so the writes are hidden from it inside a script file.
    script = layout["ws"] / "escape.sh"
    script.write_text(
        f"touch {marker}; echo $? \n"
        f"echo pwned > {layout['outside']}/victim.py; echo $?\n"
        f"ls {layout['outside']} | wc -l\n"
    )
    ok, text = await bash(ctx, "bash escape.sh 2>/dev/null")
    try:
        assert not marker.exists(), "the sandbox let a write to /etc through"
    finally:
        if marker.exists():
            marker.unlink()
    lines = text.splitlines()
    # /etc is read-only; /tmp is private, so the outside folder is neither visible nor writable.
    assert lines[0] != "0" and lines[1] != "0" and lines[2] == "0", text
    assert tree_digest(layout["outside"]) == before


@needs_bwrap
async def test_credentials_are_masked(
    make_ctx: MakeCtx, layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = layout["ws"]  # a home directory the sandbox can see (the workspace itself: the worst case)
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text("PRIVATE-KEY-MATERIAL\n")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("aws_secret_access_key=AWS-MATERIAL\n")
    (home / ".git-credentials").write_text("https://me:GIT-MATERIAL@github.com\n")
    (home / ".netrc").write_text("machine x login me password NETRC-MATERIAL\n")
    monkeypatch.setenv("HOME", str(home))
    ctx = make_ctx()
    ok, text = await bash(
        ctx, "cat ~/.ssh/id_rsa ~/.aws/credentials ~/.git-credentials ~/.netrc 2>&1; ls -A ~/.ssh"
    )
    for secret in ("PRIVATE-KEY-MATERIAL", "AWS-MATERIAL", "GIT-MATERIAL", "NETRC-MATERIAL"):
        assert secret not in text
    # Nothing the shell does can change them either.
    await bash(ctx, "echo x >> ~/.git-credentials; touch ~/.ssh/authorized_keys")
    assert (home / ".git-credentials").read_text() == "https://me:GIT-MATERIAL@github.com\n"
    assert not (home / ".ssh" / "authorized_keys").exists()


@needs_bwrap
async def test_agent_environment_and_parent_process_are_out_of_reach(
    make_ctx: MakeCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-should-not-leak-0123456789")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_shouldnotleak0123456789abcdefghij")
    ctx = make_ctx()
    ok, text = await bash(ctx, "env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; ps -e -o pid= | wc -l")
    assert "should-not-leak" not in text and "shouldnotleak" not in text
    assert int(text.splitlines()[-2].strip()) < 10  # a pid namespace of its own: only the shell's processes


@needs_bwrap
async def test_network_is_off_unless_allowed(make_ctx: MakeCtx) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    probe = f"python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5); print('CONNECTED')\""
    try:
        ok, text = await bash(make_ctx(), probe + " 2>&1")
        assert "CONNECTED" not in text and "refused" in text.lower(), text
        ok, text = await bash(make_ctx(shell_network=True), probe)
        assert ok and "CONNECTED" in text, text
    finally:
        server.close()


@needs_bwrap
async def test_the_checkpoint_store_is_out_of_the_sandboxed_shells_reach(
    make_ctx: MakeCtx, layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for where in ("state directory", "inside the workspace"):
        if where != "state directory":  # where the user put it (SMALLCODE_CHECKPOINT_DIR): hidden there too
            monkeypatch.setenv("SMALLCODE_CHECKPOINT_DIR", str(layout["ws"] / "undo-store"))
        store = store_dir(layout["ws"])
        CheckpointStore(layout["ws"]).all()  # made on first use
        head = (store / "HEAD").read_bytes()
        # In a script, which the policy does not read: only the sandbox stands between it and the store.
        (layout["ws"] / "evil.sh").write_text(
            f"cat {store}/HEAD; ls {store.parent}; echo x > {store}/HEAD; rm -rf {store}/objects; "
            f"mv {store} {store}.x; echo done\n"
        )
        ok, text = await bash(make_ctx(), "bash evil.sh 2>&1")
        assert "ref: refs/heads" not in text and "No such file" in text, (where, text)  # not even readable
        assert (store / "HEAD").read_bytes() == head and (store / "objects").is_dir(), (where, text)
        assert not Path(f"{store}.x").exists()


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if token.encode() in handle.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


@needs_bwrap
async def test_closing_kills_background_jobs_inside_the_sandbox(tmp_path: Path) -> None:
    token = f"smallcode-bg-{uuid.uuid4().hex}"
    session = ShellSession(tmp_path, Settings())
    result = await session.run(f"(exec -a {token} sleep 1000) & echo started", timeout=10)
    assert result.output.strip() == "started"
    deadline = time.monotonic() + 10
    while not _processes_with(token) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert _processes_with(token)
    await session.close()
    deadline = time.monotonic() + 10
    while _processes_with(token) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not _processes_with(token)


def test_wrap_command_modes(tmp_path: Path) -> None:
    argv = ["bash", "--noprofile"]
    assert sandbox.wrap_command(argv, tmp_path, Settings(shell_sandbox="off")) == argv
    wrapped = sandbox.wrap_command(argv, tmp_path, Settings())
    if _FOUND.available:
        assert wrapped[0].endswith("bwrap") and wrapped[-2:] == argv and "--unshare-net" in wrapped
        assert "--unshare-net" not in sandbox.wrap_command(argv, tmp_path, Settings(shell_network=True))
    else:
        assert wrapped == argv


def test_unavailable_sandbox_warns_once_or_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    monkeypatch.setattr(sandbox, "_warned", False)
    argv = ["bash"]
    assert sandbox.wrap_command(argv, tmp_path, Settings()) == argv
    assert sandbox.wrap_command(argv, tmp_path, Settings()) == argv
    warnings = [r.getMessage() for r in caplog.records if "bubblewrap unavailable" in r.getMessage()]
    assert len(warnings) == 1 and "commands run without a sandbox" in warnings[0]
    with pytest.raises(sandbox.SandboxError, match="SMALLCODE_SHELL_SANDBOX=on"):
        sandbox.wrap_command(argv, tmp_path, Settings(shell_sandbox="on"))


@needs_bwrap
async def test_a_python_installed_under_tmp_stays_visible_read_only(
    make_ctx: MakeCtx, layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a virtualenv in /tmp was hidden by the private /tmp: the checks' `python -m pytest` found no pytest
    prefix = tmp_path / "venv"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "marker").write_text("the interpreter's files\n")
    monkeypatch.setattr(sandbox.sys, "prefix", str(prefix))
    ctx = make_ctx()
    # the policy would refuse the write outright; the sandbox must hold for what it lets through
    (layout["ws"] / "probe.sh").write_text(
        f"cat {prefix}/bin/marker\ntouch {prefix}/bin/new 2>/dev/null; echo $?\nls {tmp_path}\n"
    )
    ok, text = await bash(ctx, "bash probe.sh")
    lines = text.splitlines()
    assert ok and lines[:2] == ["the interpreter's files", "1"], text
    assert not (prefix / "bin" / "new").exists()
    assert sorted(lines[2:4]) == ["venv", "ws"], text  # the rest of /tmp (here `outside/`) stays hidden
