"""The `smallcode` command as a real subprocess against the scripted model server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from agent_core.safety import trust
from tests.support.scripted_server import ScriptedModelServer

WRITE_HELLO = {
    "content": '```json\n{"name": "write_file", "arguments": {"path": "hello.py", '
    '"content": "print(\\"hello world\\")\\n"}}\n```'
}


def smallcode(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SMALLCODE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "agent_core.cli.main", *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_run_creates_hello_py(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend([WRITE_HELLO, {"content": "Created hello.py, which prints hello world."}])
    proc = smallcode(
        "run",
        "create hello.py that prints hello world",
        cwd=tmp_path,
        env={"SMALLCODE_BASE_URL": model_server.base_url, "SMALLCODE_MODEL": "scripted-model"},
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "hello.py").read_text() == 'print("hello world")\n'
    assert "Created hello.py" in proc.stdout
    assert "write_file hello.py" in proc.stderr
    assert "created: hello.py" in proc.stderr
    ran = subprocess.run([sys.executable, "hello.py"], cwd=tmp_path, capture_output=True, text=True)
    assert ran.stdout == "hello world\n"


def test_run_json_prints_exactly_one_run_result(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend([WRITE_HELLO, {"content": "done"}])
    proc = smallcode(
        "run",
        "--json",
        "--base-url",
        model_server.base_url,
        "--model",
        "scripted-model",
        "create hello.py",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # the whole of stdout is one JSON object
    assert set(result) == {
        "response",
        "success",
        "files_created",
        "files_edited",
        "tool_calls",
        "usage",
        "duration_ms",
        "turns",
        "checks",
        "verified",
    }
    assert result["success"] is True and result["files_created"] == ["hello.py"]
    assert result["tool_calls"][0]["name"] == "write_file"
    assert set(result["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_settings_from_dotenv_and_toml(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"SMALLCODE_BASE_URL={model_server.base_url}\n")
    # an endpoint from the project's files is used once the user trusted it (tests/safety/test_workspace_trust.py)
    trust.remember(tmp_path, {"base_url": model_server.base_url}, allowed=True)
    (tmp_path / "smallcode.toml").write_text('model = "scripted-model"\nmax_turns = 1\n')
    model_server.extend([WRITE_HELLO, {"content": "never reached"}])
    proc = smallcode("run", "--json", "create hello.py", cwd=tmp_path)
    result = json.loads(proc.stdout)
    assert proc.returncode == 1  # one turn was allowed (from smallcode.toml), so no final answer
    assert result["turns"] == 1 and (tmp_path / "hello.py").exists()


def test_max_turns_flag_beats_toml(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    (tmp_path / "smallcode.toml").write_text("max_turns = 1\n")
    model_server.extend([WRITE_HELLO, {"content": "done"}])
    proc = smallcode(
        "run",
        "--json",
        "--max-turns",
        "2",
        "--base-url",
        model_server.base_url,
        "--model",
        "scripted-model",
        "create hello.py",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout


def test_model_server_down_exits_1_with_one_line(tmp_path: Path) -> None:
    with ScriptedModelServer() as server:
        url = server.base_url
    proc = smallcode(
        "run",
        "hi",
        cwd=tmp_path,
        env={"SMALLCODE_BASE_URL": url, "SMALLCODE_MODEL": "m", "SMALLCODE_RETRIES": "0"},
    )
    assert proc.returncode == 1
    assert "cannot reach the model server" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_unknown_model_is_a_clear_failure(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    proc = smallcode(
        "run", "--json", "--base-url", model_server.base_url, "--model", "nope", "hi", cwd=tmp_path
    )
    assert proc.returncode == 1
    assert "scripted-model" in json.loads(proc.stdout)["response"]


def test_bad_configuration_exits_2(tmp_path: Path) -> None:
    proc = smallcode(
        "run", "hi", cwd=tmp_path, env={"SMALLCODE_MAX_TURNS": "lots", "SMALLCODE_BASE_URL": "http://x"}
    )
    assert proc.returncode == 2
    assert "invalid settings" in proc.stderr and "max_turns" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert smallcode("run", cwd=tmp_path).returncode == 2
    assert smallcode("--no-such-flag", cwd=tmp_path).returncode == 2
    assert smallcode("run", "--max-turns", "0", "x", cwd=tmp_path).returncode == 2


def test_help_documents_commands_and_settings(tmp_path: Path) -> None:
    proc = smallcode("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for word in ("run", "parse-tools", "bench", "SMALLCODE_BASE_URL", "/budget", "/quit"):
        assert word in proc.stdout
    run_help = smallcode("run", "--help", cwd=tmp_path).stdout
    assert "--json" in run_help and "--max-turns" in run_help


def test_interactive_session_runs_tasks_and_slash_commands(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([WRITE_HELLO, {"content": "All done."}])
    lines = [
        "/help",
        "create hello.py",
        "/stats",
        "/tokens",
        "/budget",
        "/trace",
        "/sessions",
        "/memory add uses pytest",
        "/memory",
        "/model",
        "/profile",
        "/plan",
        "/mcp",
        "/clear",
        "/quit",
    ]
    proc = smallcode(
        cwd=tmp_path,
        stdin="\n".join(lines) + "\n",
        env={"SMALLCODE_BASE_URL": model_server.base_url, "SMALLCODE_MODEL": "scripted-model"},
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "hello.py").exists()
    assert "/budget" in out  # help
    assert "→ write_file hello.py" in out
    assert out.count("All done.") == 1  # streamed once, not printed again
    assert '"name": "write_file"' not in out  # the raw tool call shows as "→ write_file hello.py"
    assert "runs 1 (1 succeeded)" in out  # stats
    assert "tokens" in out and "free" in out  # budget bar
    assert "#1 uses pytest" in out  # memory
    assert "scripted-model" in out  # model
    assert "no MCP servers configured" in out  # /mcp
    assert "conversation cleared" in out
    assert "Traceback" not in out + proc.stderr
