"""first_messages: the first prompt a trace recorded, read past a torn line; first_prompt: a project's oldest."""

from __future__ import annotations

import json
from pathlib import Path

from agent_core.observe.trace import first_messages, first_prompt, traces_dir


def test_the_first_turns_messages_past_a_torn_line_and_none_without_a_turn(tmp_path: Path) -> None:
    first = [{"role": "system", "content": "s"}, {"role": "user", "content": "Fix calc.py."}]
    lines = [
        json.dumps({"type": "run_start", "task": "Fix calc.py."}),
        '{"type": "turn", "n": 1, "messa',  # torn by a crash
        json.dumps({"type": "turn", "n": 1, "messages": first}),
        json.dumps({"type": "turn", "n": 2, "messages": [{"role": "user", "content": "again"}]}),
    ]
    trace = tmp_path / "run.jsonl"
    trace.write_text("\n".join(lines) + "\n")
    assert first_messages(trace) == first
    trace.write_text(lines[0] + "\n")
    assert first_messages(trace) is None


def test_the_first_prompt_of_a_project_is_its_oldest_traces(tmp_path: Path) -> None:
    assert first_prompt(tmp_path) is None  # no traces folder
    folder = traces_dir(tmp_path)
    folder.mkdir(parents=True)
    for stamp, task in (("20261202-094444", "second try"), ("20261202-094311", "first try")):
        turn = {"type": "turn", "n": 1, "messages": [{"role": "user", "content": task}]}
        (folder / f"{stamp}-0ae206.jsonl").write_text(json.dumps(turn) + "\n")
    assert first_prompt(tmp_path) == [{"role": "user", "content": "first try"}]
