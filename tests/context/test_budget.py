"""Context budget: eviction order, protected messages, the /budget split."""

from __future__ import annotations

import json
from pathlib import Path

from agent_core.context.budget import ContextBudget, tool_result_message, wire_messages
from agent_core.context.tokens import TokenCounter
from tests.support.scripted_server import ScriptedModelServer


def conversation(n_results: int, size: int) -> list[dict]:
    messages: list[dict] = [
        {"role": "system", "content": "system prompt " * 20},
        {"role": "user", "content": "the task: fix the bug in parser.py"},
    ]
    for i in range(n_results):
        messages.append({"role": "assistant", "content": f"reading file {i}"})
        messages.append(tool_result_message(f"read_file f{i}.py", f"line {i}\n" * size, None))
    return messages


def test_fits_without_changes_when_small() -> None:
    budget = ContextBudget(8192, TokenCounter(), reserve=512)
    messages = conversation(2, 10)
    assert budget.fit(messages) == messages


def test_evicts_oldest_tool_results_first_and_never_system_or_task() -> None:
    counter = TokenCounter()
    budget = ContextBudget(2000, counter, reserve=300)
    messages = conversation(6, 200)
    assert counter.count_messages(messages) > budget.limit
    fitted = budget.fit(messages)
    assert counter.count_messages(fitted) <= budget.limit
    assert fitted[0] == messages[0] and fitted[1] == messages[1]
    results = [m for m in fitted if m.get("smallcode_tool_result")]
    evicted = [i for i, m in enumerate(results) if m.get("smallcode_evicted")]
    assert evicted and evicted == list(range(len(evicted)))  # a prefix: oldest first
    assert not results[-1].get("smallcode_evicted")  # the newest result stays whole
    assert "call the tool again" in results[0]["content"]
    assert "read_file f0.py" in results[0]["content"]
    # The caller's history is not modified.
    assert not any(m.get("smallcode_evicted") for m in messages)


def test_huge_latest_message_is_cut_to_fit() -> None:
    counter = TokenCounter()
    budget = ContextBudget(1024, counter, reserve=200)
    messages = conversation(0, 0) + [tool_result_message("bash", "x" * 20000, None)]
    fitted = budget.fit(messages)
    assert counter.count_messages(fitted) <= budget.limit + 50
    assert "cut to fit the context window" in fitted[-1]["content"]


def test_split_and_bar() -> None:
    budget = ContextBudget(4096, TokenCounter(), reserve=512)
    split = budget.split(conversation(2, 20))
    data = split.as_dict()
    assert data["system"] > 0 and data["task"] > 0 and data["tool_results"] > 0 and data["history"] > 0
    assert data["free"] == 4096 - data["used"] - 512
    bar = split.bar(width=40)
    first = bar.splitlines()[0]
    assert first.startswith("[") and len(first.split("]")[0]) == 41
    assert "free" in bar and "tool results" in bar


def test_wire_messages_drop_bookkeeping() -> None:
    wired = wire_messages([tool_result_message("x", "y", "id1")])
    assert wired == [{"role": "tool", "tool_call_id": "id1", "content": "y"}]


async def test_agent_keeps_a_long_run_inside_a_small_window(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    from agent_core import SmallCode

    for i in range(6):
        (tmp_path / f"big{i}.txt").write_text(f"row {i}\n" * 400)
    calls = [
        {
            "content": "```json\n"
            + json.dumps({"name": "read_file", "arguments": {"path": f"big{i}.txt"}})
            + "\n```"
        }
        for i in range(6)
    ]
    model_server.extend([*calls, {"content": "read them all"}])
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=tmp_path, context=3000, max_tokens=256
    ) as agent:
        result = await agent.run("read every big file")
        window = agent.context_window
    assert result.success
    counter = TokenCounter()
    for request in model_server.requests:
        assert counter.count_messages(request["messages"]) <= window
    last = model_server.requests[-1]["messages"]
    assert last[1]["content"] == "read every big file"  # the task survives
    assert any("evicted to save context" in str(m["content"]) for m in last)
