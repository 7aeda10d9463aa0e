"""Cloud escalation through the loop, against a scripted OpenAI-compatible cloud and a scripted Anthropic one:
the step after repeated local failures goes up (secrets redacted), the user is told, and the session's limit holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_core import SmallCode
from agent_core.commands import execute_command
from tests.support.scripted_anthropic import ScriptedAnthropicServer
from tests.support.scripted_server import ScriptedModelServer
from tests.support.traces import trace_entries

SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2  # a GitHub token in the file the task names
SOURCE = f"# deploy token: {SECRET}\ndef add(a, b):\n    return a - b\n"
KEY = "sk-test-" + "k" * 32


def patch(search: str, replace: str = "return a + b") -> dict[str, Any]:
    return {
        "tool_calls": [
            {"name": "patch", "arguments": {"path": "calc.py", "search": search, "replace": replace}}
        ]
    }


def failing(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [patch(f"return a * b  # try {i}") for i in range(start, start + n)]


def agent_for(server: ScriptedModelServer, root: Path, **settings: Any) -> SmallCode:
    return SmallCode(model="local-model", base_url=server.base_url, cwd=root, test_disable=True, **settings)


def _header(server: ScriptedModelServer, name: str) -> str:
    return next(v for k, v in server.request_headers[0].items() if k.lower() == name)


async def test_an_openai_compatible_cloud_takes_the_step_the_local_model_kept_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "calc.py").write_text(SOURCE)
    with (
        ScriptedModelServer(models=["local-model"]) as local,
        ScriptedModelServer(models=["gpt-4.1"]) as cloud,
    ):
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", cloud.base_url)
        local.extend([*failing(3), {"content": "Fixed add."}])
        cloud.extend([patch("return a - b")])
        told: list[dict[str, Any]] = []
        async with agent_for(local, tmp_path) as agent:
            agent.on("cloud", told.append)
            result = await agent.run("fix add in calc.py")
    assert result.success and "return a + b" in (tmp_path / "calc.py").read_text()
    assert len(local.requests) == 4 and len(cloud.requests) == 1  # only the one step went up
    sent = cloud.requests[0]
    assert sent["model"] == "gpt-4.1" and _header(cloud, "authorization") == f"Bearer {KEY}"
    # the local model saw the file as it is; what left the machine had the token redacted
    assert SECRET in json.dumps(local.requests[0]["messages"])
    assert SECRET not in json.dumps(sent) and "[REDACTED]" in json.dumps(sent["messages"])
    assert [m["role"] for m in sent["messages"]] == [m["role"] for m in local.requests[2]["messages"]] + [
        "assistant",
        "tool",
    ]
    assert len(told) == 1 and "OpenAI gpt-4.1" in told[0]["text"] and "cloud call 1 of 3" in told[0]["text"]
    assert "after 3 failed local steps" in told[0]["text"]
    assert [e["call"] for e in trace_entries(tmp_path, "cloud_escalation")] == [1]


async def test_the_anthropic_messages_api_takes_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "calc.py").write_text(SOURCE)
    with ScriptedModelServer(models=["local-model"]) as local, ScriptedAnthropicServer() as cloud:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", cloud.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-not-used-" + "x" * 20)  # Anthropic comes first
        local.extend([*failing(3), {"content": "Fixed add."}])
        cloud.extend(
            [{"text": "The operator is wrong.", "tool_calls": [patch("return a - b")["tool_calls"][0]]}]
        )
        told: list[dict[str, Any]] = []
        async with agent_for(local, tmp_path, cloud_model="claude-test") as agent:
            agent.on("cloud", told.append)
            result = await agent.run("fix add in calc.py")
    assert result.success and "return a + b" in (tmp_path / "calc.py").read_text()
    assert [c.name for c in result.tool_calls] == ["patch"] * 4 and result.tool_calls[-1].ok
    sent, headers = cloud.requests[0], cloud.request_headers[0]
    assert headers["x-api-key"] == KEY and headers["anthropic-version"] == "2023-06-01"
    assert sent["model"] == "claude-test" and sent["max_tokens"] > 0
    assert "patch" in sent["system"] or "tool" in sent["system"]  # the system prompt travels as `system`
    assert [t["name"] for t in sent["tools"]] == [t["function"]["name"] for t in local.requests[0]["tools"]]
    assert "input_schema" in sent["tools"][0]
    turns = sent["messages"]
    assert turns[0]["role"] == "user" and all(
        a["role"] != b["role"] for a, b in zip(turns, turns[1:], strict=False)
    )
    uses = [b for t in turns for b in t["content"] if b["type"] == "tool_use"]
    results = [b for t in turns for b in t["content"] if b["type"] == "tool_result"]
    assert len(uses) == 3 and [r["tool_use_id"] for r in results] == [u["id"] for u in uses]
    assert SECRET not in json.dumps(sent) and "[REDACTED]" in json.dumps(sent)
    assert "Anthropic claude-test" in told[0]["text"]
    # the cloud's tool_use went on in the local conversation as a native call
    after = local.requests[3]["messages"]
    assert any(m.get("tool_calls") and m["tool_calls"][0]["id"] == "toolu_0" for m in after)


async def test_the_sessions_cloud_calls_are_limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "calc.py").write_text(SOURCE)
    with (
        ScriptedModelServer(models=["local-model"]) as local,
        ScriptedModelServer(models=["gpt-4.1"]) as cloud,
    ):
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", cloud.base_url)
        local.extend([*failing(3), *failing(3, start=10), {"content": "I cannot fix it."}])
        cloud.extend([patch("return a / b  # cloud try")])  # the cloud fails too
        told: list[str] = []
        async with agent_for(local, tmp_path, cloud_max_calls=1) as agent:
            agent.on("cloud", lambda p: told.append(p["text"]))
            agent.on("status", lambda p: told.append(p["text"]))
            await agent.run("fix add in calc.py")
            stats = (await execute_command(agent, "stats")).data
    assert len(cloud.requests) == 1 and len(local.requests) == 7  # the second escalation was not made
    assert sum("this step goes to OpenAI" in t for t in told) == 1
    assert any("cloud call(s) are spent (SMALLCODE_CLOUD_MAX_CALLS)" in t for t in told)
    assert any(t.startswith("cloud escalation is on (OPENAI_API_KEY is set)") for t in told)
    assert (
        stats["routing"]["cloud"]
        == {
            "provider": "openai",
            "model": "gpt-4.1",
            "calls": 1,
            "max_calls": 1,
            "tokens": stats["routing"]["cloud"]["tokens"],
        }
        and stats["routing"]["cloud"]["tokens"] > 0
    )
    assert stats["routing"]["models"]["cloud:gpt-4.1"]["failed"] == 1


async def test_no_key_or_no_calls_means_no_escalation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "calc.py").write_text(SOURCE)
    with (
        ScriptedModelServer(models=["local-model"]) as local,
        ScriptedModelServer(models=["gpt-4.1"]) as cloud,
    ):
        monkeypatch.setenv("OPENAI_BASE_URL", cloud.base_url)
        local.extend([*failing(4), {"content": "I cannot fix it."}])
        async with agent_for(local, tmp_path) as agent:  # no key set
            await agent.run("fix add in calc.py")
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        local.extend([*failing(4, start=10), {"content": "I cannot fix it."}])
        async with agent_for(local, tmp_path, cloud_max_calls=0) as agent:
            await agent.run("fix add in calc.py")
    assert cloud.requests == [] and len(local.requests) == 10
