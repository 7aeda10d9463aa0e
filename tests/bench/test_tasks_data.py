"""The task benchmark's tasks: each is a real task (its tests fail on the project as given and pass with its
reference solution), the set is varied, and the judge cannot be gamed. No model involved."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agent_core.bench.tasks import KINDS, Task, condense, judge, load_tasks, parse_task

TASKS = load_tasks()


def build_and_judge(task: Task, root: Path, solved: bool) -> tuple[bool, int, int]:
    task.build(root, solved=solved)
    verdict = judge(task, root)
    return verdict.passed, verdict.tests, verdict.failed


def test_every_task_fails_as_given_and_passes_with_its_reference(tmp_path: Path) -> None:
    jobs = [(task, tmp_path / f"{task.name}-{solved}", solved) for task in TASKS for solved in (False, True)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda job: build_and_judge(*job), jobs))
    wrong = []
    for (task, _, solved), (passed, tests, failed) in zip(jobs, outcomes, strict=True):
        if solved and not (passed and tests > 0 and failed == 0):
            wrong.append(f"{task.name}: reference fails ({failed} of {tests})")
        if not solved and (passed or failed == 0):
            wrong.append(f"{task.name}: passes as given")
    assert not wrong


def test_the_set_is_large_and_varied() -> None:
    assert len(TASKS) >= 20
    kinds = {kind: sum(t.kind == kind for t in TASKS) for kind in KINDS}
    assert kinds["bug"] >= 10 and kinds["feature"] >= 5 and kinds["multi"] >= 3 and kinds["locate"] >= 4
    assert any(len(t.edit_files) > 1 for t in TASKS)
    test_names = [Path(rel).name for t in TASKS for rel in t.tests]
    assert sum(name.endswith("_test.py") for name in test_names) >= 4
    assert sum(name.startswith("test_") for name in test_names) >= 10
    assert any("/" in rel for t in TASKS for rel in t.tests)  # tests in a folder of their own
    assert any("unittest" in t.files[rel] for t in TASKS for rel in t.tests)


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_instructions_read_like_a_user_request(task: Task) -> None:
    text = task.instructions
    if task.kind == "locate":  # the code is named, no file is: finding it is part of the task
        assert not re.search(r"[\w/]+\.py\b", text), "a locate task names a file"
        assert len([f for f in task.files if f.endswith(".py") and f not in task.tests]) >= 3
    else:
        for rel in task.edit_files:
            assert rel in text, f"the task does not name {rel}"
    assert re.search(r"(do not|don't|must not|without)[^.;]*(change|edit|modif|touch)", text, re.I) or (
        "unchanged" in text or "as they are" in text or "stay" in text
    ), "the task does not say the tests stay as they are"
    assert "exercism" not in (text + "".join(task.files.values())).lower()


def test_the_reference_is_not_in_the_workspace(tmp_path: Path) -> None:
    task = TASKS[0]
    task.build(tmp_path)
    for rel, text in task.solution.items():
        assert (tmp_path / rel).read_text() != text
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()} == set(task.files)


def test_unknown_task_names_are_listed() -> None:
    with pytest.raises(ValueError, match="no task named nope") as caught:
        load_tasks(["nope", TASKS[0].name])
    assert TASKS[0].name in str(caught.value)
    assert [t.name for t in load_tasks([TASKS[1].name, TASKS[0].name])] == [TASKS[1].name, TASKS[0].name]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("kind = 'bug'\ninstructions = 'x'\n[files]\n'a.py' = ''\n[solution]\n'a.py' = ''\n", "no test file"),
        ("kind = 'chore'\n", "kind must be"),
        ("kind = 'bug'\ninstructions = 'x'\n[files]\n'test_a.py' = ''\n", "all needed"),
        (
            "kind = 'bug'\ninstructions = 'x'\n[files]\n'test_a.py' = ''\n[solution]\n'../a.py' = ''\n",
            "not a relative path",
        ),
        (
            "kind = 'bug'\ninstructions = 'x'\n[files]\n'test_a.py' = ''\n[solution]\n'test_a.py' = ''\n",
            "must not change the tests",
        ),
        ("kind = ", "task t:"),
    ],
)
def test_malformed_tasks_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_task("t", text)


# --- the judge ------------------------------------------------------------------------------------------

GAMED = {
    "conftest.py": "import pytest\n\n\ndef pytest_collection_modifyitems(items):\n    items.clear()\n",
    "pytest.ini": "[pytest]\naddopts = --co\n",
    "pytest.py": "raise SystemExit(0)\n",
}


def test_edited_tests_are_restored_and_the_agents_config_is_not_read(tmp_path: Path) -> None:
    task = next(t for t in TASKS if t.name == "slugify_edges")
    task.build(tmp_path)
    (tmp_path / "slug_test.py").write_text("def test_nothing():\n    pass\n")
    for rel, text in GAMED.items():
        (tmp_path / rel).write_text(text)
    verdict = judge(task, tmp_path)
    assert not verdict.passed and verdict.failed >= 1
    assert verdict.tests_changed == ["slug_test.py"]
    assert (tmp_path / "slug_test.py").read_text() == task.files["slug_test.py"]


def test_a_deleted_test_file_is_restored(tmp_path: Path) -> None:
    task = next(t for t in TASKS if t.name == "csv_summary")
    task.build(tmp_path, solved=True)
    (tmp_path / "tests" / "test_csvsummary.py").unlink()
    verdict = judge(task, tmp_path)
    assert verdict.passed and verdict.tests_changed == ["tests/test_csvsummary.py"]


def test_code_that_does_not_import_fails_with_the_reason(tmp_path: Path) -> None:
    task = next(t for t in TASKS if t.name == "human_size")
    task.build(tmp_path)
    (tmp_path / "humanize.py").write_text("def format_size(size:\n")
    verdict = judge(task, tmp_path)
    assert not verdict.passed and verdict.failed == 1  # the test file that could not be collected
    assert "SyntaxError" in verdict.failures


def test_tests_that_are_all_skipped_are_not_a_pass(tmp_path: Path) -> None:
    task = Task(
        "skips",
        "bug",
        "Fix a.py; do not change test_a.py.",
        {"a.py": "", "test_a.py": "import pytest\n\n\n@pytest.mark.skip\ndef test_a():\n    pass\n"},
        {"a.py": "x = 1\n"},
    )
    task.build(tmp_path)
    verdict = judge(task, tmp_path)
    assert (verdict.passed, verdict.tests, verdict.failed) == (False, 0, 0)


def test_failures_are_condensed_for_a_small_window() -> None:
    failures = "\n".join(
        f"__ test_case[{i}] __\ntest_x.py:3: in test_case\n    assert f(x) == y\nE   AssertionError: assert {i} == 0"
        for i in range(60)
    )
    summary = "\n".join(
        f"FAILED test_x.py::test_case[{i}] - AssertionError: assert {i} == 0" for i in range(60)
    )
    output = (
        "..FF\n============ FAILURES ============\n"
        + failures
        + "\n========= short test summary info =========\n"
        + summary
        + "\n60 failed, 2 passed in 0.31s"
    )
    text = condense(output)
    assert len(text) <= 1500
    assert text.startswith("== FAILURES ==\n__ test_case[0] __")
    assert "E   AssertionError: assert 0 == 0" in text
    assert "FAILED test_x.py::test_case[0]" in text
    assert re.search(r"… \(\d+ more\)", text)
    assert text.endswith("60 failed, 2 passed in 0.31s")
    assert condense("short output") == "short output"
