"""A model server that dies after start-up is explained, not guessed at: the embedded server's exit (a signal by
name with its cause and fix, or an exit code with the log's complaint, and the log's path), and the context
window blamed for a hang-up only when the request filled most of the window. No model needed."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agent_core.config import Settings
from agent_core.llm.client import ChatClient, hangup_hint
from agent_core.llm.embedded import REINSTALL_PORTABLE, EmbeddedServer, crash_message
from agent_core.llm.types import ModelError
from tests.support.scripted_server import ScriptedModelServer

HELLO = [{"role": "user", "content": "hi"}]
LOG = Path("/tmp/smallcode/logs/embedded-1-2.log")


# --- the one-line cause ---------------------------------------------------------------------------------
def test_an_illegal_instruction_names_the_build_and_the_fix() -> None:
    message = crash_message(-signal.SIGILL, "llama_model_load: loaded\n", LOG)
    assert message == (
        "the embedded model server crashed: illegal instruction (SIGILL) — this llama.cpp build does not match "
        "the CPU (built for another processor, or with -march=native on a machine that advertises more than "
        f"it runs); reinstall with `{REINSTALL_PORTABLE}` (log: {LOG})"
    )
    assert "--no-cache-dir" in REINSTALL_PORTABLE  # the wheel cache may hold the bad build
    assert "requirements/llama-portable.txt" in REINSTALL_PORTABLE


@pytest.mark.parametrize(
    ("sig", "words"),
    [
        (signal.SIGSEGV, "segmentation fault (SIGSEGV) — a crash inside llama.cpp"),
        (signal.SIGKILL, "killed (SIGKILL) — most likely the system ran out of memory"),
        (signal.SIGBUS, "bus error (SIGBUS) — the model file changed"),
        (signal.SIGABRT, "aborted (SIGABRT)"),
        (signal.SIGUSR1, "killed by a signal (SIGUSR1)"),
    ],
)
def test_each_signal_is_named_with_its_likely_cause(sig: signal.Signals, words: str) -> None:
    message = crash_message(-sig, "", LOG)
    assert message.startswith(f"the embedded model server crashed: {words}"), message
    assert message.endswith(f"(log: {LOG})") and "\n" not in message
    assert "context window" not in message


def test_an_exit_code_quotes_the_logs_complaint() -> None:
    tail = "INFO: started\nggml_abort: error: failed to allocate buffer\nRuntimeError: boom\n"
    message = crash_message(3, tail, LOG)
    assert message == (
        "the embedded model server exited with code 3 while answering: "
        f"ggml_abort: error: failed to allocate buffer; RuntimeError: boom (log: {LOG})"
    )


# --- the context-window hint: only on evidence ----------------------------------------------------------
def test_the_context_hint_needs_a_prompt_near_the_window() -> None:
    assert hangup_hint(None, 4096) == " — the server's log may say why"
    assert "context" not in hangup_hint((1200, 2048), 4096)  # a third of the window, and it fits
    near = hangup_hint((3300, 512), 4096)
    assert near.startswith(
        " — the prompt (about 3300 tokens, plus 512 for the reply) may exceed its 4096-token"
    )
    assert "SMALLCODE_CONTEXT" in near
    assert "context window" in hangup_hint((1500, 3000), 4096)  # prompt + reply do not fit
    assert "may exceed its context window" in hangup_hint((3500, 0), None)  # unknown: the usual 4096
    assert "context" not in hangup_hint((3500, 0), 32768)


async def test_a_hangup_on_a_short_prompt_does_not_blame_the_window() -> None:
    with ScriptedModelServer() as server:
        server.extend([{"sse": []}])
        async with ChatClient(server.base_url, "scripted-model", retries=0, context_window=4096) as client:
            with pytest.raises(ModelError) as err:
                await client.chat(HELLO, max_tokens=256)
    assert str(err.value) == "the model server broke off before answering — the server's log may say why"


async def test_a_hangup_on_a_prompt_that_fills_the_window_says_so() -> None:
    big = [{"role": "user", "content": "word " * 3000}]  # ~3750 estimated tokens of 4096
    with ScriptedModelServer() as server:
        server.extend([{"sse": []}])
        async with ChatClient(server.base_url, "scripted-model", retries=0, context_window=4096) as client:
            with pytest.raises(
                ModelError, match="may exceed its 4096-token context window: set SMALLCODE_CONTEXT"
            ):
                await client.chat(big, max_tokens=256)


# --- the client asks the server's process before anything else ------------------------------------------
async def test_a_dead_server_is_reported_by_its_cause_and_not_retried() -> None:
    asked: list[int] = []

    async def diagnose() -> str | None:
        asked.append(1)
        return "the embedded model server crashed: illegal instruction (SIGILL) — …"

    with ScriptedModelServer() as server:
        server.extend([{"content": "x" * 64, "cut_after": 16}, {"content": "never"}])
        async with ChatClient(
            server.base_url, "scripted-model", retries=3, backoff=0.01, diagnose=diagnose
        ) as client:
            with pytest.raises(ModelError) as err:
                await client.chat(HELLO)
        assert len(server.requests) == 1
    assert str(err.value).startswith("the embedded model server crashed: illegal instruction (SIGILL)")
    assert asked == [1]


async def test_a_live_server_keeps_the_usual_retry_and_message(caplog: pytest.LogCaptureFixture) -> None:
    async def diagnose() -> str | None:
        return None  # still running: the failure lies elsewhere

    with ScriptedModelServer() as server:
        server.extend([{"sse": []}, {"content": "second try"}])
        async with ChatClient(server.base_url, "scripted-model", backoff=0.01, diagnose=diagnose) as client:
            assert (await client.chat(HELLO)).content == "second try"


async def test_a_failing_diagnosis_never_hides_the_connection_error() -> None:
    async def diagnose() -> str | None:
        raise RuntimeError("no /proc here")

    with ScriptedModelServer() as server:
        url = server.base_url
    async with ChatClient(url, "m", retries=0, diagnose=diagnose) as client:
        with pytest.raises(ModelError, match="cannot reach the model server .* connection refused"):
            await client.chat(HELLO)


# --- EmbeddedServer.crash_report on a process that really dies of a signal -------------------------------
def _serving(tmp_path: Path, code: str) -> EmbeddedServer:
    """An EmbeddedServer whose 'server' is a Python process running `code` (as if it had started fine)."""
    server = EmbeddedServer(Settings())
    server.log_path = tmp_path / "embedded-test.log"
    server._log_file = open(server.log_path, "wb")  # noqa: SIM115 - closed by stop_sync
    server._proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=server._log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server._serving = True
    return server


async def test_crash_report_names_the_signal_keeps_the_log_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    code = "import os, signal, resource; resource.setrlimit(resource.RLIMIT_CORE, (0, 0)); "
    code += "print('llama_model_load: ok', flush=True); os.kill(os.getpid(), signal.SIGILL)"
    server = _serving(tmp_path, code)
    with caplog.at_level(logging.ERROR, logger="agent_core.llm.embedded"):
        first = await server.crash_report()
        again = await server.crash_report()
    assert first is not None and first == again
    assert first.startswith("the embedded model server crashed: illegal instruction (SIGILL)")
    assert first.endswith(f"(log: {server.log_path})")
    assert [r.getMessage() for r in caplog.records] == [first]  # said once, however often asked
    server.stop_sync()
    assert server.log_path is not None and server.log_path.is_file()  # a crash keeps its log
    assert "llama_model_load: ok" in server.log_path.read_text()


async def test_crash_report_is_none_while_the_server_runs(tmp_path: Path) -> None:
    server = _serving(tmp_path, "import time; time.sleep(30)")
    try:
        assert await server.crash_report(wait=0.2) is None
    finally:
        server.stop_sync()
    assert server.log_path is not None and not server.log_path.exists()  # stopped by us: a clean run


async def test_a_server_that_died_unasked_still_keeps_its_log(tmp_path: Path) -> None:
    server = _serving(tmp_path, "import sys; print('error: out of memory'); sys.exit(1)")
    assert server._proc is not None
    server._proc.wait(10)
    server.stop_sync()
    assert server.log_path is not None and server.log_path.is_file()


def test_a_crash_while_loading_is_named_the_same_way() -> None:
    message = crash_message(-signal.SIGILL, "", LOG, loading="Qwen2.5-Coder-1.5B")
    assert message.startswith(
        "the embedded model server crashed while loading Qwen2.5-Coder-1.5B: illegal instruction (SIGILL) — "
        "this llama.cpp build does not match the CPU"
    )
    assert crash_message(1, "error: bad magic", LOG, loading="x.gguf") == (
        f"the embedded model server exited (code 1) while loading x.gguf: error: bad magic (log: {LOG})"
    )
