"""The agent loop against a real scripted OpenAI-compatible server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_core import RunResult, SmallCode
from tests.support.scripted_server import ScriptedModelServer


def fenced(name: str, **arguments: object) -> dict[str, str]:
    return {"content": "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"}


def agent_for(server: ScriptedModelServer, root: Path, **settings: object) -> SmallCode:
    return SmallCode(model="scripted-model", base_url=server.base_url, cwd=root, **settings)


async def test_creates_a_file_from_a_fenced_json_call(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(
        [
            fenced("write_file", path="hello.py", content="print('hello world')\n"),
            {"content": "Created hello.py."},
        ]
    )
    events: list[tuple[str, dict]] = []
    async with agent_for(model_server, tmp_path) as agent:
        for name in ("tool_start", "tool_end", "turn"):
            agent.on(name, lambda payload, name=name: events.append((name, payload)))
        result = await agent.run("create hello.py that prints hello world")
    assert isinstance(result, RunResult)
    assert result.success is True
    assert (tmp_path / "hello.py").read_text() == "print('hello world')\n"
    assert result.files_created == ["hello.py"]
    assert result.files_edited == []
    assert [c.name for c in result.tool_calls] == ["write_file"]
    assert result.tool_calls[0].ok and result.tool_calls[0].args["path"] == "hello.py"
    assert result.turns == 2
    assert result.response == "Created hello.py."
    assert result.usage.total_tokens > 0
    assert (
        "tool_start",
        {"name": "write_file", "args": {"path": "hello.py", "content": "print('hello world')\n"}},
    ) in events
    assert [p["n"] for n, p in events if n == "turn"] == [1, 2]
    # The model saw the tool result on its second turn.
    second = model_server.requests[1]["messages"]
    assert any("hello.py" in str(m.get("content")) for m in second if m["role"] in ("user", "tool"))


async def test_native_tool_calls_get_tool_role_results(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("alpha\nbeta\n")
    model_server.extend(
        [
            {"tool_calls": [{"id": "c1", "name": "read_file", "arguments": {"path": "a.txt"}}]},
            {
                "tool_calls": [
                    {
                        "id": "c2",
                        "name": "patch",
                        "arguments": json.dumps({"path": "a.txt", "search": "beta", "replace": "gamma"}),
                    }
                ]
            },
            {"content": "Replaced beta with gamma."},
        ]
    )
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("replace beta with gamma in a.txt")
    assert result.success
    assert (tmp_path / "a.txt").read_text() == "alpha\ngamma\n"
    assert result.files_edited == ["a.txt"]
    messages = model_server.requests[2]["messages"]
    tool_messages = [m for m in messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["c1", "c2"]
    assert any(m.get("tool_calls") for m in messages if m["role"] == "assistant")
    # Our bookkeeping keys never reach the wire.
    assert not any(k.startswith("smallcode_") for m in messages for k in m)


async def test_hermes_tool_call(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    call = {"name": "write_file", "arguments": {"path": "x.txt", "content": "x"}}
    model_server.extend([{"content": f"<tool_call>\n{json.dumps(call)}\n</tool_call>"}, {"content": "done"}])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("make x.txt")
    assert result.success and (tmp_path / "x.txt").read_text() == "x"


async def test_turn_limit_ends_the_run_as_failed(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend([fenced("find_files", pattern=f"*.{i}") for i in range(5)])
    async with agent_for(model_server, tmp_path, max_turns=3) as agent:
        result = await agent.run("look around")
    assert result.success is False
    assert result.turns == 3
    assert "3 turns" in result.response


async def test_same_call_repeated_three_times_is_a_loop(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([fenced("find_files", pattern="*.py")] * 6)
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("find python files")
    assert result.success is False
    assert "repeated the same tool call (find_files) 4 times" in result.response
    assert len(result.tool_calls) == 2  # the third identical call was not run again, the fourth ended the run
    assert len(model_server.requests) == 4
    warning = model_server.requests[3]["messages"][-1]["content"]
    assert "same call 3 times" in warning and "Do something different" in warning


async def test_rereading_after_an_edit_is_not_a_loop(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("one\n")
    read = fenced("read_file", path="a.txt")
    model_server.extend(
        [
            read,
            fenced("patch", path="a.txt", search="one", replace="two"),
            read,
            fenced("patch", path="a.txt", search="two", replace="three"),
            read,
            {"content": "a.txt now says three"},
        ]
    )
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("step a.txt from one to three")
    assert result.success, result.response
    assert (tmp_path / "a.txt").read_text() == "three\n"


async def test_greeting_regression_reinjects_the_task(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(
        [
            fenced("find_files", pattern="*.py"),
            {"content": "Hello! How can I help you today?"},
            {"content": "There are no Python files."},
        ]
    )
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("list the python files in this project")
    assert result.success and result.response == "There are no Python files."
    reinjected = model_server.requests[2]["messages"][-1]["content"]
    assert "list the python files in this project" in reinjected


async def test_syntax_error_after_an_edit_is_reported_to_the_model(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([fenced("write_file", path="bad.py", content="def f(:\n"), {"content": "done"}])
    async with agent_for(model_server, tmp_path) as agent:
        await agent.run("write bad.py")
    feedback = model_server.requests[1]["messages"][-1]["content"]
    assert "Check after your edits failed" in feedback and "bad.py" in feedback


async def test_model_server_down_ends_with_a_clear_message(tmp_path: Path) -> None:
    with ScriptedModelServer() as server:
        url = server.base_url
    agent = SmallCode(model="scripted-model", base_url=url, cwd=tmp_path, retries=0)
    errors: list[str] = []
    agent.on("error", lambda p: errors.append(p["error"]))
    result = await agent.run("anything")
    await agent.aclose()
    assert result.success is False
    assert "cannot reach the model server" in result.response
    assert errors == [result.response]
    assert "\n" not in result.response and "Traceback" not in result.response


async def test_trace_is_written_without_secrets(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    secret = "sk-abcdefghijklmnopqrstuvwxyz123456"
    model_server.extend(
        [fenced("write_file", path="cfg.env", content=f"OPENAI_API_KEY={secret}\n"), {"content": "ok"}]
    )
    async with agent_for(model_server, tmp_path, api_key=secret) as agent:
        await agent.run(f"write cfg.env with my key {secret}")
        trace_path = agent.last_trace.path
    text = trace_path.read_text()
    assert secret not in text
    kinds = [json.loads(line)["type"] for line in text.splitlines()]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end" and "turn" in kinds and "tool" in kinds


async def test_unusable_replies_are_fed_back_then_the_run_stops(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": ""}] * 3)
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("do it")
    assert result.success is False
    assert "no usable tool call" in result.response
    assert "Your reply was empty" in model_server.requests[1]["messages"][-1]["content"]


async def test_conversation_continues_across_runs(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend([{"content": "first"}, {"content": "second"}])
    async with agent_for(model_server, tmp_path) as agent:
        await agent.run("one")
        await agent.run("two")
    contents = [m["content"] for m in model_server.requests[1]["messages"]]
    assert "one" in contents and "first" in contents and contents[-1] == "two"


def test_run_sync(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend([{"content": "nothing to do"}])
    result = agent_for(model_server, tmp_path).run_sync("say hi")
    assert result.success and result.response == "nothing to do"


@pytest.mark.parametrize("stream", [True, False])
async def test_tokens_stream_as_events(
    model_server: ScriptedModelServer, tmp_path: Path, stream: bool
) -> None:
    model_server.extend([{"content": "a fairly long final answer"}])
    tokens: list[str] = []
    async with agent_for(model_server, tmp_path, stream=stream) as agent:
        agent.on("token", lambda p: tokens.append(p["text"]))
        await agent.run("answer")
    assert "".join(tokens) == "a fairly long final answer"
    if stream:
        assert len(tokens) > 1


async def test_edit_blocks_in_prose_still_edit(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    reply = (
        "The bug is the operator.\n\ncalc.py\n```python\n<<<<<<< SEARCH\n    return a - b\n=======\n"
        "    return a + b\n>>>>>>> REPLACE\n```\n"
    )
    model_server.extend([{"content": reply}, {"content": "Fixed add()."}])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("fix add in calc.py")
    assert result.success
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert result.files_edited == ["calc.py"]
    assert result.tool_calls[0].name == "patch" and result.tool_calls[0].ok


async def test_patch_spiral_tells_the_model_to_rewrite_the_file(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    model_server.extend(
        [
            fenced("patch", path="a.py", search="y = 1", replace="y = 2"),
            fenced("patch", path="a.py", search="z = 1", replace="z = 2"),
            fenced("write_file", path="a.py", content="x = 2\n"),
            {"content": "rewrote a.py"},
        ]
    )
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("set x to 2 in a.py")
    assert result.success
    first_failure = str(model_server.requests[1]["messages"][-1]["content"])
    second_failure = str(model_server.requests[2]["messages"][-1]["content"])
    assert "write_file is allowed for this file now" not in first_failure
    assert "write_file is allowed for this file now" in second_failure
    assert (tmp_path / "a.py").read_text() == "x = 2\n"


async def test_a_finished_edit_sent_again_is_not_redone_and_ends_the_run(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    """Seen with the real 0.5B/1.5B models: after write_file succeeds they send the same call again."""
    write = fenced("write_file", path="hello.py", content="print('hello world')\n")
    model_server.extend([write] * 5)
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("create hello.py that prints hello world")
    assert result.success
    assert result.response == "Done: created hello.py."
    assert [c.name for c in result.tool_calls] == ["write_file"]
    assert len(model_server.requests) == 3
    assert "already made" in model_server.requests[2]["messages"][-1]["content"]


async def test_a_finished_edit_repeated_once_then_a_summary(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    write = fenced("write_file", path="hello.py", content="print('hi')\n")
    model_server.extend([write, write, {"content": "Created hello.py."}])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("create hello.py")
    assert result.success and result.response == "Created hello.py."


async def test_context_window_from_the_server(tmp_path: Path) -> None:
    body = json.dumps({"data": [{"id": "scripted-model", "max_model_len": 12288}]})
    with ScriptedModelServer([{"content": "hi"}], models_body=body) as server:
        async with agent_for(server, tmp_path) as agent:
            await agent.run("hello")
            assert agent.context_window == 12288


async def test_reply_budget_keeps_prompt_plus_reply_inside_the_window(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    """A prompt of ~2.2k tokens with max_tokens 2048 overflowed a 4096 llama.cpp server (seen in the plan bench)."""
    from agent_core.context.tokens import TokenCounter

    (tmp_path / "big.txt").write_text("several words on every line of this file\n" * 400)
    model_server.extend([fenced("read_file", path="big.txt"), {"content": "read"}])
    async with agent_for(
        model_server, tmp_path, context=4096, max_tokens=2048, max_tool_result_chars=9000
    ) as agent:
        await agent.run("read big.txt")
    counter = TokenCounter()
    for request in model_server.requests:
        prompt = counter.count_messages(request["messages"]) + counter.estimate(
            json.dumps(request.get("tools", []))
        )
        assert prompt + request["max_tokens"] <= 4096
    assert model_server.requests[1]["max_tokens"] < 2048
