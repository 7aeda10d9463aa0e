"""Adaptive routing through the loop: failing steps move the requests to the stronger model and back."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from agent_core import SmallCode
from agent_core.commands import execute_command
from tests.support.scripted_server import ScriptedModelServer
from tests.support.traces import trace_entries

BROKEN = "def add(a, b):\n    return a - b\n"


def patch(search: str, replace: str = "return a + b") -> dict[str, Any]:
    return {
        "tool_calls": [
            {"name": "patch", "arguments": {"path": "calc.py", "search": search, "replace": replace}}
        ]
    }


def failing_patches(n: int) -> list[dict[str, Any]]:
    """Patches whose search text is not in calc.py (each different: no repetition loop)."""
    return [patch(f"return a * b  # try {i}") for i in range(n)]


def models(server: ScriptedModelServer) -> list[str]:
    return [r["model"] for r in server.requests]


async def test_failures_move_to_the_strong_model_then_back_when_the_rate_recovers(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(BROKEN)
    with ScriptedModelServer(models=["primary-model", "strong-model"]) as server:
        server.extend(
            [*failing_patches(3), patch("return a - b"), {"content": "Fixed add."}, {"content": "No."}]
        )
        switches: list[dict[str, Any]] = []
        async with SmallCode(
            model="primary-model",
            base_url=server.base_url,
            cwd=tmp_path,
            model_strong="strong-model",
            test_disable=True,
        ) as agent:
            agent.on("model_switch", switches.append)
            first = await agent.run("fix add in calc.py")
            escalated = await execute_command(agent, "model")
            second = await agent.run("is anything else wrong in calc.py?")
            stats = await execute_command(agent, "stats")

    # three failed steps (1.0 > 0.6 after 3 calls) → strong; its two successes bring the rate to 0.6 → back
    assert models(server) == ["primary-model"] * 3 + ["strong-model"] * 2 + ["primary-model"]
    assert first.success and (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert second.response == "No."
    assert [(s["from"], s["to"], s["tier"]) for s in switches] == [
        ("primary-model", "strong-model", "strong"),
        ("strong-model", "primary-model", "primary"),
    ]
    assert "failure rate 1.00 (3 of the last 3 failed) is above 0.6" in switches[0]["text"]
    assert "recovered to 0.60" in switches[1]["text"]
    assert [e["to"] for e in trace_entries(tmp_path, "model_switch")] == ["strong-model", "primary-model"]
    steps = trace_entries(tmp_path, "step")
    assert [(s["model"], s["ok"]) for s in steps[:4]] == [("primary-model", False)] * 3 + [
        ("strong-model", True)
    ]
    assert steps[0]["reasons"] == ["patch failed"]

    # /model and /stats show the current tier and each model's rate
    assert escalated.data["routing"]["tier"] == "strong"
    assert "tier: strong (strong-model)" in escalated.text
    assert "primary-model: failure rate 1.00 (3 of the last 3 failed)" in escalated.text
    routing = stats.data["routing"]
    assert routing["tier"] == "primary" and routing["models"]["primary-model"]["failed"] == 3
    assert routing["models"]["strong-model"]["recent"] == 2 and "tier: primary (primary-model)" in stats.text

    # kept across runs, in the workspace: a new session starts from the same rates
    saved = json.loads((tmp_path / ".smallcode" / "reliability.json").read_text())
    assert saved["keys"]["model:primary-model"]["recent"][:3] == [False, False, False]
    async with SmallCode(model="primary-model", base_url="http://127.0.0.1:9/v1", cwd=tmp_path) as again:
        assert again.steering.report()["models"]["primary-model"]["failed"] == 3


async def test_a_tier_on_its_own_server_and_a_tier_whose_server_is_down(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(BROKEN)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    with (
        ScriptedModelServer(models=["primary-model"]) as local,
        ScriptedModelServer(models=["medium-model"]) as medium,
    ):
        local.extend([*failing_patches(3), {"content": "Giving up."}])
        medium.extend([patch("return a - b"), {"content": "Fixed add."}])
        switches: list[dict[str, Any]] = []
        async with SmallCode(
            model="primary-model",
            base_url=local.base_url,
            cwd=tmp_path,
            model_medium="medium-model",
            base_url_medium=medium.base_url,
            model_strong="strong-model",
            base_url_strong=dead,
            retries=0,
            test_disable=True,
        ) as agent:
            agent.on("model_switch", switches.append)
            result = await agent.run("fix add in calc.py")
    # 1.0 asks for strong; its server is down, so the medium model on its own server answers
    assert models(local) == ["primary-model"] * 3 and models(medium) == ["medium-model"] * 2
    assert result.success and "return a + b" in (tmp_path / "calc.py").read_text()
    assert [s["to"] for s in switches] == ["strong-model", "medium-model"]
    assert "the strong model failed (cannot reach the model server" in switches[1]["text"]
