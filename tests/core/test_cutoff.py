"""A reply cut off by the token limit, or ending inside an unfinished call, is never run: through the real
loop against the scripted server, nothing is written and the next request tells the model it was cut off
(and how to go on: a shorter call, or the file in parts with write_file's `append`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from agent_core import SmallCode
from tests.support.scripted_server import ScriptedModelServer

TRUNCATED = '<tool_call>{"name": "write_file", "arguments": {"path": "a.py", "content": "print('


def agent_for(server: ScriptedModelServer, root: Path) -> SmallCode:
    return SmallCode(model="scripted-model", base_url=server.base_url, cwd=root)


def fenced(name: str, **arguments: object) -> dict[str, str]:
    return {"content": "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"}


def stopped_at_length(content: str) -> dict[str, Any]:
    """A whole (non-streamed) answer whose finish_reason is "length", as servers send at max_tokens."""
    body = {
        "id": "chatcmpl-cut",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "scripted-model",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "length"}
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": 512, "total_tokens": 562},
    }
    return {"body": json.dumps(body)}


def streamed_to_length(content: str) -> dict[str, Any]:
    """The same, streamed: content chunks, then a final chunk with finish_reason "length"."""
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": content[i : i + 16]}, "finish_reason": None}]}
        for i in range(0, len(content), 16)
    ]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
    return {"sse": [json.dumps({"model": "scripted-model", **c}) for c in chunks] + ["[DONE]"]}


def last_user_message(server: ScriptedModelServer, request: int) -> str:
    messages = server.requests[request]["messages"]
    return str(next(m["content"] for m in reversed(messages) if m["role"] == "user"))


async def test_reply_ending_inside_a_call_writes_nothing(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": TRUNCATED}, {"content": "I will write it in smaller parts next time."}])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("create a.py that prints hello")
    assert not (tmp_path / "a.py").exists()
    assert result.tool_calls == []
    told = last_user_message(model_server, 1)
    assert "cut off" in told and "write_file" in told
    assert '"append": true' in told  # how to go on: the file in parts


async def test_finish_reason_length_runs_nothing(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    complete_looking = '```json\n{"name": "write_file", "arguments": {"path": "big.py", "content": "x = 1\\n"}}\n```\n\nNext I will'
    model_server.extend([stopped_at_length(complete_looking), {"content": "Stopping here."}])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("create big.py")
    assert not (tmp_path / "big.py").exists()
    assert result.tool_calls == []
    told = last_user_message(model_server, 1)
    assert "cut off" in told and "token limit" in told


async def test_streamed_cut_off_then_the_file_in_parts(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(
        [
            streamed_to_length(
                '<tool_call>{"name": "write_file", "arguments": {"path": "notes.md", "content": "# No'
            ),
            fenced("write_file", path="notes.md", content="# Notes\n"),
            fenced("write_file", path="notes.md", content="- first\n", append=True),
            {"content": "Wrote notes.md in two parts."},
        ]
    )
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("write notes.md")
    assert "cut off" in last_user_message(model_server, 1)
    assert (tmp_path / "notes.md").read_text() == "# Notes\n- first\n"
    assert [c.name for c in result.tool_calls] == ["write_file", "write_file"]
    assert result.success, result.response
