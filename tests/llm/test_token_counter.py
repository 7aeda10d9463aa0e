"""TokenCounter: the estimate heuristic, message counting, calibration against a real tokenize endpoint."""

from __future__ import annotations

import math
from typing import Any

import pytest

from agent_core.context.tokens import (
    CALIBRATION_SAMPLE,
    MESSAGE_OVERHEAD,
    TokenCounter,
    is_code,
)
from agent_core.llm.client import ChatClient
from tests.support.scripted_server import ScriptedModelServer

PROSE = "The agent reads the file first and then it writes the change the user asked for."
CODE = "def add(a: int, b: int) -> int:\n    return a + b  # sum\n"


def test_code_and_prose_are_told_apart() -> None:
    assert is_code(CODE)
    assert is_code('{"path": "src/app.py", "content": "x = 1"}')
    assert not is_code(PROSE)
    assert not is_code("   \n")


def test_estimate_uses_the_rate_for_the_kind_of_text() -> None:
    counter = TokenCounter()
    assert counter.estimate("") == 0
    assert counter.estimate(PROSE) == math.ceil(len(PROSE) / 4)
    assert counter.estimate(CODE) == math.ceil(len(CODE) / 3.5)
    assert counter.estimate("a") == 1  # rounds up: never zero for non-empty text


def test_count_messages_adds_overhead_and_tool_calls() -> None:
    counter = TokenCounter()
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "bash", "arguments": '{"command": "ls -la"}'},
    }
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": PROSE},
        {"role": "user", "content": [{"type": "text", "text": PROSE}, {"type": "image_url"}]},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": ""},
    ]
    expected = (
        2 * counter.estimate(PROSE)
        + counter.estimate('bash\n{"command": "ls -la"}')
        + 0
        + 4 * MESSAGE_OVERHEAD
    )
    assert counter.count_messages(messages) == expected
    assert counter.count_messages([]) == 0


async def test_calibrate_scales_estimates_to_the_server_tokenizer() -> None:
    with ScriptedModelServer(tokenize=True) as server:  # stand-in tokenizer: 4 characters a token
        async with ChatClient(server.base_url, "scripted-model") as client:
            counter = TokenCounter()
            assert await counter.calibrate(client) is True
    assert counter.calibrated
    measured = math.ceil(len(CALIBRATION_SAMPLE) / 4)
    assert counter.scale == pytest.approx(measured / (len(CALIBRATION_SAMPLE) / 3.5))
    # After calibration, estimates of similar text land on the server's count.
    assert counter.estimate(CALIBRATION_SAMPLE) == pytest.approx(measured, abs=1)
    assert counter.estimate(CODE) == pytest.approx(len(CODE) / 4, abs=1)


async def test_calibrate_without_tokenizer_keeps_the_heuristic(model_server: ScriptedModelServer) -> None:
    async with ChatClient(model_server.base_url, "scripted-model") as client:
        counter = TokenCounter()
        assert await counter.calibrate(client) is False
    assert (counter.scale, counter.calibrated) == (1.0, False)
    assert counter.estimate(PROSE) == math.ceil(len(PROSE) / 4)


class _WildTokenizer:
    async def count_tokens(self, text: str) -> int | None:
        return len(text) * 10  # a broken endpoint, not a real tokenizer


async def test_calibrate_clamps_a_wild_ratio() -> None:
    counter = TokenCounter()
    assert await counter.calibrate(_WildTokenizer())
    assert counter.scale == 2.0
