"""Two-stage tool routing in a run: small windows see the chooser and one category's tools."""

from __future__ import annotations

import json
from pathlib import Path

from agent_core import SmallCode
from tests.support.scripted_server import ScriptedModelServer


def call(name: str, **arguments: object) -> dict[str, str]:
    return {"content": "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"}


def offered(request: dict) -> list[str]:
    return [t["function"]["name"] for t in request.get("tools", [])]


async def test_small_window_routes_through_categories(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(
        [
            call("choose_category", category="Write"),
            call("write_file", path="hello.py", content="print('hello')\n"),
            {"content": "done"},
        ]
    )
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=tmp_path, context=4096, tool_routing="on"
    ) as agent:
        result = await agent.run("hello.py, printing hello")
    assert result.success and (tmp_path / "hello.py").exists()
    assert offered(model_server.requests[0]) == ["choose_category"]
    assert offered(model_server.requests[1]) == ["choose_category", "read_file", "write_file", "patch"]
    assert "Category write: you can now call" in str(model_server.requests[1]["messages"][-1]["content"])
    assert "choose_category" in model_server.requests[0]["messages"][0]["content"]  # explained in the prompt
    assert [c.name for c in result.tool_calls] == ["write_file"]  # the chooser is not a tool call of the task


async def test_a_known_tool_called_directly_still_runs(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([call("find_files", pattern="*.py"), {"content": "none"}])
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=tmp_path, context=4096, tool_routing="on"
    ) as agent:
        result = await agent.run("list python files")
    assert result.tool_calls[0].name == "find_files" and result.tool_calls[0].ok


async def test_unknown_category_is_explained(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend([call("choose_category", category="dance"), {"content": "ok"}])
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=tmp_path, context=4096, tool_routing="on"
    ) as agent:
        await agent.run("do something")
    reply = str(model_server.requests[1]["messages"][-1]["content"])
    assert "Unknown category 'dance'" in reply and "read, write, search, run, plan" in reply


async def test_large_windows_and_off_see_every_tool(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": "a"}, {"content": "b"}])
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=tmp_path, context=32768
    ) as agent:
        await agent.run("hi")
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=tmp_path, context=4096, tool_routing="off"
    ) as agent:
        await agent.run("hi")
    for request in model_server.requests:
        assert "choose_category" not in offered(request) and "bash" in offered(request)


async def test_the_tasks_words_and_the_last_tool_pick_the_category(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    """With only the chooser offered after a direct call, the real 0.5B model lost its way (wrote the tool result
    into the file); offering the kind of tool just used kept it on track."""
    model_server.extend([call("find_files", pattern="*.py"), {"content": "none found"}])
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=tmp_path, context=4096, tool_routing="on"
    ) as agent:
        await agent.run("create hello.py")
    assert offered(model_server.requests[0]) == ["choose_category", "read_file", "write_file", "patch"]
    assert offered(model_server.requests[1]) == [
        "choose_category",
        "read_file",
        "search",
        "find_files",
        "graph_search",
        "explain_symbol",
        "memory_load",
    ]
