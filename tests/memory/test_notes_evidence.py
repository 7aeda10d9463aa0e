"""Remembered notes (FTS5 search, and the JSON file alone where SQLite has no FTS5), the scratchpad, the
evidence store and `/memory`."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from agent_core.memory import evidence, notes, scratchpad
from agent_core.memory.graph.store import index_path
from agent_core.memory.overview import memory_command
from agent_core.result import Checks, RunResult, ToolCallRecord

FACTS = [
    "The tests run with make test, not pytest directly.",
    "Prices are rounded in format_price, never in the cart.",
    "Deployments go through the staging branch first.",
    "The parser caches compiled grammars per thread.",
]


def remember_all(root: Path) -> None:
    for fact in FACTS:
        notes.add_note(root, fact)


def texts(found: list[dict[str, Any]]) -> list[str]:
    return [n["text"] for n in found]


def test_fts5_search_finds_notes_by_their_words(tmp_path: Path) -> None:
    assert notes.fts5_available()  # this Python's SQLite has it; the test below covers one without
    remember_all(tmp_path)
    assert texts(notes.search_notes(tmp_path, "how are prices rounded?"))[0] == FACTS[1]
    assert texts(notes.search_notes(tmp_path, "running the tests"))[0] == FACTS[0]
    assert texts(notes.search_notes(tmp_path, "grammar"))[0] == FACTS[3]  # stemmed: grammars
    assert notes.search_notes(tmp_path, "kubernetes") == []
    assert texts(notes.search_notes(tmp_path, "", limit=2)) == [FACTS[3], FACTS[2]]  # newest first
    with sqlite3.connect(index_path(tmp_path)) as db:
        assert db.execute("SELECT COUNT(*) FROM notes_fts").fetchone()[0] == 4


def test_the_fts_index_follows_the_json_file(tmp_path: Path) -> None:
    remember_all(tmp_path)
    assert notes.search_notes(tmp_path, "staging")
    notes.clear_notes(tmp_path)
    notes.add_note(tmp_path, "Only this one is left.")
    assert texts(notes.search_notes(tmp_path, "staging left")) == ["Only this one is left."]


def test_without_fts5_the_json_file_alone_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = sqlite3.connect

    class NoFts5(sqlite3.Connection):
        """A connection that behaves like an SQLite build without the FTS5 extension."""

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            if "fts5" in sql.lower():
                raise sqlite3.OperationalError("no such module: fts5")
            return super().execute(sql, *args)

    monkeypatch.setattr(notes.sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=NoFts5, **k))
    notes.fts5_available.cache_clear()
    try:
        assert not notes.fts5_available()
        remember_all(tmp_path)
        assert texts(notes.search_notes(tmp_path, "how are prices rounded?"))[0] == FACTS[1]
        assert texts(notes.search_notes(tmp_path, "running the tests"))[0] == FACTS[0]
        assert notes.search_notes(tmp_path, "kubernetes") == []
        assert not index_path(tmp_path).exists()  # nothing but the JSON file was used
    finally:
        notes.fts5_available.cache_clear()


def test_notes_are_private_and_bad_notes_are_refused(tmp_path: Path) -> None:
    notes.add_note(tmp_path, "first")
    path = tmp_path / ".smallcode" / "memory.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="empty"):
        notes.add_note(tmp_path, "  ")
    with pytest.raises(ValueError, match="keep it under"):
        notes.add_note(tmp_path, "x" * 5000)
    path.write_text("{not json")
    assert notes.load_notes(tmp_path) == [] and notes.search_notes(tmp_path, "first") == []


def test_the_scratchpad_is_cut_to_its_budget(tmp_path: Path) -> None:
    count = len  # one token per character keeps the arithmetic visible
    assert scratchpad.pad_for_prompt(tmp_path, 500, count) == ""
    scratchpad.write_pad(tmp_path, "line one\n" * 100)
    shown = scratchpad.pad_for_prompt(tmp_path, 300, count)
    assert shown.startswith(scratchpad.HEADER) and len(shown) <= 300 and "shorten the scratchpad" in shown
    assert scratchpad.write_pad(tmp_path, "") == "" and scratchpad.read_pad(tmp_path) == ""


def failed_run(files: list[str]) -> RunResult:
    return RunResult(
        success=False,
        files_edited=files,
        turns=4,
        checks=Checks(
            command="python -m pytest",
            passed=2,
            failed=1,
            status="failed",
            summary="1 failed, 2 passed",
            output_tail="FAILED test_calc.py::test_add\nE   assert -1 == 5\n1 failed, 2 passed in 0.1s",
        ),
        tool_calls=[
            ToolCallRecord(name="read_file", ok=True, ms=1),
            ToolCallRecord(name="patch", ok=False, ms=1, error="No exact match for the search text. Read it"),
            ToolCallRecord(name="patch", ok=True, ms=1),
        ],
    )


def test_evidence_is_kept_and_shown_for_similar_work(tmp_path: Path) -> None:
    assert (
        evidence.record_run(tmp_path, "Explain calc.py", RunResult(success=True)) is None
    )  # no files: nothing
    entry = evidence.record_run(tmp_path, "Fix add in calc.py", failed_run(["calc.py"]))
    assert entry is not None and entry["kind"] == "fix" and entry["outcome"] == "failed"
    assert entry["why"] == "1 failed, 2 passed: E   assert -1 == 5"
    assert entry["tried"] == "patch ×2 (1 failed: No exact match for the search text)"
    evidence.record_run(
        tmp_path,
        "Add a README section",
        RunResult(success=True, files_created=["README.md"], checks=Checks(status="none")),
    )
    assert [e["files"] for e in evidence.relevant(tmp_path, "Fix the add bug", ["calc.py"])] == [["calc.py"]]
    assert evidence.relevant(tmp_path, "Speed up the parser", ["parser.py"]) == []
    text = evidence.render(evidence.relevant(tmp_path, "fix calc", ["calc.py"]))
    assert text.splitlines()[0] == "Earlier runs on similar work (avoid repeating what failed):"
    assert "fix calc.py: failed — 1 failed, 2 passed: E   assert -1 == 5; tried patch ×2" in text
    assert stat.S_IMODE((tmp_path / ".smallcode" / "evidence.json").stat().st_mode) == 0o600


def test_task_kinds() -> None:
    assert [evidence.task_kind(t) for t in ("Fix the crash", "add a flag", "Rename foo", "what is this")] == [
        "fix",
        "feature",
        "refactor",
        "other",
    ]


def test_memory_command_shows_and_changes_everything(tmp_path: Path) -> None:
    ok, data, text = memory_command(tmp_path, [], {})
    assert ok and "Notes (0" in text and "Code index: not built yet" in text
    assert memory_command(tmp_path, ["add", "tests", "use", "pytest"], {})[2] == "remembered #1"
    assert memory_command(tmp_path, ["add"], {"text": "from an editor"})[2] == "remembered #2"
    assert memory_command(tmp_path, ["pad", "half", "done"], {})[2] == "scratchpad saved"
    evidence.record_run(tmp_path, "Fix add in calc.py", failed_run(["calc.py"]))
    ok, data, text = memory_command(tmp_path, ["show"], {})
    assert "#1 tests use pytest" in text and "  half done" in text and "fix calc.py: failed" in text
    assert memory_command(tmp_path, ["search", "editor"], {})[2] == "#2 from an editor"
    ok, data, text = memory_command(tmp_path, ["clear", "evidence"], {})
    assert ok and text == "forgot 1 evidence entry" and notes.load_notes(tmp_path)
    ok, data, text = memory_command(tmp_path, ["clear"], {})
    assert text == "forgot 2 note(s), the scratchpad, 0 evidence entries"
    assert memory_command(tmp_path, ["clear", "everything"], {})[0] is False
    assert memory_command(tmp_path, ["add"], {})[0] is False
    assert memory_command(tmp_path, ["frobnicate"], {})[2].startswith("usage: /memory")
