"""Everything a model server sends is bounded: reply size (the request's max_tokens plus a margin), bytes
without progress, tool-call arguments, answers of the wrong shape. Real HTTP (ScriptedModelServer's
`endless` replies stop by themselves after ENDLESS_SECONDS, so a failing test cannot hang)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from agent_core.llm.client import MAX_TOOL_ARGUMENT_CHARS, ChatClient, ReplyLimits
from agent_core.llm.types import ModelError
from tests.support.scripted_server import ScriptedModelServer

HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def client(model_server: ScriptedModelServer) -> AsyncIterator[ChatClient]:
    async with ChatClient(model_server.base_url, "scripted-model", timeout=2, retries=0) as c:
        yield c


def _chunk(delta: object, **extra: object) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": None}], **extra})


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text.startswith("the model server"), text
    return text


def test_limits_follow_max_tokens() -> None:
    small, big, unset = (
        ReplyLimits.for_request(64),
        ReplyLimits.for_request(4096),
        ReplyLimits.for_request(None),
    )
    assert small.pieces == 128 and big.pieces == 5120
    assert small.chars < big.chars < big.raw_bytes < 10_000_000
    assert unset.pieces > big.pieces and unset.raw_bytes < 20_000_000


# endless and oversized replies ------------------------------------------------------------------------
async def test_an_endless_stream_ends_at_max_tokens_plus_a_margin(
    model_server: ScriptedModelServer, client: ChatClient
) -> None:
    model_server.extend([{"endless": "content", "piece": "ab"}])
    pieces: list[str] = []
    start = time.monotonic()
    with pytest.raises(ModelError) as caught:
        await client.chat(HELLO, max_tokens=64, on_token=pieces.append)
    assert time.monotonic() - start < 10
    assert "more than 128 tokens for a reply with max_tokens 64" in one_line(caught.value)
    assert len(pieces) == 128  # what was shown stays within the bound too


async def test_an_endless_stream_without_max_tokens_is_bounded_too(
    model_server: ScriptedModelServer, client: ChatClient
) -> None:
    model_server.extend([{"endless": "content", "piece": "x" * 400}])
    with pytest.raises(ModelError) as caught:
        await client.chat(HELLO)
    assert "characters for a reply with no max_tokens" in one_line(caught.value)


async def test_one_huge_chunk_is_refused_before_it_is_shown(
    model_server: ScriptedModelServer, client: ChatClient
) -> None:
    model_server.extend([{"sse": [_chunk({"content": "y" * 200_000}), "[DONE]"]}])
    pieces: list[str] = []
    with pytest.raises(ModelError) as caught:
        await client.chat(HELLO, max_tokens=256, on_token=pieces.append)
    assert "characters for a reply with max_tokens 256" in one_line(caught.value)
    assert pieces == []


async def test_endless_tool_call_arguments_are_cut(
    model_server: ScriptedModelServer, client: ChatClient
) -> None:
    model_server.extend([{"endless": "arguments", "piece": "z" * 4000}])
    with pytest.raises(ModelError) as caught:
        await client.chat(HELLO, max_tokens=10_000_000)
    assert f"tool call whose arguments passed {MAX_TOOL_ARGUMENT_CHARS} characters" in one_line(caught.value)


async def test_an_endless_whole_body_is_cut(model_server: ScriptedModelServer, client: ChatClient) -> None:
    model_server.extend([{"endless": "whole"}])
    start = time.monotonic()
    with pytest.raises(ModelError) as caught:
        await client.chat(HELLO, max_tokens=64, stream=False)
    assert time.monotonic() - start < 10
    assert "MB for a reply with max_tokens 64" in one_line(caught.value)


async def test_a_whole_body_longer_than_the_reply_allows_is_refused(
    model_server: ScriptedModelServer, client: ChatClient
) -> None:
    body = json.dumps({"choices": [{"index": 0, "message": {"content": "w" * 1_000_000}}]})
    model_server.extend([{"body": body}])
    with pytest.raises(ModelError) as caught:
        await client.chat(HELLO, max_tokens=64, stream=False)
    assert "characters for a reply with max_tokens 64" in one_line(caught.value)


@pytest.mark.parametrize("kind", ["comments", "drip"])
async def test_bytes_without_progress_end_after_the_timeout(
    model_server: ScriptedModelServer, kind: str
) -> None:
    """Keep-alive comments, or one line that never ends, one byte at a time: httpx's read timeout never fires
    (a byte keeps coming), the progress check does."""
    model_server.extend([{"endless": kind, "interval": 0.05}])
    async with ChatClient(model_server.base_url, "scripted-model", timeout=1, retries=0) as client:
        start = time.monotonic()
        with pytest.raises(ModelError) as caught:
            await client.chat(HELLO, max_tokens=64)
    assert time.monotonic() - start < 5
    assert "but no answer for 1s" in one_line(caught.value)


async def test_a_line_that_never_ends_is_cut_by_size(
    model_server: ScriptedModelServer, client: ChatClient
) -> None:
    model_server.extend([{"endless": "drip", "piece": "q" * 65536}])
    with pytest.raises(ModelError) as caught:
        await client.chat(HELLO, max_tokens=64)
    assert "MB without finishing" in one_line(caught.value)


async def test_an_endless_error_body_is_read_only_for_its_message(
    model_server: ScriptedModelServer, client: ChatClient
) -> None:
    model_server.extend([{"endless": "whole", "status": 400}])
    with pytest.raises(ModelError) as caught:
        await client.chat(HELLO, max_tokens=64)
    assert "rejected the request (HTTP 400" in one_line(caught.value)
    assert len(str(caught.value)) < 400


async def test_an_endless_models_list_is_refused(model_server: ScriptedModelServer) -> None:
    model_server.models_body = '{"data": [' + '{"id": "m"}, ' * 400_000 + "]}"
    async with ChatClient(model_server.base_url, "m", retries=0) as client:
        with pytest.raises(ModelError) as caught:
            await client.check()
        assert await client.server_context() is None
    assert "larger than 4 MB" in one_line(caught.value)


# answers of the wrong shape ---------------------------------------------------------------------------
MALFORMED_CHUNKS = {
    "delta is a list": _chunk([1, 2, 3]),
    "function is text": _chunk({"tool_calls": [{"index": 0, "function": "write_file"}]}),
    "a choice is text": json.dumps({"choices": ["hello"]}),
    "choices is a number": json.dumps({"choices": 5}),
    "choices is an object": json.dumps({"choices": {"delta": {"content": "x"}}}),
    "tool_calls is text": _chunk({"tool_calls": "write_file"}),
    "a tool call is a number": _chunk({"tool_calls": [7]}),
    "arguments is a number": _chunk(
        {"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": 1}}]}
    ),
    "name is a list": _chunk({"tool_calls": [{"index": 0, "function": {"name": ["f"]}}]}),
    "deep nesting": "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("payload", MALFORMED_CHUNKS.values(), ids=MALFORMED_CHUNKS.keys())
async def test_a_malformed_stream_chunk_is_one_line(
    model_server: ScriptedModelServer, client: ChatClient, payload: str
) -> None:
    model_server.extend([{"sse": [_chunk({"content": "ok "}), payload, "[DONE]"]}])
    with pytest.raises(ModelError) as caught:
        await client.chat(HELLO, max_tokens=64)
    assert "malformed answer" in one_line(caught.value) or "not OpenAI-compatible" in str(caught.value)


async def test_odd_but_harmless_fields_are_ignored(
    model_server: ScriptedModelServer, client: ChatClient
) -> None:
    """A model name that is not text, usage numbers too big for an int: the answer still arrives."""
    usage = '{"prompt_tokens": 1e400, "completion_tokens": 2}'
    weird = _chunk({"content": "fine"})[:-1] + f', "model": ["x"], "usage": {usage}}}'
    model_server.extend([{"sse": [weird, _chunk({}), "[DONE]"]}])
    reply = await client.chat(HELLO, max_tokens=64)
    assert reply.content == "fine" and reply.model is None


WHOLE_MALFORMED = {
    "tool_calls is a number": {"content": "", "tool_calls": 5},
    "function is text": {"tool_calls": [{"id": "1", "function": "write_file"}]},
}


@pytest.mark.parametrize("message", WHOLE_MALFORMED.values(), ids=WHOLE_MALFORMED.keys())
async def test_a_malformed_whole_answer_is_one_line(
    model_server: ScriptedModelServer, client: ChatClient, message: dict[str, object]
) -> None:
    model_server.extend([{"body": json.dumps({"choices": [{"index": 0, "message": message}], "model": 3})}])
    with pytest.raises(ModelError) as caught:
        await client.chat(HELLO, stream=False, max_tokens=64)
    assert "malformed answer" in one_line(caught.value)
