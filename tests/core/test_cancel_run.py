"""Cancelling SmallCode.run (issue 17: cancellation belongs to the agent, not to each front door): the run
stops at its next await and the conversation is what it was before the run, so the next run's request is
valid (no tool call without its result)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from agent_core import SmallCode
from tests.support.scripted_server import ScriptedModelServer


def fenced(name: str, **arguments: object) -> dict[str, str]:
    return {"content": "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"}


async def test_a_cancelled_run_leaves_the_conversation_as_it_was(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(
        [
            {"content": "Hello."},
            fenced("bash", command="sleep 60"),
            {"content": "Still here."},
        ]
    )
    async with SmallCode(model="scripted-model", base_url=model_server.base_url, cwd=tmp_path) as agent:
        first = await agent.run("say hello")
        assert first.success, first.response
        before = [dict(message) for message in agent.history]

        shell_started = asyncio.Event()

        def on_tool_start(payload: dict[str, Any]) -> None:
            if payload.get("name") == "bash":
                shell_started.set()

        agent.on("tool_start", on_tool_start)
        run = asyncio.create_task(agent.run("wait a minute in the shell"))
        await asyncio.wait_for(shell_started.wait(), 120)
        run.cancel()
        done, _ = await asyncio.wait({run}, timeout=60)
        assert run in done and run.cancelled()
        assert agent.history == before

        third = await agent.run("are you there?")
    assert third.success, third.response
    last_request = model_server.requests[-1]["messages"]
    assert not any("sleep 60" in json.dumps(message) for message in last_request)
