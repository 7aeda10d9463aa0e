"""`smallcode bench diff A B` on pairs of saved runs: exit 0 better, 1 worse, 2 within noise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent_core.bench.diff import sign_test
from agent_core.bench.report import BenchReport, save_report
from agent_core.cli.main import main


def saved(root: Path, name: str, passed: list[bool], suite: str = "smoke") -> Path:
    cases = [
        {"task": f"task_{i:02}", "passed": ok, "tokens": 100, "seconds": 2.0} for i, ok in enumerate(passed)
    ]
    report = BenchReport(suite=suite, cases=cases, figures={"passed": sum(passed)})
    return save_report(report, root, root / ".smallcode" / "benchmarks" / f"{name}.json")


def diff(root: Path, a: Path | str, b: Path | str) -> subprocess.CompletedProcess[str]:
    """The real command in a process of its own: its exit code is the verdict."""
    return subprocess.run(
        [sys.executable, "-m", "agent_core.cli.main", "bench", "diff", str(a), str(b), "--cwd", str(root)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_sign_test_values() -> None:
    assert sign_test(0, 0) == 1.0
    assert sign_test(6, 0) == pytest.approx(2 / 64)  # 0.03125: significant
    assert sign_test(5, 0) == pytest.approx(2 / 32)  # 0.0625: not
    assert sign_test(3, 3) == 1.0


@pytest.mark.timeout(900)  # a process of its own: slow to start on a loaded machine
def test_better_worse_and_noise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = [False] * 8 + [True] * 4
    improved = [True] * 7 + [False] + [True] * 4  # gained 7, lost 0
    a = saved(tmp_path, "smoke-a", base)
    b = saved(tmp_path, "smoke-b", improved)

    better = diff(tmp_path, a, b)
    assert better.returncode == 0, better.stderr
    assert "verdict: B is better" in better.stdout and "McNemar" in better.stdout
    assert "task_00" in better.stdout and "fail → PASS" in better.stdout
    assert "B gained 7, lost 0" in better.stdout

    # The same pair the other way round, and a pair within noise (in this process: main's return value is
    # the exit code); names resolve in .smallcode/benchmarks.
    assert main(["bench", "diff", str(b), str(a), "--cwd", str(tmp_path)]) == 1
    assert "verdict: B is worse" in capsys.readouterr().out
    saved(tmp_path, "smoke-c", [True, True, False] + [False] * 5 + [True, True, False, True])
    assert main(["bench", "diff", "smoke-a", "smoke-c.json", "--cwd", str(tmp_path)]) == 2
    assert "verdict: within noise" in capsys.readouterr().out


def test_tasks_only_in_one_run_are_listed_not_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = saved(tmp_path, "a", [True, False])
    b = saved(tmp_path, "b", [True, False, True])
    assert main(["bench", "diff", str(a), str(b)]) == 2
    out = capsys.readouterr().out
    assert "only in B (not counted): task_02" in out and "B gained 0, lost 0" in out


def test_bad_runs_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    good = saved(tmp_path, "good", [True])
    other = saved(tmp_path, "other", [True], suite="tools")
    json_other = json.loads(other.read_text())
    json_other["cases"] = [{"id": "x", "verdict": "recovered"}]
    other.write_text(json.dumps(json_other))
    for args in ([str(broken), str(good)], [str(good), "missing"], [str(good)], [str(good), str(other)]):
        assert main(["bench", "diff", *args, "--cwd", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
