"""The `scaffold` tool: offered to models over 4B (the small tier's four tools are unchanged), writes through
the agent's workspace (files reported as created), stays in the workspace, and refuses to overwrite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from agent_core import SmallCode
from agent_core.agent import SMALL_TIER_TOOLS
from agent_core.config import Settings
from agent_core.tools import ToolContext, ToolRegistry
from agent_core.tools.scaffold import scaffold_tools
from agent_core.workspace import FileWorkspace
from tests.support.scripted_server import ScriptedModelServer

TODO = Path(__file__).resolve().parents[2] / "docs" / "scaffold" / "todo-cli.toml"


def ctx_for(root: Path) -> ToolContext:
    return ToolContext(root=root, settings=Settings(), workspace=FileWorkspace(root))


async def test_the_tool_writes_the_project(tmp_path: Path) -> None:
    shutil.copy(TODO, tmp_path / "spec.toml")
    registry = ToolRegistry(scaffold_tools())
    out = await registry.execute("scaffold", {"spec": "spec.toml", "out": "app"}, ctx_for(tmp_path))
    assert out.ok, out.text
    assert "app/todo/cli.py" in out.created and "app/tests/test_cli.py" in out.created
    assert all((tmp_path / f).is_file() for f in out.created)
    assert "cd app && python -m pytest" in out.text
    again = await registry.execute("scaffold", {"spec": "spec.toml", "out": "app"}, ctx_for(tmp_path))
    assert not again.ok and "already exist" in again.text


async def test_the_spec_must_be_in_the_workspace(tmp_path: Path) -> None:
    out = await ToolRegistry(scaffold_tools()).execute("scaffold", {"spec": str(TODO)}, ctx_for(tmp_path))
    assert not out.ok and "outside the workspace" in out.text
    assert list(tmp_path.iterdir()) == []


async def test_an_agent_run_scaffolds_with_one_call(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    shutil.copy(TODO, tmp_path / "todo.toml")
    model_server.extend(
        [
            {"tool_calls": [{"name": "scaffold", "arguments": {"spec": "todo.toml"}}]},
            {"content": "Scaffolded the todo CLI."},
        ]
    )
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=tmp_path, test_disable=True
    ) as agent:
        result = await agent.run("Scaffold the project described in todo.toml")
    assert "scaffold" in {t["function"]["name"] for t in model_server.requests[0]["tools"]}
    assert "todo/cli.py" in result.files_created and (tmp_path / "todo" / "cli.py").is_file()
    assert [c.name for c in result.tool_calls] == ["scaffold"] and result.tool_calls[0].ok


async def test_small_models_keep_their_four_tools(tmp_path: Path) -> None:
    assert SMALL_TIER_TOOLS == ("read_file", "write_file", "patch", "bash")
    with ScriptedModelServer(
        [{"content": "Nothing to do."}], models=["qwen2.5-coder-1.5b-instruct"]
    ) as server:
        async with SmallCode(
            model="qwen2.5-coder-1.5b-instruct", base_url=server.base_url, cwd=tmp_path, max_turns=1
        ) as agent:
            await agent.run("say hello")
        request = server.requests[0]
    assert "tools" not in request
    assert "scaffold" not in json.dumps(request["messages"])
