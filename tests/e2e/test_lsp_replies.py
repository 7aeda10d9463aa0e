"""Command replies say whether the command did its work, and "▶ Run step" keeps the step checks.

Every workspace/executeCommand answer is a CommandReply {ok, text, data, error}: a busy server, a failed, a
cancelled or a crashed run answer ok=false with the error. A step run from a plan lens on a plan the agent
does not hold in memory (a fresh server, plan.md on disk) is checked before it counts as done. The server is
a real subprocess (Neovim's and VS Code's capabilities), the model the scripted HTTP server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient

from tests.e2e import test_lsp_server as base
from tests.e2e.test_lsp_server import FIX_SCRIPT, command, free_port, wait_until
from tests.support.scripted_server import ScriptedModelServer

# the server-and-client fixtures of test_lsp_server, shared
client, lsp_options, project = base.client, base.lsp_options, base.project

REPLY_KEYS = {"ok", "text", "data", "error"}


async def test_a_successful_run_answers_ok(client: LanguageClient, model_server: ScriptedModelServer) -> None:
    model_server.extend(FIX_SCRIPT)
    answer = await command(client, "smallcode.ask", {"prompt": "fix add in calc.py"})
    assert set(answer) == REPLY_KEYS
    assert answer["ok"] is True and answer["error"] is None, answer
    assert answer["data"]["success"] is True


async def test_a_second_ask_while_one_runs_answers_busy(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    model_server.extend([{"content": "thinking slowly", "delay": 30}])
    first = asyncio.ensure_future(command(client, "smallcode.ask", {"prompt": "slow task"}))
    await wait_until(lambda: len(model_server.requests) >= 1)
    busy = await command(client, "smallcode.ask", {"prompt": "another task"})
    assert busy["ok"] is False and busy["data"] == {"error": "busy"}, busy
    assert "already working" in busy["error"]
    await command(client, "smallcode.cancel")
    cancelled = await asyncio.wait_for(first, 20)
    assert cancelled["ok"] is False and cancelled["error"] == "cancelled"
    assert cancelled["data"]["cancelled"] is True


@pytest.mark.parametrize("lsp_options", [{"baseUrl": f"http://127.0.0.1:{free_port()}/v1"}])
async def test_a_failed_run_answers_not_ok_with_the_error(
    client: LanguageClient, lsp_options: dict[str, Any]
) -> None:
    answer = await command(client, "smallcode.ask", {"prompt": "anything"})
    assert answer["ok"] is False and answer["data"]["success"] is False, answer
    assert answer["error"] and "127.0.0.1" in answer["error"]


async def test_a_run_that_crashes_answers_not_ok(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    """The model server answers garbage the whole run: the run ends failed, the reply says so."""
    model_server.extend([{"status": 500, "body": "internal error", "repeat": 20}])
    answer = await command(client, "smallcode.ask", {"prompt": "anything"})
    assert answer["ok"] is False and answer["error"], answer


async def test_a_bad_argument_answers_not_ok_with_the_reason(client: LanguageClient) -> None:
    answer = await command(client, "smallcode.ask", {})
    assert answer["ok"] is False and "nothing to ask" in answer["error"], answer
    plan_step = await command(client, "smallcode.planStep", {"action": "fly"})
    assert plan_step["ok"] is False and "run | retry | skip" in plan_step["error"]


async def test_every_command_answers_a_command_reply(client: LanguageClient) -> None:
    for name in ("smallcode.help", "smallcode.budget", "smallcode.diff", "smallcode.cancel"):
        answer = await command(client, name)
        assert set(answer) == REPLY_KEYS and answer["ok"] is True, (name, answer)


PLAN = """# Plan

> fix calc

- [ ] 1. Fix add in calc.py
  - file: calc.py:2
- [ ] 2. Add a test
"""


async def test_run_step_on_a_plan_from_disk_keeps_the_step_check(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    """The agent holds no plan (a fresh server): the step's edit breaks calc.py, so "done" is refused."""
    root: Path = client.root  # type: ignore[attr-defined]
    (root / ".smallcode").mkdir()
    (root / ".smallcode" / "plan.md").write_text(PLAN)
    plan_uri = from_fs_path(str(root / ".smallcode" / "plan.md")) or ""
    model_server.extend(
        [
            {"tool_calls": [{"name": "patch", "arguments": {"path": "calc.py", "search": "return a - b",
                                                            "replace": "return (a +"}}]},
            {"tool_calls": [{"name": "todo", "arguments": {"step": "1", "status": "done"}}]},
            {"content": "Step 1 done."},
        ]
    )  # fmt: skip
    answer = await command(client, "smallcode.planStep", {"action": "run", "step": "1", "uri": plan_uri})
    [todo] = [c for c in answer["data"]["tool_calls"] if c["name"] == "todo"]
    assert todo["ok"] is False, answer
    seen = [str(m["content"]) for m in model_server.requests[2]["messages"] if m["role"] in ("tool", "user")]
    assert any("Step 1 is not done yet: its check failed" in text for text in seen)
    plan = (root / ".smallcode" / "plan.md").read_text()
    assert "[x] 1." not in plan and "1. Fix add in calc.py" in plan
    if client.client_name == "visual_studio_code":  # type: ignore[attr-defined]
        editor = client.editor  # type: ignore[attr-defined]
        await wait_until(lambda: editor.lens_refreshes >= 1)  # plan events reach the editor
