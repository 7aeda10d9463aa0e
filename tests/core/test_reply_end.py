"""A small model's reply that writes its one file whole is read only up to the end of that file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_core import SmallCode
from agent_core.context.tokens import TokenCounter
from agent_core.llm.reply_watch import ReplyComplete, ReplyWatch
from agent_core.patch.whole import closes_whole_file
from tests.support.scripted_server import ScriptedModelServer

SMALL = "qwen2.5-coder-1.5b"
CALC = "def add(a, b):\n    return a - b\n\n\ndef double(a):\n    return 2 * a\n"
FIXED = "def add(a, b):\n    return a + b\n\n\ndef double(a):\n    return 2 * a\n"
TAIL = (
    "\n\nThis changes the subtraction into an addition. Now let's verify it with the tests:\n\n"
    "```python\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n```\n\n"
    "Running them shows they pass, and the rest of the module is unchanged. " * 6
)


@pytest.fixture
def small_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(models=[SMALL]) as server:
        yield server


def calc_project(root: Path) -> None:
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(
        "from calc import add, double\n\n\ndef test_add():\n    assert add(2, 3) == 5 and double(2) == 4\n"
    )


def fence(code: str, path: str = "calc.py") -> str:
    return f"{path}\n```python\n{code}```"


def test_a_closed_block_with_the_whole_changed_file_completes_the_reply() -> None:
    reply = "add must add.\n\n" + fence(FIXED) + "\n"
    assert closes_whole_file(reply, {"calc.py"}, "calc.py", CALC)
    assert not closes_whole_file(reply[: reply.index("def double")], {"calc.py"}, "calc.py", CALC)  # open
    assert not closes_whole_file(reply.rstrip("\n"), {"calc.py"}, "calc.py", CALC)  # fence line not ended


def test_a_snippet_a_copy_or_a_call_does_not_complete_it() -> None:
    snippet = "The corrected function:\n\n```python\ndef add(a, b):\n    return a + b\n```\n"
    assert not closes_whole_file(snippet, {"calc.py"}, "calc.py", CALC)  # drops double()
    whole_after = snippet + "\nThe complete file:\n\n" + fence(FIXED) + "\n\n"
    assert closes_whole_file(whole_after, {"calc.py"}, "calc.py", CALC)
    copy = "The file now:\n\n" + fence(CALC) + "\n"
    assert not closes_whole_file(copy, {"calc.py"}, "calc.py", CALC)
    call = '```json\n{"name": "read_file", "arguments": {"path": "calc.py"}}\n```\n'
    assert not closes_whole_file(call, {"calc.py"}, "calc.py", CALC)
    test = "```python\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n```\n"
    assert not closes_whole_file(test, {"calc.py", "test_calc.py"}, "calc.py", CALC)


def test_a_new_file_is_complete_at_the_close_of_its_block() -> None:
    reply = "hello.py\n```python\nprint('hello')\n```\n"
    assert closes_whole_file(reply, {"hello.py"}, "hello.py", None)
    assert not closes_whole_file("```\n", {"hello.py"}, "hello.py", None)  # an opening bare fence


async def test_the_watch_forwards_every_piece_and_stops_at_the_end_of_a_line() -> None:
    shown: list[str] = []
    watch = ReplyWatch(lambda text: text.endswith("END\n"), shown.append)
    await watch.on_token("a\n")
    await watch.on_token("END")  # no line ended: not asked yet
    with pytest.raises(ReplyComplete) as done:
        await watch.on_token("\n")
    assert shown == ["a\n", "END", "\n"]
    assert done.value.text == "a\nEND\n"


async def test_a_small_model_writing_its_file_whole_is_cut_off_after_the_block(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    calc_project(tmp_path)
    reply = "add must add.\n\n" + fence(FIXED) + TAIL
    small_server.extend([{"content": reply, "piece_delay": 0.002}])
    # One sample a request: the first reply streams (with several, it comes whole).
    async with SmallCode(model=SMALL, base_url=small_server.base_url, cwd=tmp_path, samples=1) as agent:
        result = await agent.run("Fix add in calc.py so that the tests pass.")
    assert (tmp_path / "calc.py").read_text() == FIXED
    assert result.success and result.verified
    # The client closed the stream after the block: the server saw it before the tail was sent.
    [(request, sent)] = small_server.hangups
    assert request == 0 and sent < len(reply) - len(TAIL) // 2
    turn = next(
        json.loads(line)
        for trace in (tmp_path / ".smallcode" / "traces").glob("*.jsonl")
        for line in trace.read_text().splitlines()
        if json.loads(line)["type"] == "turn"
    )
    assert turn["cut"] and turn["reply"]["content"].startswith("add must add.")
    assert "verify" not in turn["reply"]["content"]
    # Tokens: the server sends usage only at the end of a stream, so both are the agent's estimates
    # (scaled by the ratios of the last reply that reported usage; none here).
    counter = TokenCounter()
    assert result.usage.completion_tokens == counter.estimate(turn["reply"]["content"])
    assert result.usage.prompt_tokens == counter.count_messages(small_server.requests[0]["messages"])


async def test_a_reply_about_two_files_is_read_to_its_end(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    calc_project(tmp_path)
    (tmp_path / "names.py").write_text("NAME = 'calc'\n")
    reply = "add must add.\n\n" + fence(FIXED) + "\n\nnames.py\n```python\nNAME = 'calculator'\n```\n"
    small_server.extend([{"content": reply, "piece_delay": 0.001}])
    async with SmallCode(model=SMALL, base_url=small_server.base_url, cwd=tmp_path) as agent:
        result = await agent.run("Fix add in calc.py and rename the tool in names.py to calculator.")
    assert small_server.hangups == []
    assert (tmp_path / "names.py").read_text() == "NAME = 'calculator'\n"
    assert (tmp_path / "calc.py").read_text() == FIXED and result.success


async def test_a_cut_reply_is_counted_at_the_servers_rate_of_the_last_reported_reply(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    calc_project(tmp_path)
    prose = "I think add subtracts where it should add."
    small_server.extend(
        [
            {"content": prose, "usage": {"prompt_tokens": 1234, "completion_tokens": 7}},
            {"content": "add must add.\n\n" + fence(FIXED) + TAIL, "piece_delay": 0.002},
        ]
    )
    # one sample a request: the second is streamed, and cut once its file is complete
    async with SmallCode(model=SMALL, base_url=small_server.base_url, cwd=tmp_path, samples=1) as agent:
        result = await agent.run("Fix add in calc.py so that the tests pass.")
    assert result.success and len(small_server.hangups) == 1
    counter = TokenCounter()
    first, second = (r["messages"] for r in small_server.requests)
    cut = next(
        json.loads(line)["reply"]["content"]
        for trace in (tmp_path / ".smallcode" / "traces").glob("*.jsonl")
        for line in trace.read_text().splitlines()
        if json.loads(line).get("cut")
    )
    prompt_rate = 1234 / counter.count_messages(first)
    completion_rate = 7 / counter.estimate(prose)
    assert result.usage.prompt_tokens == 1234 + round(counter.count_messages(second) * prompt_rate)
    assert result.usage.completion_tokens == 7 + round(counter.estimate(cut) * completion_rate)
