"""`smallcode bench tasks` end to end against the scripted model server: the SmallCode arm runs the real agent,
the Aider arm a real `aider` process (a stand-in script on PATH), and only the task's own tests decide."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from agent_core.bench import runner, tasks_suite
from agent_core.bench.tasks import load_tasks
from agent_core.bench.tasks_suite import Options, run_suite
from agent_core.cli.main import main
from agent_core.config import Settings
from tests.support.scripted_server import ScriptedModelServer

SIZE = load_tasks(["human_size"])[0]
SLUG = load_tasks(["slugify_edges"])[0]
NONSENSE = "def format_size(size):\n    return 'big'\n"


@pytest.fixture(autouse=True)
def _fast_inner_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def settings(**values: Any) -> Settings:
    return Settings.model_validate({"trace": False, **values})


def fenced(name: str, **arguments: object) -> dict[str, str]:
    return {"content": "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"}


def solve(task: Any) -> list[dict[str, str]]:
    """A scripted model that writes the task's reference solution."""
    return [fenced("write_file", path=rel, content=text) for rel, text in task.solution.items()]


def options(server: ScriptedModelServer, *names: str, arms: tuple[str, ...] = ("smallcode",)) -> Options:
    return Options(tasks=list(names), arms=arms, base_url=server.base_url, model="scripted-model")


def user_prompts(server: ScriptedModelServer) -> list[str]:
    """The first user message of every request (the task as the agent was given it)."""
    return [next(m["content"] for m in r["messages"] if m["role"] == "user") for r in server.requests]


def saved(report: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(report.saved_to).read_text())
    return data


async def test_a_model_that_writes_the_reference_passes_on_the_first_try(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(solve(SIZE) + [{"content": "Fixed format_size."}])
    report = await run_suite(settings(), tmp_path, options(model_server, "human_size"))

    assert report.ok, report.text
    f = report.figures["smallcode"]
    assert (f["tasks"], f["passed"], f["passed_1"], f["passed_2"], f["false_successes"]) == (1, 1, 1, 0, 0)
    assert f["tokens"] > 0 and f["tokens_per_passed"] == f["tokens"] and f["median_seconds"] >= 0
    (case,) = report.cases
    assert case["task"] == "human_size" and case["passed_try"] == 1 and len(case["tries"]) == 1
    first = case["tries"][0]
    assert first["reported_success"] is True and first["verified"] is True and not first["false_success"]
    assert first["tokens"] == first["prompt_tokens"] + first["completion_tokens"] > 0
    assert first["tests"] == 9 and first["failed"] == 0 and first["turns"] >= 1
    assert SIZE.instructions in user_prompts(model_server)[0]
    assert all(r["temperature"] == 0.0 for r in model_server.requests)

    data = saved(report)
    assert Path(report.saved_to).parent == tmp_path / ".smallcode" / "benchmarks"
    assert data["run"]["status"] == "done" and data["run"]["model"] == "scripted-model"
    assert data["cases"] == report.cases and data["figures"] == report.figures
    kept = Path(report.saved_to).with_suffix("") / "human_size-smallcode"
    assert (kept / "humanize.py").read_text() == SIZE.solution["humanize.py"]
    assert (
        "human_size" in report.text
        and "✓1" in report.text
        and report.text.endswith(
            "bar met in part: the pass rate and no false successes; Aider did not run on these tasks"
        )
    )  # a SmallCode arm alone: half the bar is against Aider


async def test_a_claimed_success_with_failing_tests_is_a_false_success(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    # With the agent's own test runs off (SMALLCODE_TEST_DISABLE), success is the model's word: the bench's
    # own test run is what catches the claim.
    model_server.extend(
        [fenced("write_file", path="humanize.py", content=NONSENSE), {"content": "Done, fixed."}] * 2
    )
    report = await run_suite(settings(test_disable=True), tmp_path, options(model_server, "human_size"))

    f = report.figures["smallcode"]
    assert (f["passed"], f["false_successes"], f["tokens_per_passed"]) == (0, 2, None)
    (case,) = report.cases
    assert not case["passed"] and case["passed_try"] is None and case["false_successes"] == 2
    assert [t["reported_success"] for t in case["tries"]] == [True, True]
    assert all(t["false_success"] and not t["passed"] for t in case["tries"])
    assert "format_size" in case["tries"][0]["failures"]
    # Try 2: a fresh session with the instructions and the failing tests' output, Aider's way.
    second = user_prompts(model_server)[2]
    assert second.startswith(SIZE.instructions)
    assert "The tests fail:" in second and "AssertionError" in second and "test_humanize.py" in second
    assert "The tests are correct, don't try and change them. Fix the code in humanize.py" in second
    assert not report.ok
    assert "2 false success(es), 0 wanted" in report.text
    assert any(
        line.startswith("human_size") and "✗" in line and "!" in line for line in report.text.splitlines()
    )


async def test_with_its_checks_on_the_agent_does_not_claim_what_the_tests_deny(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(
        [fenced("write_file", path="humanize.py", content=NONSENSE), {"content": "Done.", "repeat": 12}]
    )
    report = await run_suite(settings(fix_rounds=1), tmp_path, options(model_server, "human_size"))
    (case,) = report.cases
    assert not case["passed"] and case["false_successes"] == 0
    assert [t["reported_success"] for t in case["tries"]] == [False, False]


class Interrupted(Exception):
    pass


async def test_resume_skips_finished_tasks(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    def stop_at_second(text: str) -> None:
        if text.startswith("[2/2]"):
            raise Interrupted

    model_server.extend(solve(SIZE))
    with pytest.raises(Interrupted):
        await run_suite(
            settings(), tmp_path, options(model_server, "human_size", "slugify_edges"), status=stop_at_second
        )
    (path,) = (tmp_path / ".smallcode" / "benchmarks").glob("tasks-*.json")
    interrupted = json.loads(path.read_text())
    assert interrupted["run"]["status"] == "running"
    assert [c["task"] for c in interrupted["cases"]] == ["human_size"]
    assert "--resume" in interrupted["text"]
    asked = len(model_server.requests)

    lines: list[str] = []
    model_server.extend(solve(SLUG))
    resumed = await run_suite(settings(), tmp_path, Options(resume=True, base_url=model_server.base_url,
                                                            model="scripted-model"), status=lines.append)  # fmt: skip
    assert resumed.saved_to == str(path)
    assert [c["task"] for c in resumed.cases] == ["human_size", "slugify_edges"]
    assert resumed.cases[0] == interrupted["cases"][0]
    assert all(SLUG.instructions in p for p in user_prompts(model_server)[asked:])
    assert lines[0].startswith(f"resuming {path.name}: 1 of 2")
    assert resumed.figures["smallcode"]["passed"] == 2 and saved(resumed)["run"]["status"] == "done"

    # A finished run resumes to the same report without asking the model anything.
    asked = len(model_server.requests)
    again = await run_suite(settings(), tmp_path, Options(resume=True, base_url=model_server.base_url,
                                                          model="scripted-model"))  # fmt: skip
    assert len(model_server.requests) == asked and again.cases == resumed.cases

    other = await run_suite(
        settings(), tmp_path, Options(resume=True, base_url=model_server.base_url, model="other")
    )
    assert not other.ok and "measured scripted-model, this one would measure other" in other.text


async def test_nothing_to_resume_is_said_plainly(tmp_path: Path) -> None:
    report = await run_suite(
        settings(), tmp_path, Options(resume=True, base_url="http://127.0.0.1:9/v1", model="m")
    )
    assert not report.ok and report.text.startswith("task benchmark: nothing to resume")


# --- the Aider arm --------------------------------------------------------------------------------------

FAKE_AIDER = """#!{python}
# A stand-in for aider: logs how it was called; on its second call writes the reference solution.
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
if args == ["--version"]:
    print("aider 0.0.0-fake")
    raise SystemExit(0)
log = Path(os.environ["FAKE_AIDER_LOG"])
calls = json.loads(log.read_text()) if log.exists() else []
at = args.index("--message")
calls.append({{"args": args, "cwd": os.getcwd(), "base": os.environ.get("OPENAI_API_BASE"),
               "message": args[at + 1], "files": args[at + 2:]}})
log.write_text(json.dumps(calls))
if len(calls) >= 2:
    solution = json.loads(os.environ["FAKE_AIDER_SOLUTION"])
    for rel in args[at + 2:]:
        Path(rel).write_text(solution[rel])
    print("Applied edit to " + ", ".join(args[at + 2:]))
print("Tokens: 1.2k sent, 150 received.")
"""


@pytest.fixture
def fake_aider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "aider"
    script.write_text(FAKE_AIDER.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "aider-calls.json"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_AIDER_LOG", str(log))
    monkeypatch.setenv("FAKE_AIDER_SOLUTION", json.dumps(SIZE.solution))
    return log


async def test_both_arms_in_one_run(
    model_server: ScriptedModelServer, tmp_path: Path, fake_aider: Path
) -> None:
    model_server.extend(solve(SIZE))
    work = tmp_path / "project"
    work.mkdir()
    report = await run_suite(
        settings(), work, options(model_server, "human_size", arms=("smallcode", "aider"))
    )

    ours, theirs = report.cases
    assert (ours["arm"], ours["passed_try"]) == ("smallcode", 1)
    assert (theirs["arm"], theirs["passed_try"]) == ("aider", 2)
    assert theirs["false_successes"] is None and theirs["reported_success"] is None
    assert [t["tokens"] for t in theirs["tries"]] == [1350, 1350] and theirs["tokens"] == 2700
    assert [t["turns"] for t in theirs["tries"]] == [1, 1]

    calls = json.loads(fake_aider.read_text())
    assert len(calls) == 2
    for call in calls:
        assert call["base"] == model_server.base_url and call["files"] == ["humanize.py"]
        args = call["args"]
        assert args[args.index("--model") + 1] == "openai/scripted-model"
        assert args[args.index("--edit-format") + 1] == "whole"
        assert {"--yes-always", "--no-git", "--no-auto-commits", "--map-tokens"} <= set(args)
    assert calls[0]["message"] == SIZE.instructions
    assert calls[1]["message"].startswith(SIZE.instructions) and "The tests fail:" in calls[1]["message"]
    assert calls[0]["cwd"] == calls[1]["cwd"] != str(work)  # both tries in one temporary copy of the task

    f = report.figures
    assert f["aider"]["passed"] == 1 and f["aider"]["passed_2"] == 1 and f["aider"]["false_successes"] is None
    assert saved(report)["run"]["aider"]["version"] == "aider 0.0.0-fake"
    header = next(line for line in report.text.splitlines() if line.startswith("task ") and "kind" in line)
    assert "smallcode" in header and "aider" in header
    assert any(line.startswith("aider") and "1/1" in line for line in report.text.splitlines())


async def test_aider_that_cannot_run_skips_its_arm_with_the_reason(
    model_server: ScriptedModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLCODE_AIDER", str(tmp_path / "no-aider"))
    model_server.extend(solve(SIZE))
    report = await run_suite(
        settings(), tmp_path, options(model_server, "human_size", arms=("smallcode", "aider"))
    )
    assert [c["arm"] for c in report.cases] == ["smallcode"]
    assert f"aider arm skipped: SMALLCODE_AIDER={tmp_path / 'no-aider'} does not run" in report.text
    assert "skipped" in saved(report)["run"]["aider"]


def test_aider_token_lines_are_summed() -> None:
    from agent_core.bench.aider import parse_tokens

    output = "Tokens: 2.3k sent, 1.1k cache write, 512 received.\nnoise\nTokens: 15k sent, 1,024 received. Cost: $0\n"
    assert parse_tokens(output) == (17_300, 1_536, 2)
    assert parse_tokens("no tokens here") == (0, 0, 0)


# --- the command line -----------------------------------------------------------------------------------


def test_cli_runs_a_named_subset(
    model_server: ScriptedModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_server.extend(solve(SLUG))
    code = main(["bench", "tasks", "--tasks", "slugify_edges", "--arms", "smallcode", "--json",
                 "--base-url", model_server.base_url, "--model", "scripted-model", "--cwd", str(tmp_path)])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [c["task"] for c in out["cases"]] == ["slugify_edges"] and out["figures"]["tasks"] == 1
    assert out["saved_to"].startswith(str(tmp_path / ".smallcode" / "benchmarks" / "tasks-"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["tasks", "--tasks", "nope"], "no task named nope"),
        (["tasks", "--arms", "smallcode,cursor"], "unknown arm cursor"),
        (["tasks", "--resume", "--tasks", "paginate"], "--resume continues the latest run"),
        (["tasks", "--base-url", "http://127.0.0.1:9/v1"], "--base-url needs --model"),
        (["plan", "--tasks", "paginate"], "--tasks belong to the tasks suite"),
    ],
)
def test_cli_usage_errors(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", *args, "--cwd", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / ".smallcode").exists()


def test_no_engine_or_model_is_reported_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLCODE_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("SMALLCODE_BENCH_MODEL", "no-such-model")
    report = tasks_suite.run(tmp_path, Options(tasks=["paginate"], arms=("smallcode",)))
    assert not report.ok and report.text.startswith("task benchmark: ")
    assert "no-such-model" in report.text or "not installed" in report.text
    assert "Traceback" not in report.text


def test_model_without_base_url_names_the_embedded_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--model` used to be ignored without --base-url: the run measured the default 1.5B model instead.
    assert runner.model_label(Settings(), None, "qwen2.5-coder-0.5b") == "qwen2.5-coder-0.5b"
    main(["bench", "tasks", "--tasks", "paginate", "--arms", "smallcode", "--model", "no-such-model",
          "--cwd", str(tmp_path)])  # fmt: skip
    captured = capsys.readouterr()
    assert "no-such-model" in captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err


def test_bad_timeout_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLCODE_BENCH_TIMEOUT", "soon")
    report = tasks_suite.run(tmp_path)
    assert (
        report.text
        == "task benchmark: SMALLCODE_BENCH_TIMEOUT must be a positive number of seconds, not 'soon'"
    )
