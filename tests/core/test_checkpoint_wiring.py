"""/undo through the agent and the scripted server: shell changes are undone too, and a workspace the shell
turned hostile (a folder swapped for a symlink, a forged undo history) cannot aim an undo outside it."""

from __future__ import annotations

import json
from pathlib import Path

from agent_core import SmallCode
from agent_core.commands import execute_command
from tests.safety.conftest import tree_digest
from tests.support.scripted_server import ScriptedModelServer


def fenced(name: str, **arguments: object) -> dict[str, str]:
    return {"content": "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"}


def _dirs(tmp_path: Path) -> tuple[Path, Path]:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (outside / "victim").write_text("precious, outside the workspace\n")
    return ws, outside


async def test_undo_restores_a_file_that_bash_changed(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    ws, _ = _dirs(tmp_path)
    (ws / "data.txt").write_bytes(b"original\r\n")
    (ws / "doomed.txt").write_text("the shell removes me\n")
    model_server.extend(
        [
            fenced(
                "bash",
                command="printf 'changed by the shell' > data.txt && rm doomed.txt && echo x > made.txt",
            ),
            {"content": "done"},
        ]
    )
    async with SmallCode(model="scripted-model", base_url=model_server.base_url, cwd=ws) as agent:
        await agent.run("rewrite data.txt with the shell")
        assert (ws / "data.txt").read_bytes() == b"changed by the shell"
        undone = await execute_command(agent, "undo")
        assert undone.ok, undone.text
        assert "data.txt" in undone.text and "doomed.txt" in undone.text
        diff = await execute_command(agent, "diff", f"{undone.data['backup']}")
        assert "-changed by the shell" in diff.text and "+original" in diff.text
    assert (ws / "data.txt").read_bytes() == b"original\r\n"
    assert (ws / "doomed.txt").read_text() == "the shell removes me\n"
    assert not (ws / "made.txt").exists()


async def test_undo_never_follows_a_folder_the_shell_swapped_for_a_symlink(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    ws, outside = _dirs(tmp_path)
    before = tree_digest(outside)
    model_server.extend(
        [
            fenced("write_file", path="build/victim", content="made by the model\n"),
            fenced("bash", command="mv build build.old && ln -s ../outside build && ls build/"),
            {"content": "done"},
        ]
    )
    async with SmallCode(model="scripted-model", base_url=model_server.base_url, cwd=ws) as agent:
        await agent.run("build it")
        assert (ws / "build").is_symlink()
        for _ in range(3):  # the shell's turn, then the model's, then nothing left
            await execute_command(agent, "undo")
    assert tree_digest(outside) == before, "an undo changed files outside the workspace"
    # Both turns undone: the symlink gone, the model's file removed (the empty folder stays, as documented).
    assert not (ws / "build").is_symlink() and not any((ws / "build").iterdir())
    assert not any((ws / "build.old").iterdir())


async def test_a_forged_undo_history_in_the_workspace_is_not_obeyed(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    ws, outside = _dirs(tmp_path)
    before = tree_digest(outside)
    forged = ws / ".smallcode" / "snapshots" / "20990101-000000-aaaaaa-1"
    forged.mkdir(parents=True)
    entry = {"path": "../outside/victim", "existed": False, "mode": None, "sha256": None}
    manifest = {"id": forged.name, "run": "20990101-000000-aaaaaa", "turn": 1, "kind": "turn", "created": 4e9}
    (forged / "manifest.json").write_text(json.dumps({**manifest, "undone": False, "entries": [entry]}))
    model_server.extend([{"content": "nothing to do"}])
    async with SmallCode(model="scripted-model", base_url=model_server.base_url, cwd=ws) as agent:
        await agent.run("look around")
        await execute_command(agent, "undo")
    assert tree_digest(outside) == before, "a forged undo history removed a file outside the workspace"
