"""smallcode.mcp in the language server (a real subprocess under pytest-lsp): it lists the servers, starts
them, and the servers stop when the editor session ends; smallcode.skill and smallcode.plugin answer too."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from agent_core.safety import trust
from tests.support.scripted_server import ScriptedModelServer

ECHO = Path(__file__).with_name("mcp_echo_server.py")


@pytest.fixture
def pid_file(tmp_path: Path) -> Path:
    """The user's mcp.json names the echo server, which writes its pid here when it starts."""
    path = tmp_path / "echo.pid"
    config = trust.user_config_file().parent / "mcp.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    entry = {"command": sys.executable, "args": [str(ECHO)], "env": {"PID_FILE": str(path)}, "trust": True}
    config.write_text(json.dumps({"mcpServers": {"echo": entry}}))
    return path


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"]))
async def client(lsp_client: LanguageClient, model_server: ScriptedModelServer, tmp_path: Path) -> Any:
    root = tmp_path / "proj"
    root.mkdir()
    uri = from_fs_path(str(root)) or ""
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name="proj")],
            initialization_options={
                "baseUrl": model_server.base_url,
                "model": "scripted-model",
                "trace": False,
            },
        )
    )
    yield


async def command(client: LanguageClient, name: str, *arguments: Any) -> Any:
    params = types.ExecuteCommandParams(command=name, arguments=list(arguments) or None)
    return await asyncio.wait_for(client.workspace_execute_command_async(params), 60)


async def test_smallcode_mcp_starts_lists_and_the_server_stops_with_the_session(
    client: LanguageClient, pid_file: Path
) -> None:
    listed = await command(client, "smallcode.mcp")
    assert listed["ok"] and listed["data"]["servers"][0]["state"] == "not started"
    started = await command(client, "smallcode.mcp", {"action": "start"})
    server = started["data"]["servers"][0]
    assert started["ok"] and server["state"] == "running" and "echo" in server["tools"]
    pid = int(pid_file.read_text())
    os.kill(pid, 0)  # running
    skills = await command(client, "smallcode.skill")
    assert skills["ok"] and len(skills["data"]["skills"]) == 6
    plugins = await command(client, "smallcode.plugin", "list")
    assert plugins["ok"] and "not available" not in plugins["text"]
    await asyncio.wait_for(client.shutdown_session(), 20)
    deadline = time.monotonic() + 15
    while True:  # the editor session ended: so did the MCP server
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "the MCP server outlived the editor session"
        await asyncio.sleep(0.05)
