"""`smallcode bench smoke` and `bench polyglot` end to end on the scripted model server: the real agent edits
each task's copy, the task's own check judges it, the report is printed and saved; a missing toolchain's tasks
are skipped with a line saying so. (The real-model runs are in docs/BENCHMARKS.md.)"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from agent_core.cli.main import main
from tests.support.scripted_server import ScriptedModelServer


def native(name: str, **arguments: object) -> dict[str, object]:
    return {"content": "", "tool_calls": [{"name": name, "arguments": arguments}]}


def saved(root: Path, suite: str) -> dict:
    [path] = sorted((root / ".smallcode" / "benchmarks").glob(f"{suite}-*.json"))
    return json.loads(path.read_text())


def test_smoke_judges_by_running_and_saves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLCODE_BENCH_MAX_TURNS", "3")
    # judging is under test, not the suite's 45 s cap: on a loaded machine the real checks alone came near it
    monkeypatch.setenv("SMALLCODE_BENCH_TIMEOUT", "300")
    script = [
        # fix_add: a right patch (its tests then pass, and the run ends green)
        native("patch", path="calc.py", search="return a - b", replace="return a + b"),
        {"content": "Fixed add."},
        # hello_script: the reply claims success, but the program prints the wrong text
        native("write_file", path="hello.py", content='print("Hello world")\n'),
        {"content": "Created hello.py."},
        {"content": "Created hello.py."},
        {"content": "Created hello.py."},
    ]
    with ScriptedModelServer(script, models=["scripted-model"]) as server:
        code = main(
            ["bench", "smoke", "--tasks", "fix_add,hello_script", "--base-url", server.base_url,
             "--model", "scripted-model", "--cwd", str(tmp_path)]
        )  # fmt: skip
    out = capsys.readouterr()
    report = saved(tmp_path, "smoke")
    cases = {c["task"]: c for c in report["cases"]}
    assert cases["fix_add"]["passed"] is True
    assert cases["hello_script"]["passed"] is False  # judged by running hello.py, not by the reply
    assert report["figures"]["passed"] == 1 and report["figures"]["tasks"] == 2
    assert "fix_add" in out.out and "passed 1/2" in out.out
    assert code == (0 if report["ok"] else 1)


def test_polyglot_skips_a_missing_toolchain_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("node") is None:
        pytest.skip("node not installed")
    monkeypatch.setenv("SMALLCODE_BENCH_MAX_TURNS", "3")
    # No Go toolchain on this PATH (the directories holding a `go` are left out).
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if not (Path(d) / "go").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join(dirs))
    if shutil.which("go") is not None or shutil.which("node") is None:
        pytest.skip("cannot hide go from PATH while keeping node")
    slug_fixed = "return text.trim().toLowerCase().split(/\\s+/).join('-');"
    script = [
        native(
            "patch", path="slug.js", search="return text.trim().split(/\\s+/).join('-');", replace=slug_fixed
        ),
        {"content": "Fixed slugify."},
        {"content": "Fixed slugify."},
    ]
    with ScriptedModelServer(script, models=["scripted-model"]) as server:
        main(
            ["bench", "polyglot", "--tasks", "js_slugify,go_abs", "--base-url", server.base_url,
             "--model", "scripted-model", "--cwd", str(tmp_path)]
        )  # fmt: skip
    out = capsys.readouterr()
    assert "go: go not found on PATH; its 1 task skipped" in out.err
    assert "go tasks skipped: go not found on PATH" in out.out
    report = saved(tmp_path, "polyglot")
    cases = {c["task"]: c for c in report["cases"]}
    assert cases["js_slugify"]["passed"] is True  # node --test ran the task's own tests
    assert cases["go_abs"]["skipped"] and cases["go_abs"]["passed"] is None
    assert report["figures"]["languages"]["go"] == {"skipped": "go not found on PATH"}


def test_unknown_task_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "smoke", "--tasks", "nope", "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
                 "--cwd", str(tmp_path)]) == 1  # fmt: skip
    assert "no smoke task named nope" in capsys.readouterr().out
