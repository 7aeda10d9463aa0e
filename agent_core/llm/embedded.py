"""The embedded model server: llama.cpp's OpenAI-compatible server on 127.0.0.1, owned by this process.

Choice: one server per SmallCode process (CLI run, interactive session, language server), started on demand
and stopped on exit. Loading takes 0.6–2.3 s here, so a shared per-user daemon would save little and would
bring its own problems (idle timeouts, version skew, one user's crash hurting another session). The server runs
in its own process group so stopping it can never leave a child behind; three nets catch the rest: `stop()`
(also via `async with`), an atexit hook plus SIGTERM/SIGHUP handlers, and a watchdog thread inside the child
that takes its group down as soon as its parent is gone (even after a SIGKILL of the parent).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO

import httpx

from agent_core.config import Settings
from agent_core.llm import batch_samples
from agent_core.llm.models import ResolvedModel, cache_dir, resolve_gguf
from agent_core.llm.types import ModelError

log = logging.getLogger(__name__)

DEFAULT_CONTEXT = 4096
SERVER_TUNING: dict[str, str] = {
    # The server's default (true) keeps a row of logits (the whole vocabulary, 600 KB for Qwen2.5) for every
    # token in the window, for `logprobs`, which SmallCode never asks for: 2.4 GB more at the peak.
    "logits_all": "false",
    # Attention without the n_ctx x n_ubatch score matrix: less scratch, same speed on CPU (measured).
    "flash_attn": "true",
    # 256 prompt tokens a step rather than 512: half the scratch buffer (150 MB less reserved for the 1.5B
    # model), no measurable change in speed.
    "n_batch": "256",
    "n_ubatch": "256",
    # Weights read from the page cache: shared with other processes, reclaimable, and a second start is quick.
    "use_mmap": "true",
}
"""llama-cpp-python server options for a laptop; figures in the README's "Memory" table."""
_ENGINE_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")
_STOP_GRACE = 5.0
_PORT_TRIES = 3

# Runs in the child: a watchdog thread, batched samples (agent_core/llm/batch_samples.py, loaded by its path so
# the child does not import the agent), then `python -m llama_cpp.server` with the remaining arguments.
# argv[1] is the parent's pid; when the parent disappears (getppid changes) the whole group is killed.
_CHILD = """
import importlib.util, os, runpy, signal, sys, threading, time
parent = int(sys.argv.pop(1))
samples = sys.argv.pop(1)
def _watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os.killpg(os.getpgid(0), signal.SIGKILL)
threading.Thread(target=_watch, name="smallcode-parent-watch", daemon=True).start()
try:
    spec = importlib.util.spec_from_file_location("smallcode_batch_samples", samples)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.install()
except Exception as exc:
    print(f"smallcode: one sample per request ({type(exc).__name__}: {exc})", file=sys.stderr, flush=True)
sys.argv[0] = "llama_cpp.server"
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def wants_embedded(settings: Settings) -> bool:
    """Whether the embedded server should be used for these settings."""
    if settings.embedded == "always":
        return True
    return settings.embedded == "auto" and not settings.base_url


def engine_missing() -> list[str]:
    """The engine's modules that are not installed (empty when the embedded server can run)."""
    return [m for m in _ENGINE_MODULES if importlib.util.find_spec(m) is None]


def thread_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 2)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedServer:
    """`base_url, model = await server.start()` … `await server.stop()`; or `async with EmbeddedServer(s) as srv`."""

    def __init__(
        self,
        settings: Settings,
        on_status: Callable[[str], None] | None = None,
        startup_timeout: float = 120.0,
        tuning: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.tuning = {**SERVER_TUNING, **(tuning or {})}
        self.on_status = on_status
        self.startup_timeout = startup_timeout
        self.context = settings.context or DEFAULT_CONTEXT
        self.base_url: str | None = None
        self.model_name: str | None = None
        self.log_path: Path | None = None
        self.load_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._failed = False
        self._crash: str | None = None
        self._serving = False
        """True from a successful start until stop(): an exit in between is a crash."""

    @property
    def pid(self) -> int | None:
        """The server's pid, which is also its process group id."""
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _status(self, text: str) -> None:
        if self.on_status:
            self.on_status(text)
        else:
            log.info("%s", text)

    async def start(self) -> tuple[str, str]:
        """Start the server and wait until it answers; returns (base_url, model name to request)."""
        if self.running and self.base_url and self.model_name:
            return self.base_url, self.model_name
        if self._proc is not None:  # it ended since the last start: reap it (its log is kept) and start anew
            self.stop_sync()
        missing = engine_missing()
        if missing:
            raise ModelError(
                f"the embedded model needs llama-cpp-python[server] ({', '.join(missing)} missing): "
                "pip install '.[embedded]', or set SMALLCODE_BASE_URL to a running OpenAI-compatible server"
            )
        model = await asyncio.to_thread(resolve_gguf, self.settings, self._status)
        self._status(f"loading {model.title}…")
        started = time.monotonic()
        for attempt in range(1, _PORT_TRIES + 1):
            port = _free_port()
            self._spawn(model, port)
            try:
                await self._wait_ready(model, port, started)
                break
            except _PortTaken:
                await self._terminate()
                if attempt == _PORT_TRIES:
                    raise ModelError(
                        f"the embedded model server could not bind a port on 127.0.0.1 ({_PORT_TRIES} tries)"
                    ) from None
            except BaseException:
                self._failed = True
                await self._terminate()
                raise
        self.load_seconds = time.monotonic() - started
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.model_name = model.alias
        self._serving, self._crash = True, None
        self._status(f"{model.title} ready in {self.load_seconds:.1f} s")
        return self.base_url, self.model_name

    def _spawn(self, model: ResolvedModel, port: int) -> None:
        logs = cache_dir() / "logs"
        try:
            logs.mkdir(parents=True, exist_ok=True)
            self.log_path = logs / f"embedded-{os.getpid()}-{port}.log"
            self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in _terminate
        except OSError as exc:
            raise ModelError(f"cannot write the embedded server's log under {logs}: {exc.strerror}") from None
        cmd = [
            sys.executable, "-c", _CHILD, str(os.getpid()), batch_samples.__file__,
            "--model", str(model.path), "--model_alias", model.alias,
            "--host", "127.0.0.1", "--port", str(port),
            "--n_threads", str(thread_count()), "--n_ctx", str(self.context),
        ]  # fmt: skip
        for name, value in self.tuning.items():
            cmd += [f"--{name}", value]
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() kills the group
            )
        except OSError as exc:
            self._close_log()
            raise ModelError(f"cannot start the embedded model server: {exc}") from None
        _register(self)

    async def _wait_ready(self, model: ResolvedModel, port: int, started: float) -> None:
        url = f"http://127.0.0.1:{port}/v1/models"
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as http:
            while True:
                assert self._proc is not None
                code = self._proc.poll()
                if code is not None:
                    tail = self.log_tail()
                    if "address already in use" in tail.lower():
                        raise _PortTaken()
                    raise ModelError(crash_message(code, self.log_tail(40), self.log_path, model.title))
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(url)).status_code == 200:
                        return
                if time.monotonic() - started > self.startup_timeout:
                    raise ModelError(
                        f"the embedded model server did not answer within {self.startup_timeout:.0f} s "
                        f"while loading {model.title}: {failure_reason(self.log_tail(40))} (log: {self.log_path})"
                    )
                await asyncio.sleep(0.1)  # poll interval while the model loads

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the server's log (for error messages)."""
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 8192))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join([ln for ln in text.splitlines() if ln.strip()][-lines:])

    async def crash_report(self, wait: float = 3.0) -> str | None:
        """After a connection error: the one-line cause when the server has died since it started, else None.

        A crashing process closes its sockets while it exits (after any core dump), so its exit status is
        usually there at once; `wait` covers the rest. A server that is still running gets None (the failure
        lies elsewhere). The first report is also logged (stderr in the CLI) and the log is kept."""
        if self._crash is not None:
            return self._crash
        proc = self._proc
        if proc is None or not self._serving:
            return None
        deadline = time.monotonic() + wait
        while proc.poll() is None:
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.05)
        self._failed = True  # keep the log
        self._crash = crash_message(proc.returncode, self.log_tail(40), self.log_path)
        log.error("%s", self._crash)
        return self._crash

    async def stop(self) -> None:
        """Stop the server and everything in its process group (SIGTERM, then SIGKILL after a grace period)."""
        await self._terminate()

    async def _terminate(self) -> None:
        proc = self._proc
        if proc is None:
            return
        _signal_group(proc.pid, signal.SIGTERM)  # sent before any await: a cancelled stop still stops it
        try:
            deadline = time.monotonic() + _STOP_GRACE
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            self.stop_sync()

    def stop_sync(self) -> None:
        """Blocking stop (atexit, signal handlers, sync callers)."""
        proc = self._proc
        if proc is None:
            return
        if self._serving and proc.poll() not in (None, 0):
            self._failed = True  # it died on its own: keep its log, whether or not anyone asked why
        self._serving = False
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(_STOP_GRACE)
        _signal_group(proc.pid, signal.SIGKILL)  # whatever else is left in the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(_STOP_GRACE)
        self._proc = None
        _unregister(self)
        self._close_log()
        if not self._failed and self.log_path:
            with contextlib.suppress(OSError):
                self.log_path.unlink()  # a clean run's log is noise; failures keep theirs

    def _kill_now(self) -> None:
        if self._proc is not None:
            _signal_group(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(1.0)  # reap it, or it lingers as a zombie under init

    def _close_log(self) -> None:
        if self._log_file is not None:
            with contextlib.suppress(OSError):
                self._log_file.close()
            self._log_file = None

    async def __aenter__(self) -> EmbeddedServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class _PortTaken(Exception):
    pass


REINSTALL_PORTABLE = (
    "pip install --force-reinstall --no-deps --no-cache-dir -r requirements/llama-portable.txt"
)
"""Rebuilds llama-cpp-python for any x86-64 CPU with AVX2 (the wheel cache may hold a -march=native build)."""

# Signal -> (what it is, the likely cause and what to do). Checked against the signals llama.cpp dies of.
_SIGNAL_CAUSES: dict[int, tuple[str, str]] = {
    signal.SIGILL: (
        "illegal instruction",
        "this llama.cpp build does not match the CPU (built for another processor, or with -march=native "
        f"on a machine that advertises more than it runs); reinstall with `{REINSTALL_PORTABLE}`",
    ),
    signal.SIGSEGV: (
        "segmentation fault",
        "a crash inside llama.cpp: a damaged model file (`smallcode models pull NAME` again) or a llama.cpp "
        f"bug; if it repeats, reinstall with `{REINSTALL_PORTABLE}`",
    ),
    signal.SIGBUS: (
        "bus error",
        "the model file changed or became unreadable while mapped; `smallcode models pull NAME` again",
    ),
    signal.SIGFPE: ("arithmetic error", "a crash inside llama.cpp; the log has its last words"),
    signal.SIGABRT: ("aborted", "llama.cpp stopped on a failed internal check; the log has its last words"),
    signal.SIGKILL: (
        "killed",
        "most likely the system ran out of memory (the kernel's OOM killer; see `dmesg`); use the smaller "
        "model (SMALLCODE_EMBEDDED_MODEL=qwen2.5-coder-0.5b) or a smaller SMALLCODE_CONTEXT",
    ),
    signal.SIGTERM: ("terminated", "something outside SmallCode stopped it"),
}


def crash_message(returncode: int, log_text: str, log_path: Path | None, loading: str | None = None) -> str:
    """One line for a server that ended on its own: the signal by name with its likely cause and fix, or the
    exit code with the log's own complaint; always the log's path. `loading`: the model it was loading."""
    where = f" (log: {log_path})" if log_path else ""
    if returncode < 0:
        sig = -returncode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        what, cause = _SIGNAL_CAUSES.get(sig, ("killed by a signal", "the log may say more"))
        when = f" while loading {loading}" if loading else ""
        return f"the embedded model server crashed{when}: {what} ({name}) — {cause}{where}"
    reason = failure_reason(log_text)
    if loading:
        return (
            f"the embedded model server exited (code {returncode}) while loading {loading}: {reason}{where}"
        )
    return f"the embedded model server exited with code {returncode} while answering: {reason}{where}"


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*")
_PROBLEM_WORDS = ("error", "failed", "invalid", "cannot", "unable")


def failure_reason(log_text: str) -> str:
    """One line from a server log: llama.cpp's first complaint and Python's final exception, no traceback."""
    lines = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
    exception = next((ln for ln in reversed(lines) if _EXCEPTION_LINE.match(ln)), None)
    complaint = next(
        (
            ln
            for ln in lines
            if any(w in ln.lower() for w in _PROBLEM_WORDS)
            and not ln.startswith(("Traceback", "File ", "raise "))
            and ln != exception
        ),
        None,
    )
    picked = [ln for ln in (complaint, exception) if ln]
    reason = "; ".join(picked) if picked else " | ".join(lines[-2:])
    return (reason[:400] + "…" if len(reason) > 400 else reason) or "no output"


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group, from /proc (Linux); empty when the group is gone."""
    out: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        # Fields after the parenthesised command: state, ppid, pgrp, ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(entry))
    return out


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# --- safety net: no server outlives this process -------------------------------------------------------
_live: set[EmbeddedServer] = set()
_net_lock = threading.Lock()
_net_installed = False


def _register(server: EmbeddedServer) -> None:
    global _net_installed
    with _net_lock:
        _live.add(server)
        if _net_installed:
            return
        _net_installed = True
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            # Only where nobody else handles the signal (an event loop or the LSP may install their own).
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _on_fatal_signal)


def _unregister(server: EmbeddedServer) -> None:
    with _net_lock:
        _live.discard(server)


def _stop_all() -> None:
    for server in list(_live):
        server.stop_sync()


def _on_fatal_signal(signum: int, frame: FrameType | None) -> None:
    for server in list(_live):
        server._kill_now()
    # Then die of the same signal, as if we had not been here.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
