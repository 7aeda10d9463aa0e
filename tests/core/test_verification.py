"""Done means verified: the loop runs the project's own tests, against a real scripted model server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent_core import SmallCode
from agent_core.verify.verifier import Verdict
from tests.support.scripted_server import ScriptedModelServer

BROKEN = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
TESTS = (
    "import unittest\n\nfrom calc import add\n\n\n"
    "class AddTest(unittest.TestCase):\n"
    "    def test_small(self):\n        self.assertEqual(add(1, 2), 3)\n\n"
    "    def test_zero(self):\n        self.assertEqual(add(0, 0), 0)\n"
)


def fenced(name: str, **arguments: object) -> dict[str, str]:
    return {"content": "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"}


def agent_for(server: ScriptedModelServer, root: Path, **settings: object) -> SmallCode:
    return SmallCode(model="scripted-model", base_url=server.base_url, cwd=root, **settings)


def project(root: Path, code: str = BROKEN, test_name: str = "calc_test.py") -> None:
    (root / "calc.py").write_text(code)
    (root / test_name).write_text(TESTS)


def prompts(server: ScriptedModelServer) -> list[str]:
    """The last user message of every request the model got."""
    out = []
    for body in server.requests:
        users = [m["content"] for m in body["messages"] if m["role"] == "user"]
        out.append(users[-1] if users else "")
    return out


async def test_a_final_answer_while_tests_fail_does_not_end_the_run(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    # calc_test.py: `python -m unittest` alone discovers nothing here; the checks must still run these tests.
    project(tmp_path)
    model_server.extend(
        [
            {"content": "Done, the code is correct."},
            fenced("patch", path="calc.py", search="return a - b", replace="return a + b"),
            {"content": "Fixed add."},
        ]
    )
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("Make add in calc.py add its arguments.")
    assert result.success is True
    assert result.verified is True
    assert result.checks is not None and result.checks.status == "passed"
    assert result.checks.passed == 2 and result.checks.failed == 0
    assert "pytest" in (result.checks.command or "")
    # The refused answer came back with the failing test and the assertion, condensed.
    sent = prompts(model_server)[1]
    assert sent.startswith("Not done yet")
    assert "AddTest::test_small" in sent or "test_small" in sent
    assert "-1" in sent and "3" in sent  # expected vs actual
    assert len(sent) < 2200


async def test_fix_rounds_run_out_and_the_run_fails_honestly(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    project(tmp_path)
    model_server.extend([{"content": f"All done ({i})."} for i in range(5)])
    async with agent_for(model_server, tmp_path, fix_rounds=2) as agent:
        result = await agent.run("Fix add in calc.py.")
    assert result.success is False
    assert result.verified is False
    assert result.checks is not None and result.checks.status == "failed"
    assert result.checks.failed == 1 and result.checks.passed == 1
    assert "Not done" in result.response and "checks failed" in result.response
    assert len(model_server.requests) == 3  # the first answer and two refused ones


async def test_failing_tests_are_shown_up_front_and_green_tests_end_the_run(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    project(tmp_path)
    model_server.extend([fenced("write_file", path="calc.py", content=FIXED)])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("Fix calc.py so that the tests pass; the tests are correct.")
    first = model_server.requests[0]["messages"][-1]["content"]
    assert "return a - b" in first  # the named file, shown whole
    assert "fail now" in first and "test_small" in first  # how the covering tests fail
    # A named file shown in full counts as read: the write guard lets the first write through.
    assert result.success is True and result.verified is True
    assert len(model_server.requests) == 1  # the tests went green after the edit: no extra turn to say so
    assert (tmp_path / "calc.py").read_text() == FIXED


async def test_failures_the_task_already_shows_are_not_shown_twice(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    # The second try of Aider's protocol (and a user who pastes the test run) puts the failures in the task.
    project(tmp_path)
    pasted = "Fix calc.py. The tests fail:\n```\nFAILED calc_test.py::AddTest::test_small - AssertionError: -1 != 3\n```"
    model_server.extend([fenced("write_file", path="calc.py", content=FIXED)])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run(pasted)
    first = model_server.requests[0]["messages"][-1]["content"]
    assert first.count("-1 != 3") == 1 and first.count("AssertionError") == 1  # only the task's paste
    assert "fail now, as the task shows (1 failing, 1 passing" in first
    assert result.success is True and result.verified is True


async def test_failures_the_task_shows_only_in_part_are_shown(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    project(tmp_path, code="def add(a, b):\n    return 7\n")  # both tests fail; the task names one
    model_server.extend([fenced("write_file", path="calc.py", content=FIXED)])
    async with agent_for(model_server, tmp_path) as agent:
        await agent.run("Fix calc.py: test_small fails.")
    first = model_server.requests[0]["messages"][-1]["content"]
    assert "fail now (what must change)" in first and "test_zero" in first


@pytest.mark.parametrize(
    "task, shown",
    [
        ("FAILED calc_test.py::AddTest::test_small - AssertionError", True),
        ("test_small fails and so does test_compare[1-2] here", True),
        ("test_small_numbers fails", False),  # another test's name, not this one
        ("test_small and test_compare[1-3] fail", False),  # another case of the parametrized test
        ("nothing about tests", False),
    ],
)
def test_which_tasks_already_show_their_failures(task: str, shown: bool) -> None:
    failing = frozenset({"calc_test.AddTest::test_small"})
    if "compare" in task:
        failing |= {"test_calc::test_compare[1-2]"}
    assert Verdict("failed", failing=failing).failures_shown_in(task) is shown
    assert Verdict("failed").failures_shown_in(task) is False  # no names known: always shown


async def test_test_files_are_protected_and_restored(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    project(tmp_path, test_name="test_calc.py")
    stub = "def test_nothing():\n    pass\n"
    model_server.extend(
        [
            fenced("write_file", path="test_calc.py", content=stub),
            fenced("bash", command=f"printf '{stub}' > test_calc.py"),
            {"content": "Tests pass now."},
            {"content": "Tests pass now!"},
            {"content": "Tests pass now!!"},
            {"content": "Tests pass now!!!"},
        ]
    )
    async with agent_for(model_server, tmp_path, shell_sandbox="off") as agent:
        result = await agent.run("Fix calc.py. Do not change the tests.")
    refused = result.tool_calls[0]
    assert refused.name == "write_file" and not refused.ok
    assert "test" in (refused.error or "")
    assert (tmp_path / "test_calc.py").read_text() == TESTS  # the shell's rewrite was put back
    assert result.success is False
    assert result.checks is not None and "test_calc.py" in result.checks.restored_tests


async def test_a_task_that_asks_for_tests_may_change_them(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    project(tmp_path, code=FIXED, test_name="test_calc.py")
    extra = TESTS + "\n    def test_negative(self):\n        self.assertEqual(add(-1, -1), -2)\n"
    model_server.extend([fenced("write_file", path="test_calc.py", content=extra), {"content": "Added."}])
    async with agent_for(model_server, tmp_path, write_guard=False) as agent:
        result = await agent.run("Add a test for negative numbers to test_calc.py.")
    assert result.success is True and result.verified is True
    assert result.checks is not None and result.checks.passed == 3


async def test_zero_tests_is_not_a_pass(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(BROKEN)
    (tmp_path / "test_calc.py").write_text("# tests to come\n")
    model_server.extend([fenced("write_file", path="calc.py", content=FIXED), {"content": "Fixed."}])
    async with agent_for(model_server, tmp_path, write_guard=False) as agent:
        result = await agent.run("Fix add in calc.py.")
    assert result.success is True  # nothing to check is not a failure ...
    assert result.verified is False  # ... but it is not verified either
    assert result.checks is not None and result.checks.status == "no_tests"
    assert result.checks.summary.startswith("not verified")


async def test_no_tests_at_all_is_success_but_not_verified(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(
        [fenced("write_file", path="hello.py", content="print('hello')\n"), {"content": "Created hello.py."}]
    )
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("create hello.py that prints hello")
    assert result.success is True and result.verified is False
    assert result.checks is not None and result.checks.status == "none"


async def test_a_question_is_answered_without_checks(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    project(tmp_path)
    model_server.extend([{"content": "add subtracts its arguments."}])
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("What does add in calc.py do?")
    assert result.success is True and result.checks is None and result.verified is False


async def test_the_agents_own_folder_is_refused(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend(
        [
            fenced("write_file", path=".smallcode/dnd.py", content="x = 1\n"),
            fenced("write_file", path="dnd.py", content="x = 1\n"),
            {"content": "Created dnd.py."},
        ]
    )
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("create dnd.py with x = 1")
    assert not (tmp_path / ".smallcode" / "dnd.py").exists()
    assert result.tool_calls[0].ok is False and "'dnd.py'" in (result.tool_calls[0].error or "")
    assert result.files_created == ["dnd.py"] and result.success is True


async def test_attempts_restore_the_files_and_try_again(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    project(tmp_path)
    wrong = "def add(a, b):\n    return a * b\n"
    model_server.extend(
        [
            fenced("write_file", path="calc.py", content=wrong),
            {"content": "Done."},  # refused: tests fail (fix_rounds=0 ends the attempt)
            fenced("write_file", path="calc.py", content=FIXED),
        ]
    )
    async with agent_for(model_server, tmp_path, attempts=2, fix_rounds=0) as agent:
        result = await agent.run("Fix calc.py so that the tests pass.")
    assert result.success is True and result.verified is True
    temps = [body.get("temperature") for body in model_server.requests]
    assert temps[2] > temps[0]  # the second attempt samples differently
    # The second attempt starts from the files and the conversation as they were before the first.
    third = model_server.requests[2]["messages"]
    assert not any("return a * b" in str(m.get("content")) for m in third)


def test_cli_says_whether_the_run_was_verified(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    project(tmp_path)
    model_server.extend([fenced("write_file", path="calc.py", content=FIXED)])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent_core.cli.main",
            "--cwd",
            str(tmp_path),
            "--base-url",
            model_server.base_url,
        ]
        + ["--model", "scripted-model", "run", "Fix calc.py so that the tests pass."],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "checks passed: 2 tests" in proc.stderr


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("Add a test for negative numbers.", True),
        ("Write unit tests for parser.py", True),
        ("Fix calc.py so the tests pass; the tests are correct.", False),
        ("Make the failing test pass", False),
        ("Fix the bug. Do not change the tests.", False),
        ("Implement slugify in text.py", False),
    ],
)
def test_which_tasks_may_change_tests(task: str, expected: bool) -> None:
    from agent_core.verify import task_changes_tests

    assert task_changes_tests(task) is expected
