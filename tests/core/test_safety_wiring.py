"""Snapshots, /undo, auto-rollback and the shell policy, through the agent and the scripted server."""

from __future__ import annotations

import json
from pathlib import Path

from agent_core import SmallCode
from agent_core.commands import execute_command
from tests.support.scripted_server import ScriptedModelServer


def fenced(name: str, **arguments: object) -> dict[str, str]:
    return {"content": "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"}


async def test_undo_reverts_the_last_turn_that_edited(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "keep.py").write_text("x = 1\n")
    model_server.extend(
        [
            fenced("read_file", path="keep.py"),
            fenced("patch", path="keep.py", search="x = 1", replace="x = 2"),
            fenced("write_file", path="new.py", content="y = 1\n"),
            {"content": "done"},
        ]
    )
    async with SmallCode(model="scripted-model", base_url=model_server.base_url, cwd=tmp_path) as agent:
        await agent.run("change x and add new.py")
        assert (tmp_path / "keep.py").read_text() == "x = 2\n"
        undone = await execute_command(agent, "undo")
        assert undone.ok, undone.text
        # Only the last edit turn (new.py) is reverted; a second undo reverts the patch.
        assert not (tmp_path / "new.py").exists()
        assert (tmp_path / "keep.py").read_text() == "x = 2\n"
        again = await execute_command(agent, "undo")
        assert again.ok
    assert (tmp_path / "keep.py").read_text() == "x = 1\n"


async def test_auto_rollback_reverts_a_turn_that_breaks_syntax(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "ok.py").write_text("def f():\n    return 1\n")
    model_server.extend(
        [
            fenced("read_file", path="ok.py"),
            fenced("patch", path="ok.py", search="    return 1", replace="    return (1"),
            {"content": "gave up"},
        ]
    )
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=tmp_path, auto_rollback=True
    ) as agent:
        await agent.run("break it")
    assert (tmp_path / "ok.py").read_text() == "def f():\n    return 1\n"
    feedback = model_server.requests[2]["messages"][-1]["content"]
    assert "All edits of that turn were reverted" in feedback


async def test_ask_list_command_is_refused_without_a_user_to_ask(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([fenced("bash", command="git push origin main"), {"content": "could not push"}])
    async with SmallCode(model="scripted-model", base_url=model_server.base_url, cwd=tmp_path) as agent:
        result = await agent.run("push the branch")
    assert result.tool_calls[0].name == "bash" and not result.tool_calls[0].ok
    assert "confirm" in (result.tool_calls[0].error or "").lower()


async def test_ask_list_command_runs_when_the_user_agrees(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    asked: list[str] = []

    async def yes(command: str, reason: str) -> bool:
        asked.append(command)
        return True

    model_server.extend([fenced("bash", command="mkdir -p d && rm -rf d && echo removed"), {"content": "ok"}])
    async with SmallCode(model="scripted-model", base_url=model_server.base_url, cwd=tmp_path) as agent:
        agent.ctx.confirm = yes
        result = await agent.run("clean up")
    assert asked == ["mkdir -p d && rm -rf d && echo removed"]
    assert result.tool_calls[0].ok


async def test_metadata_endpoint_is_refused(tmp_path: Path) -> None:
    agent = SmallCode(model="m", base_url="http://169.254.169.254/v1", cwd=tmp_path)
    result = await agent.run("hi")
    await agent.aclose()
    assert not result.success and "refusing SMALLCODE_BASE_URL" in result.response
