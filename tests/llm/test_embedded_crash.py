"""The embedded model server dies of a signal in the middle of a request (as a llama.cpp build for the wrong CPU
does with SIGILL): `smallcode run` exits 1 with one line that names the signal, its cause and the kept log —
no retries, no "connection refused", no context-window guess. The real 0.5B model; slow (-m slow).
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from agent_core.config import Settings
from agent_core.llm.embedded import engine_missing
from agent_core.llm.models import FAST_MODEL, pull

pytestmark = pytest.mark.slow

TASK = "Explain in about 300 words what a Python list comprehension is, with three examples."


@pytest.fixture(scope="module")
def models_dir() -> str:
    if engine_missing():
        pytest.skip("llama-cpp-python[server] is not installed: pip install '.[embedded-fast]'")
    directory = os.environ.get("SMALLCODE_MODELS_DIR") or os.path.join(
        tempfile.gettempdir(), "smallcode-test-models"
    )
    pull(FAST_MODEL, Settings(models_dir=directory))
    return directory


def children(pid: int) -> list[int]:
    """Live child processes of `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def no_core_dumps() -> None:  # the crash should not leave a core file behind (inherited by the server)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# `smallcode run` itself (agent_core.cli.main), with one addition: the first streamed token of the answer is
# written to a marker file, so the test knows the answer is under way.
_CLI = """
import os, sys
from agent_core.loop import AgentLoop
marker = sys.argv.pop(1)
_on_token = AgentLoop._on_token
async def on_token(self, text):
    if text and not os.path.exists(marker):
        with open(marker, "w") as fh:
            fh.write(text)
    await _on_token(self, text)
AgentLoop._on_token = on_token
from agent_core.cli.main import main
sys.argv[0] = "smallcode"
sys.exit(main())
"""


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("sig", "when"),
    [(signal.SIGILL, "mid-answer"), (signal.SIGSEGV, "before the answer")],
    ids=["SIGILL-mid-answer", "SIGSEGV-during-the-prompt"],
)
def test_a_server_killed_by_a_signal_mid_request_is_named_in_one_line(
    sig: signal.Signals, when: str, models_dir: str, tmp_path: Path
) -> None:
    logs = Path(os.environ["XDG_CACHE_HOME"]) / "smallcode" / "logs"  # conftest gives each test its own
    marker = tmp_path.parent / f"{tmp_path.name}-first-token"
    env = {**os.environ, "SMALLCODE_EMBEDDED_MODEL": FAST_MODEL, "SMALLCODE_MODELS_DIR": models_dir}
    cli = subprocess.Popen(
        [sys.executable, "-c", _CLI, str(marker), "run", "--max-turns", "1", TASK],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=no_core_dumps,
    )

    def request_in_flight() -> bool:
        # The access log line for the chat request appears as soon as the request is taken (its headers go
        # out before the prompt is evaluated); the marker once the first token of the answer has arrived.
        if when == "mid-answer":
            return marker.exists()
        return any(
            "POST /v1/chat/completions" in log.read_text(errors="replace")
            for log in (logs.glob("embedded-*.log") if logs.is_dir() else [])
        )

    sent = False
    try:
        deadline = time.monotonic() + 400
        while not sent and cli.poll() is None and time.monotonic() < deadline:
            if request_in_flight():
                servers = children(cli.pid)
                assert len(servers) == 1, servers
                os.kill(servers[0], sig)
                sent = True
            time.sleep(0.02)
        out, err = cli.communicate(timeout=120)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert sent, f"the request never got {when}:\n{out}\n{err}"
    assert cli.returncode == 1, out + err
    crashed = [ln for ln in err.splitlines() if "crashed" in ln or sig.name in ln]
    assert len(crashed) == 1, err
    line = crashed[0]
    what = {
        signal.SIGILL: "illegal instruction (SIGILL) — this llama.cpp build does not match the CPU",
        signal.SIGSEGV: "segmentation fault (SIGSEGV) — a crash inside llama.cpp",
    }[sig]
    assert line.startswith(f"smallcode: the embedded model server crashed: {what}"), line
    assert (
        "reinstall with `pip install --force-reinstall --no-deps --no-cache-dir -r requirements/llama-portable.txt`"
        in line
    )
    match = re.search(r"\(log: (\S+\.log)\)$", line)
    assert match, line
    log_path = Path(match.group(1))
    assert log_path.parent == logs
    assert log_path.is_file(), "the crashed server's log must be kept"
    assert "POST /v1/chat/completions" in log_path.read_text(errors="replace")
    # Nothing misleading around it: no retries, no "cannot reach", no context-window guess.
    everything = out + err
    for wrong in ("context window", "SMALLCODE_CONTEXT", "retrying", "cannot reach", "connection refused"):
        assert wrong not in everything, everything
    assert "Traceback" not in everything
    assert out.splitlines()[0] == line.removeprefix("smallcode: ")  # the run's result says the same
    assert children(cli.pid) == []


# --- the same in the editor: the language server shows the cause (window/showMessage) ---------------------
LSP_LOG = Path(tempfile.mkdtemp(prefix="smallcode-lsp-crash-")) / "server.log"


def model_processes(models_dir: str) -> list[int]:
    """Pids of processes serving the fast model from `models_dir` (their command line, from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and models_dir in cmdline and f"--model_alias {FAST_MODEL}" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.timeout(900)
async def test_the_editor_is_shown_the_crash_and_the_next_ask_starts_the_model_again(
    models_dir: str, tmp_path: Path
) -> None:
    import asyncio

    from lsprotocol import types
    from pygls.uris import from_fs_path
    from pytest_lsp import ClientServerConfig, client_capabilities

    (tmp_path / "README.md").write_text("demo\n")
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "lsp_server", "--log-file", str(LSP_LOG)]
    )
    client = await config.start(None)  # type: ignore[arg-type]
    killed: list[int] = []

    @client.feature("smallcode/stream")
    def on_stream(params):  # type: ignore[no-untyped-def]  # (an annotation would make pygls convert params)
        text = getattr(params, "text", "")
        if text and not killed:  # the answer is streaming: the model server dies of an illegal instruction
            for pid in model_processes(models_dir):
                os.kill(pid, signal.SIGILL)
                killed.append(pid)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return types.ApplyWorkspaceEditResult(applied=True)

    uri = from_fs_path(str(tmp_path)) or ""
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("neovim"),
                root_uri=uri,
                workspace_folders=[types.WorkspaceFolder(uri=uri, name="proj")],
                initialization_options={
                    "embeddedModel": FAST_MODEL,
                    "modelsDir": models_dir,
                    "maxTurns": 1,
                    "maxTokens": 512,
                    "applyMode": "auto",
                },
            )
        )

        def ask(prompt: str) -> types.ExecuteCommandParams:
            readme = from_fs_path(str(tmp_path / "README.md"))
            return types.ExecuteCommandParams(
                command="smallcode.ask", arguments=[{"prompt": prompt, "uri": readme}]
            )

        answer = await asyncio.wait_for(client.workspace_execute_command_async(ask(TASK)), 400)
        assert killed, f"the answer never streamed: {answer}"
        shown = [m.message for m in client.messages if m.type == types.MessageType.Error]
        crash = [m for m in shown if "crashed" in m]
        assert len(crash) == 1, shown
        assert crash[0].startswith(
            "SmallCode: the embedded model server crashed: illegal instruction (SIGILL) — "
            "this llama.cpp build does not match the CPU"
        ), crash[0]
        log_path = Path(re.search(r"\(log: (\S+\.log)\)", crash[0]).group(1))  # type: ignore[union-attr]
        assert log_path.is_file()
        assert "context window" not in crash[0] and "cannot reach" not in crash[0]
        assert isinstance(answer, dict) and "crashed" in str(answer.get("text"))

        # The language server lives on: the next ask starts the model again (and says so), no stale error.
        before = len(client.messages)
        await asyncio.wait_for(client.workspace_execute_command_async(ask("Say OK.")), 400)
        assert not [m.message for m in client.messages[before:] if "crashed" in m.message]
        reports = [
            str(getattr(value, "message", "") or "")
            for values in client.progress_reports.values()
            for value in values
        ]
        assert sum(r.startswith("loading Qwen2.5-Coder-0.5B") for r in reports) == 2, reports
        assert [pid for pid in model_processes(models_dir) if pid not in killed], (
            "no model server after the restart"
        )
    finally:
        await asyncio.wait_for(client.shutdown_session(), 30)
        await client.stop()
