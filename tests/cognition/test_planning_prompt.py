"""The agent's planning prompt runs on the cognition layer (SMALLCODE_PLAN_DRAFT): the plan is drafted by the
declared prompt before the first turn, and the model is asked to plan with the tool only when that fails.
/cognition shows the prompt with its calls and spend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_core import SmallCode
from agent_core.commands import COMMANDS, NOT_YET, execute_command
from agent_core.observe.trace import read_trace
from tests.support.scripted_server import ScriptedModelServer

TASK = "Create calc.py with an add function, then write notes.md about it, and then add a sub function to calc.py."
PLAN = {
    "steps": [
        {"title": "Create calc.py with add()", "file": "calc.py"},
        {"title": "Write notes.md", "file": "notes.md"},
        {"title": "Add sub() to calc.py", "file": "calc.py", "check": "python -c 'import calc'"},
    ]
}


def agent(server: ScriptedModelServer, root: Path, **settings: Any) -> SmallCode:
    return SmallCode(
        model="scripted-model", base_url=server.base_url, cwd=root, max_turns=1, plan_draft=True, **settings
    )


async def test_the_plan_is_drafted_by_the_declared_prompt(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": json.dumps(PLAN)}, {"content": "Done."}])
    events: list[dict[str, Any]] = []
    async with agent(model_server, tmp_path) as smallcode:
        smallcode.on("plan_created", events.append)
        await smallcode.run(TASK)
        report = await execute_command(smallcode, "cognition")
    draft, first_turn = model_server.requests[0], model_server.requests[1]
    # The draft: one request, no tools, the plan's schema as the response format.
    assert "tools" not in draft and draft["response_format"]["json_schema"]["name"] == "plan"
    assert "steps" in draft["response_format"]["json_schema"]["schema"]["properties"]
    assert TASK in draft["messages"][-1]["content"]
    # The agent's first turn shows the drafted plan instead of asking for one.
    text = json.dumps(first_turn["messages"])
    assert "First call the plan tool" not in text
    assert "its plan is shown to you each turn" in text
    assert "CURRENT STEP 1. Create calc.py with add()" in text
    plan_md = (tmp_path / ".smallcode" / "plan.md").read_text()
    assert "Write notes.md" in plan_md and "Add sub() to calc.py" in plan_md
    assert events and events[0]["source"] == "agent"
    # The call is in the run's trace, and /cognition shows it.
    entries = read_trace(smallcode.last_trace.path) if smallcode.last_trace else []
    drafted = [e for e in entries if e["type"] == "cognition"]
    assert len(drafted) == 1 and drafted[0]["prompt"] == "plan" and drafted[0]["outcome"] == "ok"
    assert report.ok
    plan_row = next(p for p in report.data["prompts"] if p["name"] == "plan")
    assert plan_row["total"]["calls"] == 1 and plan_row["session"]["calls"] == 1
    assert plan_row["total"]["prompt_tokens"] + plan_row["total"]["completion_tokens"] > 0
    assert "plan: default tier" in report.text and "1 calls, 0 cache hits, 0 failures" in report.text


async def test_a_failed_draft_leaves_the_plan_to_the_model(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": "I would start with calc.py."}] * 3 + [{"content": "Done."}])
    async with agent(model_server, tmp_path) as smallcode:
        await smallcode.run(TASK)
        report = await execute_command(smallcode, "cognition")
    assert len(model_server.requests) == 4  # the draft and its two retries, then the first turn
    assert "First call the plan tool" in json.dumps(model_server.requests[3]["messages"])
    assert not (tmp_path / ".smallcode" / "plan.md").exists()
    assert (
        "1 failures" in report.text and "last failure: declared prompt 'plan': no valid answer" in report.text
    )


async def test_without_the_setting_the_model_plans_as_before(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": "Done."}])
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=tmp_path, max_turns=1
    ) as sc:
        await sc.run(TASK)
    assert len(model_server.requests) == 1
    assert "First call the plan tool" in json.dumps(model_server.requests[0]["messages"])


async def test_cognition_is_a_command_now(tmp_path: Path) -> None:
    assert "cognition" in COMMANDS and "cognition" not in NOT_YET
    async with SmallCode(model="m", base_url="http://127.0.0.1:9/v1", cwd=tmp_path) as smallcode:
        listing = await execute_command(smallcode, "cognition")
        helped = await execute_command(smallcode, "help")
    assert listing.ok and "plan: default tier, cache 3600s, 6000 per call, 60000 per session" in listing.text
    assert "0 calls" in listing.text and "not available" not in helped.text
