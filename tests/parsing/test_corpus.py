"""Every golden case: the parser's calls must equal the expected ones (diff shown on mismatch), and an
unrecoverable attempt must (and only then) produce a message for the model.
Set SMALLCODE_REGEN_CORPUS=1 to rewrite expectations instead (then review `git diff`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_core.bench import tools_suite
from agent_core.parsing.messages import CUT_OFF_LEAD, SHAPE_LEAD
from tests.parsing.corpus import case_files, diff, load, regenerate

TOOL_SETS = tools_suite.load_tool_sets()


def test_corpus_is_shipped_and_covers_every_family() -> None:
    families = {load(p).get("family") for p in case_files()}
    assert len(case_files()) >= 100
    for family in ("native", "openai_text", "hermes", "qwen_xml", "llama", "mistral", "vendor_tokens",
                   "python_call", "fenced", "yaml_like", "plain_text", "think", "repair", "envelope",
                   "argnames", "coercion", "names", "never", "recorded",
                   # issue 14: the dialects other small models write, and the cut-off rule
                   "pythonic", "xml", "json", "bash_fence", "leaked_turn", "cutoff"):  # fmt: skip
        assert family in families


def test_every_rule_family_has_negative_cases() -> None:
    """A family that adds a way to find calls also shows replies where that way must find none."""
    cases = [load(p) for p in case_files()]
    for family in ("pythonic", "xml", "json", "bash_fence", "vendor_tokens", "leaked_turn"):
        mine = [c for c in cases if c.get("family") == family]
        assert any(c["expected"] for c in mine), family
        assert any(not c["expected"] and not c.get("expect_errors") for c in mine), family


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_golden_case(path: Path) -> None:
    if os.environ.get("SMALLCODE_REGEN_CORPUS"):
        regenerate(path)
    case = load(path)
    got = tools_suite.actual(case, TOOL_SETS)
    assert got["calls"] == case["expected"], (
        f"{case['id']}: calls differ\n{diff(case['expected'], got['calls'])}"
    )
    if case.get("expect_errors"):
        assert got["errors"], f"{case['id']}: an unrecoverable call must produce a message for the model"
        assert all(SHAPE_LEAD in e or e.startswith(CUT_OFF_LEAD) for e in got["errors"]), got["errors"]
    else:
        assert got["errors"] == [], f"{case['id']}: unexpected messages {got['errors']}"
