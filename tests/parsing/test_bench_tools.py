"""`smallcode bench tools` suite: the shipped corpus meets the bar; recorded workspace cases are counted."""

from __future__ import annotations

import json
from pathlib import Path

from agent_core.bench.registry import load_suite


def test_suite_meets_the_bar(tmp_path: Path) -> None:
    report = load_suite("tools")(tmp_path)
    figures = report.figures
    assert report.ok, report.text
    assert figures["recovery_rate"] == 1.0
    assert (figures["false_calls"], figures["wrong_calls"], figures["missed"]) == (0, 0, 0)
    assert figures["cases"] == len(report.cases) >= 100
    assert "recovered" in report.text


def test_recorded_workspace_cases_are_judged(tmp_path: Path) -> None:
    folder = tmp_path / ".smallcode" / "tool_corpus"
    folder.mkdir(parents=True)
    recorded = {"id": "recorded_wrong", "family": "recorded", "tools": "default",
                "reply": '<tool_call>{"name": "bash", "arguments": {"command": "ls"}}</tool_call>',
                "expected": [{"name": "bash", "arguments": {"command": "pwd"}}]}  # fmt: skip
    false_call = {"id": "recorded_prose", "family": "recorded", "tools": "default",
                  "reply": '{"name": "read_file", "arguments": {"path": "a"}}', "expected": []}  # fmt: skip
    (folder / "a.json").write_text(json.dumps(recorded), encoding="utf-8")
    (folder / "b.json").write_text(json.dumps(false_call), encoding="utf-8")
    report = load_suite("tools")(tmp_path)
    assert not report.ok
    assert (report.figures["wrong_calls"], report.figures["false_calls"]) == (1, 1)
    verdicts = {c["id"]: c["verdict"] for c in report.cases}
    assert verdicts["recorded_wrong"] == "wrong" and verdicts["recorded_prose"] == "false_call"
    assert "✗ recorded_wrong: wrong" in report.text


def test_report_gives_figures_per_family(tmp_path: Path) -> None:
    report = load_suite("tools")(tmp_path)
    families = report.figures["families"]
    for name in (
        "pythonic",
        "xml",
        "json",
        "bash_fence",
        "vendor_tokens",
        "argnames",
        "leaked_turn",
        "cutoff",
    ):
        f = families[name]
        assert f["cases"] == f["with_calls"] + f["without_calls"] > 0, name
        assert f["recovered"] == f["with_calls"] and f["no_call"] == f["without_calls"], (name, f)
        assert (f["false_calls"], f["wrong_calls"], f["missed"]) == (0, 0, 0), (name, f)
    assert sum(f["cases"] for f in families.values()) == report.figures["cases"]
    line = next(ln for ln in report.text.splitlines() if ln.strip().startswith("pythonic"))
    assert f"{families['pythonic']['recovered']}/{families['pythonic']['with_calls']}" in line


def test_a_wrong_call_shows_in_its_family(tmp_path: Path) -> None:
    folder = tmp_path / ".smallcode" / "tool_corpus"
    folder.mkdir(parents=True)
    case = {"id": "mine", "family": "house_dialect", "tools": "default",
            "reply": '<tool_call>{"name": "bash", "arguments": {"command": "ls"}}</tool_call>',
            "expected": [{"name": "bash", "arguments": {"command": "ls -la"}}]}  # fmt: skip
    (folder / "mine.json").write_text(json.dumps(case), encoding="utf-8")
    report = load_suite("tools")(tmp_path)
    assert report.figures["families"]["house_dialect"]["wrong_calls"] == 1
    assert any(ln.strip().startswith("house_dialect") for ln in report.text.splitlines())
