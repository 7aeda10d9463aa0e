"""The bash tool and the persistent shell behind it.

A persistent `bash` reads commands from its stdin; after each command it prints a sentinel carrying `$?`,
so one call's output ends where the sentinel starts. The command is handed over as one quoted `eval`
argument with stdin from /dev/null: a syntax error cannot swallow the sentinel and a command that reads
stdin cannot eat the next one. The shell runs in its own process group, so a timeout or close kills
everything it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import shlex
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from agent_core.config import Settings
from agent_core.safety import sandbox
from agent_core.safety.shell_policy import PolicyError, enforce
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput

MAX_TIMEOUT = 3600.0
KEEP_BYTES = 200_000
"""Bytes of raw output kept at each end while a command runs (so `yes` cannot fill the memory)."""


ENV_ALLOWED = frozenset(
    """PATH HOME USER LOGNAME SHELL LANG LANGUAGE TZ TMPDIR TEMP TMP HOSTNAME COLUMNS LINES NO_COLOR CI
    VIRTUAL_ENV CONDA_PREFIX CONDA_DEFAULT_ENV PYENV_ROOT PYENV_VERSION PYTHONPATH PYTHONIOENCODING PYTHONUTF8
    PYTHONDONTWRITEBYTECODE PYTHONUNBUFFERED PYTHONHASHSEED PYTHONWARNINGS PYTHONNOUSERSITE PYTHONPYCACHEPREFIX
    PIP_CACHE_DIR UV_CACHE_DIR PIP_DISABLE_PIP_VERSION_CHECK JAVA_HOME GOPATH GOROOT GOCACHE GOMODCACHE GOFLAGS
    CARGO_HOME RUSTUP_HOME RUSTUP_TOOLCHAIN NVM_DIR NODE_PATH GEM_HOME GEM_PATH RBENV_ROOT DOTNET_ROOT
    XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_STATE_HOME CC CXX CFLAGS CXXFLAGS CPPFLAGS LDFLAGS
    PKG_CONFIG_PATH LD_LIBRARY_PATH MAKEFLAGS SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
    NODE_EXTRA_CA_CERTS DEBIAN_FRONTEND""".split()  # noqa: SIM905 - a word list
)
"""Variables the shell inherits from the agent (plus LC_*): an allow list, so a secret under any name
(OPENAI_KEY, GH_PAT, DB_PASS, DATABASE_URL, PRIVATE_KEY_PEM, a proxy URL with a password) stays out of
the model's shell. `shell_env_pass` (the user's setting) adds names or patterns like `MY_*`."""


def shell_env(extra: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of the model's shell: allowed variables only, and no pagers or prompts.

    `extra`: more names the user lets through (fnmatch patterns, e.g. `JAVA_OPTS`, `MY_TOOL_*`).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if (key in ENV_ALLOWED or key.startswith("LC_") or any(fnmatch.fnmatchcase(key, p) for p in extra))
        and not key.startswith("SMALLCODE_")
    }
    env.update(PAGER="cat", GIT_PAGER="cat", TERM="dumb", GIT_TERMINAL_PROMPT="0")
    return env


@dataclass
class ShellResult:
    output: str
    exit_code: int | None
    """None when the command timed out."""
    timed_out: bool = False
    shell_exited: bool = False
    """The persistent shell itself ended (the command ran `exit`); the next call starts a new one."""
    dropped: int = 0
    """Bytes cut from the middle of very long output while it was read."""


class _Collector:
    """Raw output of one command: the head and a rolling tail, and where the sentinel line ends it."""

    def __init__(self, marker: bytes | None = None) -> None:
        self.marker = marker
        self.head: bytes | None = None
        self.buf = bytearray()
        self.dropped = 0
        self.cwd: str | None = None
        """The shell's directory after the command, as its sentinel line reported it ($PWD)."""
        self._scan = 0

    def feed(self, data: bytes) -> int | None:
        """Add output; return the exit code once the sentinel line is complete."""
        self.buf += data
        if self.marker is not None:
            at = self.buf.find(self.marker, max(0, self._scan - len(self.marker)))
            if at >= 0:
                end = self.buf.find(b"\n", at)
                if end < 0:
                    self._scan = at
                    return None
                code, _, where = bytes(self.buf[at + len(self.marker) : end]).strip().partition(b" ")
                self.cwd = where.decode("utf-8", "surrogateescape") or None
                del self.buf[at:]
                if self.buf.endswith(b"\n"):  # the newline printed before the sentinel is ours
                    del self.buf[-1]
                return int(code) if code.lstrip(b"-").isdigit() else 1
        if len(self.buf) > 2 * KEEP_BYTES:
            if self.head is None:
                self.head = bytes(self.buf[:KEEP_BYTES])
                self.dropped += len(self.buf) - 2 * KEEP_BYTES
            else:
                self.dropped += len(self.buf) - KEEP_BYTES
            del self.buf[: len(self.buf) - KEEP_BYTES]
        self._scan = len(self.buf)
        return None

    def text(self) -> str:
        middle = f"\n[… {self.dropped} bytes of output cut …]\n".encode() if self.dropped else b""
        return ((self.head or b"") + middle + bytes(self.buf)).decode("utf-8", errors="replace")


def cap_head_tail(text: str, limit: int, dropped: int = 0) -> str:
    """Keep the start and (more of) the end of long output: errors and summaries come last.

    `dropped` counts what was already cut before (so the note tells the whole amount).
    """
    if len(text) <= limit:
        return text
    cut = len(text) - limit + dropped
    note = f"\n[… about {cut} characters cut; pipe through head, tail or grep to see less …]\n"
    room = max(0, limit - len(note))
    head = room * 2 // 5
    return text[:head] + note + text[len(text) - (room - head) :]


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def _reap(proc: asyncio.subprocess.Process) -> None:
    """Wait for a killed or finished shell, bounded: on Python 3.11 `wait()` also waits for the pipes,
    which a process that left the group (setsid) could hold open forever."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), 5)


async def _start(
    argv: list[str], root: Path, stdin: int, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            cwd=root,
            env=shell_env() if env is None else env,
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg reaches every child
        )
    except OSError as exc:
        raise ToolError(f"cannot start bash: {exc.strerror or exc}") from None


def _wrap(command: str, a: str, b: str) -> str:
    """The lines that run `command` in the persistent shell and then print the sentinel with its status.

    Tracing (`set -x`, if the model turned it on) is paused around our own lines so only the command's
    trace shows; printf joins the sentinel's two halves so it never appears literally in a trace.
    """
    quoted = shlex.quote(command)
    traced = shlex.quote("set -x\n" + command)
    return (
        "{ __sc_x=$-; set +x; } 2>/dev/null\n"
        f"case $__sc_x in *x*) eval {traced} ;; *) eval {quoted} ;; esac < /dev/null\n"
        "{ __sc_rc=$?; __sc_x=$-; set +x; } 2>/dev/null\n"
        f'printf \'\\n__SMALLCODE_%s_%s__ %d %s\\n\' {a} {b} "$__sc_rc" "$PWD"\n'
        "case $__sc_x in *x*) set -x ;; esac\n"
    )


class ShellSession:
    """One persistent bash for a ToolContext: cwd and exported variables carry over between calls."""

    def __init__(self, root: Path, settings: Settings | None = None) -> None:
        self.root = root
        self.settings = settings
        """With settings, the shell runs in the sandbox they ask for (sandbox.wrap_command)."""
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._sandboxed = False
        self.cwd: Path | None = None
        """Where the shell is after the last command (None: the workspace root, or a fresh shell)."""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    async def run(self, command: str, timeout: float) -> ShellResult:
        async with self._lock:
            a, b = uuid.uuid4().hex, uuid.uuid4().hex
            collector = _Collector(f"__SMALLCODE_{a}_{b}__".encode())
            proc = await self._send(_wrap(command, a, b).encode())
            try:
                code = await asyncio.wait_for(self._read(proc, collector), timeout)
            except asyncio.CancelledError:
                # The run was cancelled mid-command: the shell is in an unknown state, end it.
                await self._discard()
                raise
            except TimeoutError:
                await self._discard()
                return ShellResult(collector.text(), None, timed_out=True, dropped=collector.dropped)
            if code is None:  # EOF: the command ended the shell itself
                await self._discard()
                self.cwd = None
                return ShellResult(
                    collector.text(), proc.returncode, shell_exited=True, dropped=collector.dropped
                )
            self.cwd = self._where(proc, collector.cwd)
            return ShellResult(collector.text(), code, dropped=collector.dropped)

    def _where(self, proc: asyncio.subprocess.Process, reported: str | None) -> Path | None:
        """The shell's working directory: the kernel's word for an unsandboxed shell (a command cannot
        forge it), else what the sentinel reported."""
        if not self._sandboxed:
            with contextlib.suppress(OSError):
                return Path(os.readlink(f"/proc/{proc.pid}/cwd"))
        return Path(reported) if reported and reported.startswith("/") else None

    async def _send(self, script: bytes) -> asyncio.subprocess.Process:
        """Hand the script to the shell, starting one (again, if the old one died in between)."""
        for _attempt in range(2):
            if self._proc is None or self._proc.returncode is not None:
                argv = ["bash", "--noprofile", "--norc"]
                env = None
                if self.settings is not None:
                    try:
                        argv = sandbox.wrap_command(argv, self.root, self.settings)
                    except sandbox.SandboxError as exc:
                        raise ToolError(str(exc)) from None
                    env = shell_env(self.settings.shell_env_pass)
                self._sandboxed = argv[0] != "bash"
                self.cwd = None
                self._proc = await _start(argv, self.root, asyncio.subprocess.PIPE, env)
            proc = self._proc
            assert proc.stdin is not None
            try:
                proc.stdin.write(script)
                await proc.stdin.drain()
                return proc
            except (BrokenPipeError, ConnectionResetError):
                await self._discard()
        raise ToolError("bash keeps exiting at start; check that bash works in this workspace")

    @staticmethod
    async def _read(proc: asyncio.subprocess.Process, collector: _Collector) -> int | None:
        assert proc.stdout is not None
        while True:
            data = await proc.stdout.read(65536)
            if not data:
                await _reap(proc)
                return None
            code = collector.feed(data)
            if code is not None:
                return code

    async def _discard(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        _kill_group(proc)
        if proc.stdin is not None:
            proc.stdin.close()
        await _reap(proc)

    async def close(self) -> None:
        """Kill the shell and everything it started."""
        await self._discard()


async def run_once(root: Path, command: str, timeout: float, settings: Settings | None = None) -> ShellResult:
    """A fresh shell for one command; its whole process group, background jobs included, is gone on return.

    It is a one-use ShellSession rather than `bash -c`: the sentinel tells when the command is done even
    while a background job it started still holds the output pipe open.
    """
    session = ShellSession(root, settings)
    try:
        return await session.run(command, timeout)
    finally:
        await session.close()


class BashArgs(ToolArgs):
    command: str = Field(description="Shell command(s) to run with bash in the workspace.")
    timeout: float | None = Field(
        default=None,
        gt=0,
        le=MAX_TIMEOUT,
        description="Seconds before the command is killed (default: the configured shell timeout, 60).",
    )


class BashTool(Tool):
    name = "bash"
    description = (
        "Run a bash command in the workspace and get its output and exit code. The working directory and "
        "exported variables persist between calls. Do not start interactive programs."
    )
    Args = BashArgs

    async def run(self, args: BashArgs, ctx: ToolContext) -> ToolOutput:
        if not args.command.strip():
            raise ToolError("command is empty: give a shell command to run.")
        timeout = args.timeout or ctx.settings.shell_timeout
        root = ctx.root.resolve()
        # The persistent shell may stand elsewhere after an earlier `cd`: relative paths are judged from there.
        cwd = ctx.shell.cwd if ctx.settings.shell_persist and ctx.shell is not None else None
        try:  # deny list, and the ask list through ctx.confirm (agent_core/safety/shell_policy.py)
            await enforce(args.command, root, ctx.confirm, cwd)
        except PolicyError as exc:
            raise ToolError(str(exc)) from None
        if ctx.settings.shell_persist:
            if ctx.shell is None:
                ctx.shell = ShellSession(root, ctx.settings)
            result = await ctx.shell.run(args.command, timeout)
        else:
            result = await run_once(root, args.command, timeout, ctx.settings)
        return _report(result, timeout, ctx.settings.max_tool_result_chars, ctx.settings.shell_persist)


def _report(result: ShellResult, timeout: float, limit: int, persist: bool) -> ToolOutput:
    output = result.output.rstrip("\n")
    if result.timed_out:
        status = f"timed out after {timeout:g}s (process group killed)"
        status += "; the shell was restarted" if persist else ""
    elif result.shell_exited:
        status = f"exit code {result.exit_code}; the shell exited, the next command starts a fresh one"
    else:
        status = f"exit code {result.exit_code}"
    body = (
        cap_head_tail(output, max(100, limit - len(status) - 4), result.dropped) if output else "(no output)"
    )
    return ToolOutput(text=f"{body}\n[{status}]", ok=result.exit_code == 0 and not result.timed_out)
