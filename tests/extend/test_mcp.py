"""MCP servers through the agent loop: a real server (tests/extend/mcp_echo_server.py, written with the SDK)
over stdio and over streamable HTTP, its tool called by the scripted model, the result in the next request."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_core import SmallCode
from agent_core.commands import execute_command
from agent_core.extend.mcp_config import load_mcp_config
from agent_core.safety import trust
from tests.support.scripted_server import ScriptedModelServer

SERVER = Path(__file__).with_name("mcp_echo_server.py")


def write_config(path: Path, servers: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"mcpServers": servers}))


def user_config(servers: dict[str, Any]) -> None:
    write_config(trust.user_config_file().parent / "mcp.json", servers)


def stdio_entry(**extra: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": [str(SERVER)], **extra}


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"id": "c1", "name": name, "arguments": arguments}]}


def tool_messages(request: dict[str, Any]) -> list[str]:
    return [str(m.get("content")) for m in request["messages"] if m["role"] == "tool"]


def agent_for(server: ScriptedModelServer, root: Path, **settings: Any) -> SmallCode:
    return SmallCode(
        model="scripted-model", base_url=server.base_url, cwd=root, test_disable=True, **settings
    )


async def test_stdio_tool_is_offered_called_and_its_result_reaches_the_model(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    user_config({"echo": stdio_entry(trust=True)})
    model_server.extend([call("mcp__echo__echo", text="hello from the model"), {"content": "Done."}])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("ask the echo server to say hello")
    assert result.success, result.response
    offered = {t["function"]["name"]: t["function"] for t in model_server.requests[0]["tools"]}
    assert "mcp__echo__echo" in offered
    assert offered["mcp__echo__echo"]["parameters"]["properties"]["text"]["type"] == "string"
    assert "mcp__echo__echo" in model_server.requests[0]["messages"][0]["content"]  # the system prompt too
    assert result.tool_calls[0].name == "mcp__echo__echo" and result.tool_calls[0].ok
    assert any("echo says: hello from the model" in m for m in tool_messages(model_server.requests[1]))


async def test_server_environment_holds_no_api_key_or_setting_and_it_stops_with_the_agent(
    model_server: ScriptedModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-openai-key")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-fake")
    monkeypatch.setenv("SMALLCODE_API_KEY", "fake-smallcode-key")
    user_config({"echo": stdio_entry(trust=True, env={"GIVEN": "by-config"})})
    model_server.extend([call("mcp__echo__environment"), {"content": "Done."}])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("report the echo server's environment")
        assert result.success, result.response
    seen = "\n".join(tool_messages(model_server.requests[1]))
    report = json.loads(seen[seen.index("{") :])
    assert "GIVEN" in report["names"] and "by-config" in report["values"]
    assert "PATH" in report["names"]
    assert report["cwd"] == str(tmp_path.resolve())  # the workspace
    assert not [n for n in report["names"] if n.endswith("_API_KEY") or n.startswith("SMALLCODE_")]
    assert not [v for v in report["values"] if "fake" in v and v != "by-config"]
    with pytest.raises(ProcessLookupError):  # the server was stopped with the agent
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            os.kill(report["pid"], 0)
            time.sleep(0.05)


@pytest.fixture
def http_server() -> Iterator[str]:
    """The same server over streamable HTTP, in its own process."""
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--http", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[1])
        deadline = time.monotonic() + 20
        while True:  # wait until it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the MCP HTTP server did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_streamable_http_server_tool_result_reaches_the_model(
    model_server: ScriptedModelServer, tmp_path: Path, http_server: str
) -> None:
    user_config({"web-echo": {"url": http_server, "trust": True}})
    model_server.extend([call("mcp__web-echo__echo", text="over http"), {"content": "Done."}])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("ask the echo server to say something")
        listing = await execute_command(agent, "mcp")
    assert result.success, result.response
    assert any("echo says: over http" in m for m in tool_messages(model_server.requests[1]))
    server = listing.data["servers"][0]
    assert server["transport"] == "http" and server["state"] == "running" and "echo" in server["tools"]


async def test_untrusted_server_tools_are_confirmed_like_ask_list_commands(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    user_config({"echo": stdio_entry()})
    model_server.extend(
        [call("mcp__echo__echo", text="first"), call("mcp__echo__echo", text="second"), {"content": "Done."}]
    )
    asked: list[tuple[str, str]] = []

    async def confirm(label: str, reason: str) -> bool:
        asked.append((label, reason))
        return len(asked) == 1  # yes, then no

    async with agent_for(model_server, tmp_path) as agent:
        agent.ctx.confirm = confirm
        await agent.run("say first and second through the echo server")
    assert asked[0][0].startswith("mcp__echo__echo") and "first" in asked[0][0]
    assert "not marked trusted" in asked[0][1]
    assert any("echo says: first" in m for m in tool_messages(model_server.requests[1]))
    declined = tool_messages(model_server.requests[2])[-1]
    assert "declined" in declined and "echo says" not in declined


async def test_without_anyone_to_confirm_an_untrusted_tool_is_not_run(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    user_config({"echo": stdio_entry()})
    model_server.extend([call("mcp__echo__echo", text="x"), {"content": "Done."}])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("say x through the echo server")
    assert not result.tool_calls[0].ok
    assert "needs the user's confirmation" in tool_messages(model_server.requests[1])[-1]


async def test_results_are_capped_like_any_tool_result(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    user_config({"echo": stdio_entry(trust=True)})
    model_server.extend([call("mcp__echo__big", size=20000), {"content": "Done."}])
    async with agent_for(model_server, tmp_path, max_tool_result_chars=1000) as agent:
        await agent.run("get the big result")
    shown = tool_messages(model_server.requests[1])[-1]
    assert "more characters cut" in shown and len(shown) < 1200


async def test_small_models_get_no_mcp_tools_and_start_no_server(tmp_path: Path) -> None:
    user_config({"echo": stdio_entry(trust=True)})
    with ScriptedModelServer([{"content": "Nothing to do."}], models=["qwen2.5-coder-1.5b"]) as server:
        async with SmallCode(
            model="qwen2.5-coder-1.5b", base_url=server.base_url, cwd=tmp_path, test_disable=True
        ) as agent:
            await agent.run("say hello")
            assert agent.mcp.running() == []
    assert server.requests and "mcp__" not in json.dumps(server.requests[0])


async def test_a_workspace_mcp_json_needs_the_users_trust(tmp_path: Path) -> None:
    write_config(tmp_path / ".smallcode" / "mcp.json", {"proj": stdio_entry()})
    config = load_mcp_config(tmp_path)  # nobody asked: left out, with the reason
    assert config.servers == {}
    assert "not used" in config.problems[0]
    questions: list[str] = []
    config = load_mcp_config(tmp_path, ask=lambda q: questions.append(q) or True)
    assert list(config.servers) == ["proj"] and "proj" in questions[0]
    assert list(load_mcp_config(tmp_path).servers) == ["proj"]  # remembered for this workspace
    write_config(tmp_path / ".smallcode" / "mcp.json", {"proj": stdio_entry(args=["other.py"])})
    assert load_mcp_config(tmp_path).servers == {}  # changed entries: asked again


async def test_slash_mcp_lists_starts_and_reports_a_broken_server(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    user_config(
        {
            "echo": stdio_entry(trust=True),
            "broken": {"command": sys.executable, "args": ["-c", "import sys; sys.exit('no such thing')"]},
        }
    )
    async with agent_for(model_server, tmp_path) as agent:
        before = await execute_command(agent, "mcp")
        assert before.ok and {s["state"] for s in before.data["servers"]} == {"not started"}
        started = await execute_command(agent, "mcp", "start")
        states = {s["name"]: s for s in started.data["servers"]}
        assert states["echo"]["state"] == "running" and "echo" in states["echo"]["tools"]
        assert states["broken"]["state"] == "failed" and "no such thing" in states["broken"]["error"]
        assert not started.ok and "Traceback" not in started.text
        assert "mcp__echo__echo" in agent.tools
        stopped = await execute_command(agent, "mcp", "stop echo")
        assert {s["name"]: s["state"] for s in stopped.data["servers"]}["echo"] == "stopped"
        assert "mcp__echo__echo" not in agent.tools
        bad = await execute_command(agent, "mcp", "start nothere")
        assert not bad.ok and "no MCP server 'nothere'" in bad.text
