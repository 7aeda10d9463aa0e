"""A multi-step task run end to end against the scripted server: plan, module, tests, pass."""

from __future__ import annotations

import json
from pathlib import Path

from agent_core import SmallCode
from tests.support.scripted_server import ScriptedModelServer


def call(name: str, **arguments: object) -> dict[str, str]:
    return {
        "content": "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"
    }


TASK = (
    "Create calc.py with an add function, then write tests/test_calc.py for it, and then make the tests pass."
)


async def test_plan_then_execute_with_validation(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.pytest.ini_options]\n'
    )
    model_server.extend(
        [
            call(
                "plan",
                steps=[
                    {"title": "Create calc.py with add()", "file": "calc.py"},
                    {"title": "Write tests/test_calc.py", "file": "tests/test_calc.py"},
                    {"title": "Make the tests pass"},
                ],
            ),
            call("write_file", path="calc.py", content="def add(a, b):\n    return a - b\n"),
            call("todo", step=1, status="done"),
            call(
                "write_file",
                path="tests/test_calc.py",
                content="from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
            ),
            call("todo", step=2, status="done"),  # the check runs the new test: it fails
            call("patch", path="calc.py", search="return a - b", replace="return a + b"),
            call("todo", step=2, status="done"),
            call("todo", step=3, status="done"),
            {"content": "calc.py and its test are done; the tests pass."},
        ]
    )
    events: list[dict] = []
    async with SmallCode(model="scripted-model", base_url=model_server.base_url, cwd=tmp_path) as agent:
        agent.on("*", events.append)
        result = await agent.run(TASK)
    assert result.success, result.response
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    # The task told the model to plan first.
    first = model_server.requests[0]["messages"]
    assert "call the plan tool" in first[-1]["content"] or "call the plan tool" in first[-2]["content"]
    # The model saw the plan with its current step on later turns.
    later = model_server.requests[3]["messages"][-1]["content"]
    assert "Create calc.py" in later and "Write tests/test_calc.py" in later
    # Marking step 2 done ran the test, which failed and was reported.
    failed_check = [r for r in result.tool_calls if r.name == "todo" and not r.ok]
    assert len(failed_check) == 1
    todo_feedback = str(model_server.requests[5]["messages"][-2]["content"])  # [-1] is the plan
    assert "test_add" in todo_feedback or "assert" in todo_feedback
    plan_md = (tmp_path / ".smallcode" / "plan.md").read_text()
    assert [line[:5] for line in plan_md.splitlines() if line.startswith("- [")] == ["- [x]"] * 3
    kinds = [e["event"] for e in events]
    assert "plan_created" in kinds and "step_done" in kinds and "step_failed" in kinds
    assert kinds.index("plan_created") < kinds.index("step_done")
