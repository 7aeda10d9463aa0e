"""`smallcode trace test ID`: a trace recorded from a real agent run becomes a pytest file that passes on the
code that produced it and fails after a deliberate change to the agent loop."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import agent_core
from agent_core import SmallCode
from agent_core.cli.main import main
from agent_core.observe.trace import list_traces, read_trace, traces_dir
from tests.support.scripted_server import ScriptedModelServer

CALC = "def add(a, b):\n    return a - b\n"
TEST_CALC = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def native(name: str, **arguments: object) -> dict[str, object]:
    return {"content": "", "tool_calls": [{"name": name, "arguments": arguments}]}


def record_run(root: Path) -> str:
    """A real agent run (scripted model) that reads, fixes and checks a small project; returns its trace id."""
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TEST_CALC)
    (root / "notes.md").write_text("untouched <b>notes</b>\n")
    script = [
        native("read_file", path="calc.py"),
        native("patch", path="calc.py", search="return a - b", replace="return a + b"),
        {"content": "Fixed add in calc.py."},
    ]
    with ScriptedModelServer(script, models=["qwen2.5-coder-7b-instruct"]) as server:
        agent = SmallCode(model="qwen2.5-coder-7b-instruct", base_url=server.base_url, cwd=root)
        result = agent.run_sync("fix the bug in calc.py so that the tests pass")
    assert result.success, result.response
    assert (root / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    return str(list_traces(root)[0]["id"])


def pytest_in_subprocess(test: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMALLCODE_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        cwd=test.parent, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_trace_keeps_the_starting_files_and_the_end(tmp_path: Path) -> None:
    trace_id = record_run(tmp_path)
    entries = read_trace(traces_dir(tmp_path) / f"{trace_id}.jsonl")
    start = entries[0]
    assert start["type"] == "run_start"
    assert start["files"]["complete"] is True
    assert start["files"]["files"]["calc.py"] == CALC  # as it was before the fix
    end = entries[-1]
    assert end["files"]["calc.py"]["content"] == "def add(a, b):\n    return a + b\n"
    assert end["settings"]["model"] == "qwen2.5-coder-7b-instruct" and "api_key" not in end["settings"]


@pytest.mark.timeout(1200)  # two pytest processes, each replaying a run with its checks
def test_a_trace_becomes_a_test_that_passes_then_fails_after_a_change_to_the_loop(
    tmp_path: Path, capsys: object
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    trace_id = record_run(project)
    out = tmp_path / "regression" / "test_replay.py"
    assert main(["trace", "test", trace_id[:17], "--cwd", str(project), "--out", str(out)]) == 0
    body = out.read_text()
    assert "fix the bug in calc.py" in body and "return a - b" in body

    passed = pytest_in_subprocess(out)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    # A deliberate change to the loop, in a copy of the package: the agent stops after its first turn.
    changed = tmp_path / "changed"
    shutil.copytree(Path(agent_core.__file__).parent, changed / "agent_core")
    loop = changed / "agent_core" / "loop.py"
    anchor = "for turn in range(1, self.settings.max_turns + 1):"
    assert anchor in loop.read_text()
    loop.write_text(loop.read_text().replace(anchor, "for turn in range(1, 2):"))
    failed = pytest_in_subprocess(out, pythonpath=changed)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "tool_calls" in failed.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import agent_core; print(agent_core.__file__)"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(changed)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(changed))  # the changed copy ran, not the installed package


def test_trace_test_refuses_traces_without_starting_files(tmp_path: Path, capsys: object) -> None:
    old = traces_dir(tmp_path) / "20250101-000000-abcdef.jsonl"
    old.parent.mkdir(parents=True)
    lines = [{"type": "run_start", "task": "t"}, {"type": "run_end", "result": {"success": True}}]
    old.write_text("".join(json.dumps(e) + "\n" for e in lines))
    assert main(["trace", "test", "20250101", "--cwd", str(tmp_path)]) == 1
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "older SmallCode" in err and "Traceback" not in err
    assert main(["trace", "test", "nope", "--cwd", str(tmp_path)]) == 2
    assert "no trace match" in capsys.readouterr().err  # type: ignore[attr-defined]


def test_start_snapshot_is_capped_and_leaves_secrets_out(tmp_path: Path, monkeypatch: object) -> None:
    from agent_core.observe import files

    (tmp_path / ".env").write_text("TOKEN=abc\n")
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.js").write_text("x\n")
    for i in range(5):
        (tmp_path / f"m{i}.py").write_text(f"x = {i}\n")
    whole = files.start_snapshot(tmp_path)
    assert whole["complete"] is True and sorted(whole["files"]) == [f"m{i}.py" for i in range(5)]
    monkeypatch.setattr(files, "MAX_FILES", 3)  # type: ignore[attr-defined]
    partial = files.start_snapshot(tmp_path)
    assert partial["complete"] is False and len(partial["files"]) == 3


def test_a_partial_snapshot_is_completed_by_the_files_the_run_touched(
    tmp_path: Path, monkeypatch: object
) -> None:
    from agent_core.observe import files
    from agent_core.observe.replay import case_from_trace, replay

    monkeypatch.setattr(files, "MAX_FILES", 1)  # type: ignore[attr-defined]
    project = tmp_path / "project"
    project.mkdir()
    (project / "a_first.md").write_text("the one file the snapshot keeps\n")
    trace_id = record_run(project)
    entries = read_trace(traces_dir(project) / f"{trace_id}.jsonl")
    assert entries[0]["files"]["complete"] is False and "calc.py" not in entries[0]["files"]["files"]
    first_seen = [e for e in entries if e["type"] == "file"]
    assert [(e["path"], e["content"]) for e in first_seen] == [("calc.py", CALC)]  # before the fix
    case = case_from_trace(trace_id, entries)
    assert case["files"]["calc.py"] == CALC
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # type: ignore[attr-defined]
    outcome = replay(case, tmp_path / "replay")
    assert outcome.tool_calls == case["expect"]["tool_calls"]
    assert outcome.files == {"calc.py": "def add(a, b):\n    return a + b\n"}
