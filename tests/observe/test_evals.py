"""`smallcode eval` and `/eval`: tool choice, parse rate and repairs per model and profile, on the recorded
replies of the embedded models and on a workspace's traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_core import SmallCode
from agent_core.bench.tools_suite import load_cases
from agent_core.cli.main import main
from agent_core.commands import NOT_YET, execute_command
from tests.support.scripted_server import ScriptedModelServer


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["eval", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_recorded_set_per_model_and_tool_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(["--source", "recorded", "--cwd", str(tmp_path)], capsys)
    recorded = [c for c in load_cases() if c.get("family") == "recorded"]
    assert result["total"]["replies"] == len(recorded) == result["total"]["labelled"]
    groups = {(g["model"], g["profile"].split("tools ")[-1]): g for g in result["groups"]}
    assert ("qwen2.5-coder-0.5b", "smallcode_core") in groups
    assert ("qwen2.5-coder-1.5b", "smallcode") in groups
    assert all("qwen2.5-coder/" in g["profile"] for g in result["groups"])  # the model's profile and format
    # The 0.5B invents tool names (is_even for "add a function is_even"): a wrong choice, counted as one.
    wrong = {w["source"] for w in result["wrong_selections"]}
    assert "recorded:rec_0.5b_add_function_turn1" in wrong
    assert "recorded:rec_1.5b_bash_bare" not in wrong
    small, larger = groups[("qwen2.5-coder-0.5b", "smallcode")], groups[("qwen2.5-coder-1.5b", "smallcode")]
    assert small["tool_selection"] < larger["tool_selection"]
    assert 0 < result["total"]["parse_rate"] < 1 and result["total"]["repairs"] > 0
    [saved] = (tmp_path / ".smallcode" / "evals").glob("eval-*.json")
    assert json.loads(saved.read_text())["total"] == result["total"]


def test_traces_give_format_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    script = [
        {"content": "", "tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}]},  # clean
        {"content": '```json\n{"name": "read_file", "arguments": {"file_path": "a.txt"}}\n```'},  # repaired
        {"content": "a.txt holds alpha."},
    ]
    with ScriptedModelServer(script, models=["tiny-coder-7b"]) as server:
        SmallCode(model="tiny-coder-7b", base_url=server.base_url, cwd=tmp_path).run_sync("what is in a.txt?")
    result = run_json(["--source", "traces", "--cwd", str(tmp_path)], capsys)
    [group] = result["groups"]
    assert group["model"] == "tiny-coder-7b" and group["replies"] == 3
    assert group["labelled"] == 0 and group["tool_selection"] is None  # traces carry no labels
    assert group["attempts"] == 2 and group["parse_rate"] == 1.0
    assert group["repairs"] == 1 and group["repair_rate"] == 0.5

    assert main(["eval", "--source", "traces", "--cwd", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "tiny-coder-7b" in table and "100%" in table and "1 (50%)" in table


def test_no_traces_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--source", "traces", "--cwd", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no traces yet" in err and len(err.strip().splitlines()) == 1


async def test_slash_eval(tmp_path: Path) -> None:
    assert "eval" not in NOT_YET
    async with SmallCode(model="m", base_url="http://127.0.0.1:9/v1", cwd=tmp_path) as agent:
        done = await execute_command(agent, "eval", "recorded")
        bad = await execute_command(agent, "eval", "everything")
    assert done.ok and "qwen2.5-coder-1.5b" in done.text and "saved to" in done.text
    assert Path(done.data["saved_to"]).is_file()
    assert not bad.ok and "/eval recorded" in bad.text
