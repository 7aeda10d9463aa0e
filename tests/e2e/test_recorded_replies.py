"""Golden corpus: real replies of the embedded Qwen2.5-Coder models to tool requests (tests/e2e/recorded/).

Each file holds the messages and `tools` sent, the raw reply, the call the task asked for (`expected`;
`contains` = substrings of string arguments, since paths may come back absolute), whether the reply holds it
(`reply_has_expected_call`, reviewed by hand, with a `review` note) and whether the parser read it at recording
time. Replies that miss (the 0.5B invents tool names, echoes schemas, breaks JSON) are kept as hard cases for the
parser; only "never crash, only offered tools" is asserted for them. Regenerate with
`python scripts/bench_embedded.py --no-agent --record tests/e2e/recorded` (temperature 0 is deterministic here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_core.parsing import parse_tool_calls

RECORDED = sorted((Path(__file__).parent / "recorded").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


def test_the_corpus_is_there() -> None:
    assert len(RECORDED) >= 5
    assert any(load(p)["reply_has_expected_call"] for p in RECORDED)


@pytest.mark.parametrize(
    "path", [p for p in RECORDED if load(p)["reply_has_expected_call"]], ids=lambda p: p.stem
)
def test_a_reply_holding_the_call_parses_to_it(path: Path) -> None:
    case = load(path)
    expected = case["expected"]
    calls = parse_tool_calls(case["reply"], case["tools"])
    assert calls, f"no tool call found in {path.name}"
    assert calls[0].name == expected["name"]
    for key, value in expected["arguments"].items():
        assert calls[0].arguments.get(key) == value, key
    for key, part in expected["contains"].items():
        value = calls[0].arguments.get(key)
        assert isinstance(value, str) and part in value, f"{key}: {value!r}"


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_every_reply_parses_without_error(path: Path) -> None:
    case = load(path)
    names = {t["function"]["name"] for t in case["tools"]}
    for call in parse_tool_calls(case["reply"], case["tools"]):
        assert call.name in names and isinstance(call.arguments, dict)
