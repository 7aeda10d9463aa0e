"""Real replies of the embedded Qwen2.5-Coder models, kept in the golden corpus (family "recorded" in
agent_core/bench/data/tool_corpus/). tests/parsing/test_corpus.py checks that the parser reads every one of
them as reviewed; this file checks what makes them a record worth trusting: where each reply came from, the
exact context it answered, a hand review, and that the recordings cover both models, the tools and
multi-turn contexts.

Record more (then review each draft: set `expected` to the call the model meant, or [] with a `note` saying
why nothing is recoverable, and `"reviewed": true`):
    python scripts/bench_embedded.py --no-agent --record DIR              # one request per tool, 2 prompts
    python scripts/bench_embedded.py --models qwen2.5-coder-1.5b --record-agent DIR [--temperature 0.7]
"""

from __future__ import annotations

from typing import Any

import pytest

from agent_core.bench import tools_suite
from tests.parsing.corpus import case_files, load

RECORDED = [c for c in (load(p) for p in case_files()) if c.get("family") == "recorded"]
TOOL_SETS = tools_suite.load_tool_sets()


def _called(case: dict[str, Any]) -> set[str]:
    return {call["name"] for call in case["expected"]}


def test_the_recordings_cover_both_models_the_tools_and_several_turns() -> None:
    assert len(RECORDED) >= 60
    sources = " ".join(c["source"] for c in RECORDED)
    assert "qwen2.5-coder-0.5b" in sources and "qwen2.5-coder-1.5b" in sources
    assert {c["temperature"] for c in RECORDED} >= {0.0, 0.7}
    called = set().union(*(_called(c) for c in RECORDED))
    assert called >= {"read_file", "write_file", "patch", "bash", "search", "find_files", "plan", "todo"}
    multi_turn = [c for c in RECORDED if any(m.get("role") == "assistant" for m in c["context"])]
    assert len(multi_turn) >= 15
    # Unrecoverable real replies stay in the corpus as "no call" cases.
    assert any(not c["expected"] and c.get("expect_errors") for c in RECORDED)


@pytest.mark.parametrize("case", RECORDED, ids=lambda c: c["id"])
def test_a_recorded_case_says_where_it_came_from_and_was_reviewed(case: dict[str, Any]) -> None:
    assert case["source"].startswith("recorded qwen2.5-coder-"), case["source"]
    assert "llama-cpp-python" in case["source"]
    assert isinstance(case["temperature"], float)
    assert case["tools"] in TOOL_SETS
    roles = [m["role"] for m in case["context"]]
    assert roles[0] == "system" and "user" in roles and roles[-1] in ("user", "tool"), roles
    assert case["reviewed"] is True and case["note"].strip(), f"{case['id']}: not reviewed"
    if not case["expected"]:
        # A reply with no call the model meant must say why (not a call, or why it cannot be recovered).
        assert len(case["note"]) > 20
