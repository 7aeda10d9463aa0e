"""`smallcode trace test` of a run with a cloud step: the replay serves every recorded reply locally, in order,
and never asks a cloud (or another tier) of its own, even with a cloud key in the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent_core import SmallCode
from agent_core.observe.replay import case_from_trace, replay
from agent_core.observe.trace import read_trace
from tests.support.scripted_server import ScriptedModelServer


def patch(search: str) -> dict[str, Any]:
    arguments = {"path": "calc.py", "search": search, "replace": "return a + b"}
    return {"tool_calls": [{"name": "patch", "arguments": arguments}]}


def test_a_run_with_a_cloud_step_replays_locally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "r" * 30)
    with (
        ScriptedModelServer(models=["local-model"]) as local,
        ScriptedModelServer(models=["gpt-4.1"]) as cloud,
    ):
        monkeypatch.setenv("OPENAI_BASE_URL", cloud.base_url)
        local.extend([patch(f"return a * b  # {i}") for i in range(3)] + [{"content": "Fixed add."}])
        cloud.extend([patch("return a - b")])
        agent = SmallCode(model="local-model", base_url=local.base_url, cwd=work, test_disable=True)
        result = agent.run_sync("fix add in calc.py")
    assert result.success and len(cloud.requests) == 1
    assert agent.last_trace is not None
    case = case_from_trace(agent.last_trace.id, read_trace(agent.last_trace.path))
    assert case["model"] == "local-model" and len(case["replies"]) == 5  # the cloud's reply is one of them

    with ScriptedModelServer(models=["gpt-4.1"]) as other_cloud:  # would answer wrongly if it were asked
        monkeypatch.setenv("OPENAI_BASE_URL", other_cloud.base_url)
        other_cloud.extend([patch("return a / b  # not the recorded reply")])
        outcome = replay(case, tmp_path / "replay")
    assert other_cloud.requests == []
    assert outcome.requests == 5 and outcome.tool_calls == case["expect"]["tool_calls"]
    assert outcome.files["calc.py"] == "def add(a, b):\n    return a + b\n"
