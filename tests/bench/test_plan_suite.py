"""The plan benchmark's plumbing against the scripted model server: both arms run on fresh projects, only the
"on" arm is told to plan and offered the plan tools, the suite's own checks decide success, and a missing
engine or model ends in a clear report instead of a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_core.bench import plan_suite
from agent_core.bench.plan_suite import TASKS, run_suite
from agent_core.config import Settings
from tests.support.scripted_server import ScriptedModelServer

CALC = next(t for t in TASKS if t.name == "calc_tests")
PLAN_INSTRUCTION = "First call the plan tool"
TESTS = (
    "from calc import add, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_sub():\n    assert sub(5, 3) == 2\n"
)


@pytest.fixture(autouse=True)
def _fast_inner_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def settings() -> Settings:
    # Tool routing (if this build has it) would put the plan tools behind a category; keep the wire simple.
    return Settings.model_validate({"tool_routing": "off", "trace": False})


def tool_names(request: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in request.get("tools") or []}


def text_of(request: dict[str, Any]) -> str:
    return json.dumps(request["messages"])


async def test_off_arm_has_no_plan_and_on_arm_is_told_to_plan(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(
        [
            # planning off: the model gives up at once
            {"content": "I did it."},
            # planning on: it writes both files and finishes
            {"tool_calls": [{"name": "write_file", "arguments": {"path": "calc.py", "content": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"}}]},
            {"tool_calls": [{"name": "write_file", "arguments": {"path": "tests/test_calc.py", "content": TESTS}}]},
            {"content": "Created calc.py and its tests; they pass."},
        ]
    )  # fmt: skip
    report = await run_suite(
        settings(), base_url=model_server.base_url, model="scripted-model", tasks=(CALC,), workdir=tmp_path
    )

    assert report.suite == "plan" and report.ok
    f = report.figures
    assert (f["succeeded_off"], f["succeeded_on"], f["difference"]) == (0, 1, 1)
    assert (f["turns_off"], f["turns_on"]) == (1, 3)
    assert (f["tool_calls_off"], f["tool_calls_on"]) == (0, 2)
    assert f["tokens_on"] > f["tokens_off"] > 0
    assert f["model"] == "scripted-model" and f["tasks"] == 1

    off, on = report.cases
    assert (off["arm"], on["arm"]) == ("off", "on")
    assert off["problems"] == ["calc.py does not exist", "tests/test_calc.py does not exist"]
    assert off["agent_done"] and not off["success"]  # the model's claim is not what counts
    assert on["success"] and on["problems"] == []
    # each arm had its own fresh project
    assert not (tmp_path / "calc_tests-off" / "calc.py").exists()
    assert (tmp_path / "calc_tests-on" / "calc.py").is_file()

    off_request, *on_requests = model_server.requests
    assert PLAN_INSTRUCTION not in text_of(off_request)
    assert not {"plan", "todo"} & tool_names(off_request)
    assert CALC.prompt in text_of(off_request)
    for request in on_requests:
        assert PLAN_INSTRUCTION in text_of(request)
        assert {"plan", "todo"} <= tool_names(request)
    assert all(r["temperature"] == 0.0 for r in model_server.requests)

    lines = report.text.splitlines()
    assert lines[1] == "succeeded with planning on: 1/1, off: 0/1 → +1 with planning"
    assert any(line.startswith("calc_tests") and "✗" in line and "✓" in line for line in lines)
    assert "✗ calc_tests (off): calc.py does not exist" in report.text


async def test_planning_that_loses_tasks_misses_the_bar(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(
        [
            {"tool_calls": [{"name": "write_file", "arguments": {"path": "calc.py", "content": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"}}]},
            {"tool_calls": [{"name": "write_file", "arguments": {"path": "tests/test_calc.py", "content": TESTS}}]},
            {"content": "Done."},
            {"content": "Done."},
        ]
    )  # fmt: skip
    report = await run_suite(
        settings(), base_url=model_server.base_url, model="scripted-model", tasks=(CALC,), workdir=tmp_path
    )
    assert (report.figures["succeeded_off"], report.figures["succeeded_on"]) == (1, 0)
    assert report.figures["difference"] == -1
    assert not report.ok


async def test_a_run_over_its_time_is_a_failed_task_not_a_crash(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"hang": True}, {"content": "Done."}])
    report = await run_suite(
        settings(),
        base_url=model_server.base_url,
        model="scripted-model",
        tasks=(CALC,),
        workdir=tmp_path,
        # the hang is abandoned; "Done." and the checks it triggers fit inside even on a loaded machine (5 s
        # did not, in a CI run beside a benchmark)
        timeout=15.0,
    )
    off, on = report.cases
    assert off["response"] == "abandoned after 15 s" and not off["success"]
    assert on["response"] == "Done." and not on["success"]


async def test_unreachable_server_fails_each_run_with_the_reason(tmp_path: Path) -> None:
    report = await run_suite(
        settings(), base_url="http://127.0.0.1:9/v1", model="m", tasks=(CALC,), workdir=tmp_path
    )
    assert report.figures["succeeded_on"] == report.figures["succeeded_off"] == 0
    assert all(c["turns"] == 0 for c in report.cases)
    assert all(c["response"] for c in report.cases)


def test_no_engine_or_model_is_reported_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLCODE_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("SMALLCODE_BENCH_MODEL", "no-such-model")
    report = plan_suite.run(tmp_path)
    assert not report.ok and report.suite == "plan"
    assert report.text.startswith("plan benchmark: ")
    assert "no-such-model" in report.text or "not installed" in report.text
    assert "Traceback" not in report.text and report.figures["error"]


def test_a_gguf_that_is_not_a_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLCODE_GGUF", str(tmp_path / "missing.gguf"))
    report = plan_suite.run(tmp_path)
    assert not report.ok
    assert "missing.gguf" in report.text


def test_bad_turn_limit_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLCODE_BENCH_MAX_TURNS", "lots")
    report = plan_suite.run(tmp_path)
    assert not report.ok
    assert (
        report.text == "plan benchmark: SMALLCODE_BENCH_MAX_TURNS must be a positive whole number, not 'lots'"
    )
