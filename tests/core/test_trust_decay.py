"""Trust decay through the loop: a model whose edits keep breaking the syntax gets each edit checked as it
lands and one file per turn; trust returns as its edits come back clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_core import SmallCode
from agent_core.observe.reliability import Reliability
from tests.support.scripted_server import ScriptedModelServer

BROKEN = "def add(a, b)\n    return a + b\n"  # no colon
FIXED = "def add(a, b):\n    return a + b\n"


def write(path: str, content: str, n: int = 0) -> dict[str, Any]:
    return {"name": "write_file", "arguments": {"path": path, "content": content + f"# {n}\n"}}


def agent_for(server: ScriptedModelServer, root: Path, **settings: Any) -> SmallCode:
    return SmallCode(
        model="scripted-model", base_url=server.base_url, cwd=root, test_disable=True, **settings
    )


def tool_results(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


async def test_syntax_breaking_edits_get_checked_one_by_one(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    script = [{"tool_calls": [write("calc.py", BROKEN, i)]} for i in range(4)]
    script.append({"tool_calls": [write("calc.py", FIXED, 9), write("other.py", "x = 1\n")]})
    script.append({"content": "Fixed add."})
    statuses: list[str] = []
    with ScriptedModelServer(script) as server:
        async with agent_for(server, tmp_path) as agent:
            agent.on("status", lambda p: statuses.append(p["text"]))
            result = await agent.run("fix add in calc.py")
    calls = result.tool_calls
    # three broken edits are taken on trust (reported by the turn's check, off here); then trust is gone
    assert [c.ok for c in calls[:3]] == [True, True, True]
    assert not any("Syntax check" in t for r in server.requests[1:4] for t in tool_results(r))
    assert any("3 of 3 of its recent edits broke the syntax" in s for s in statuses)
    # the fourth comes back with its syntax error, as a failed call
    assert calls[3].ok is False and "Syntax check of calc.py after this edit failed" in (
        calls[3].error or ""
    ) + str(tool_results(server.requests[4]))
    assert "calc.py, line 1: expected ':'" in tool_results(server.requests[4])[-1]
    # one file per turn: the fix lands (checked: OK), the second file waits for the next turn
    fix, other = tool_results(server.requests[5])[-2:]
    assert "Syntax check of calc.py after this edit: OK." in fix
    assert other.startswith("Not run:") and "one file per turn" in other
    assert not (tmp_path / "other.py").exists()


async def test_trust_returns_as_edits_come_back_clean_and_the_setting_turns_it_off(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    record = Reliability(tmp_path)
    for clean in [False] * 3 + [True] * 6:  # 3 of the last 9 edits broke the syntax: 0.33, not trusted yet
        record.record({"edits:scripted-model": clean})
    statuses: list[str] = []
    with ScriptedModelServer(
        [
            {"tool_calls": [write("calc.py", FIXED)]},
            {"tool_calls": [write("calc.py", FIXED, 1)]},
            {"content": "ok"},
        ]
    ) as server:
        async with agent_for(server, tmp_path) as agent:
            agent.on("status", lambda p: statuses.append(p["text"]))
            await agent.run("fix add in calc.py")
    first, second = tool_results(server.requests[1])[-1], tool_results(server.requests[2])[-1]
    assert "Syntax check of calc.py after this edit: OK." in first  # still checked: 3 of 9
    assert "Syntax check" not in second  # 3 of 10 is not above 0.3: trusted again
    assert any("edits by scripted-model are trusted again" in s for s in statuses)

    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    with ScriptedModelServer([{"tool_calls": [write("calc.py", BROKEN, i)]} for i in range(5)]) as server:
        async with agent_for(server, tmp_path, trust_decay=False, max_turns=5) as agent:
            result = await agent.run("fix add in calc.py")
    assert all(c.ok for c in result.tool_calls)  # nothing checked edit by edit with SMALLCODE_TRUST_DECAY off
    assert not any("Syntax check" in t for r in server.requests for t in tool_results(r))
