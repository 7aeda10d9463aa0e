"""Fill-in-the-middle completion in the agent core (agent_core.llm.fim), against a real HTTP server: the
model family's prompt layout, the answer, and one-line errors for what can go wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from agent_core.llm import fim
from agent_core.llm.fim import FimClient, FimError, fim_request
from agent_core.safety.endpoints import EndpointError
from tests.support.fim_server import FimServer


@pytest.fixture
def server() -> Iterator[FimServer]:
    s = FimServer()
    yield s
    s.close()


def test_the_model_family_picks_the_prompt_layout() -> None:
    qwen = fim_request("qwen2.5-coder-1.5b", "def f(", "):", 16)
    assert qwen["prompt"] == "<|fim_prefix|>def f(<|fim_suffix|>):<|fim_middle|>" and "suffix" not in qwen
    other = fim_request("mystery-model", "def f(", "):", 16)
    assert (other["prompt"], other["suffix"]) == ("def f(", "):")


async def test_a_completion_and_what_can_go_wrong(server: FimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    client = FimClient()
    try:
        text = await client.complete(server.base_url, "k", "starcoder2", "a", "b", 8)
        assert text == "return a + b"
        assert server.bodies[-1]["prompt"] == "<fim_prefix>a<fim_suffix>b<fim_middle>"
        assert server.bodies[-1]["max_tokens"] == 8

        server.answer = json.dumps({"choices": [{"text": "  \n"}]}).encode()
        assert await client.complete(server.base_url, None, None, "a", "b", 8) is None

        server.status = 500
        with pytest.raises(FimError, match="answered 500"):
            await client.complete(server.base_url, None, None, "a", "b", 8)

        server.status, server.answer = 200, b"not json"
        with pytest.raises(FimError, match="completion request failed"):
            await client.complete(server.base_url, None, None, "a", "b", 8)

        monkeypatch.setattr(fim, "MAX_ANSWER_BYTES", 10)
        server.answer = json.dumps({"choices": [{"text": "x" * 100}]}).encode()
        with pytest.raises(FimError, match="passed 10 bytes"):
            await client.complete(server.base_url, None, None, "a", "b", 8)

        with pytest.raises(EndpointError, match="metadata"):  # a cloud metadata address is never asked
            await client.complete("http://169.254.169.254/v1", None, None, "a", "b", 8)
    finally:
        await client.aclose()
