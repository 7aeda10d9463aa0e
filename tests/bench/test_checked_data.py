"""The smoke and polyglot tasks: each one's check fails on its project and passes with its solution, run with
the real toolchain (a language whose toolchain is missing here is skipped, as the suite skips it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent_core.bench.checked import LANGUAGES, judge, load_tasks, parse_task

ALL = [(suite, task.name) for suite in ("smoke", "polyglot") for task in load_tasks(suite)]


def test_suites_have_the_promised_shape() -> None:
    smoke = load_tasks("smoke")
    assert len(smoke) == 12 and {t.language for t in smoke} == {"python"}
    polyglot = load_tasks("polyglot")
    assert {t.language for t in polyglot} == set(LANGUAGES)
    assert all(sum(t.language == lang for t in polyglot) >= 2 for lang in LANGUAGES)


@pytest.mark.parametrize(("suite", "name"), ALL)
def test_task_fails_as_given_and_passes_solved(suite: str, name: str, tmp_path: Path) -> None:
    task = load_tasks(suite, [name])[0]
    if task.language != "python" and shutil.which(task.toolchain) is None:
        pytest.skip(f"{task.toolchain} not installed")
    task.build(tmp_path / "given")
    given = judge(task, tmp_path / "given")
    assert not given.passed, given.output
    task.build(tmp_path / "solved", solved=True)
    solved = judge(task, tmp_path / "solved")
    assert solved.passed, solved.output


def test_changed_tests_are_restored_before_judging(tmp_path: Path) -> None:
    task = load_tasks("smoke", ["fix_add"])[0]
    task.build(tmp_path)
    (tmp_path / "test_calc.py").write_text("def test_nothing():\n    pass\n")  # the agent "fixed" the test
    verdict = judge(task, tmp_path)
    assert not verdict.passed and verdict.tests_changed == ["test_calc.py"]


def test_bad_task_files_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="language must be one of"):
        parse_task("x", 'language = "cobol"\ninstructions = "i"\n[files]\na = "1"\n[solution]\na = "2"\n')
    with pytest.raises(ValueError, match="tests must be files"):
        parse_task(
            "x",
            'language = "python"\ninstructions = "i"\ntests = ["t.py"]\n[files]\na = "1"\n[solution]\na = "2"\n',
        )
