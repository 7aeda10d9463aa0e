"""What the model is told when tests fail: each failure with the failing test's own code, from real pytest runs."""

from __future__ import annotations

import sys
from pathlib import Path

from agent_core.verify.runner import TEST_CODE_LINES, run_tests

PYTEST = f"{sys.executable} -m pytest"

INTERVALS = """
def merge(intervals):
    intervals.sort()
    return intervals
"""

INTERVALS_TEST = """
from intervals import merge


def test_sorted():
    assert merge([[1, 2]]) == [[1, 2]]


def test_input_not_modified():
    data = [[3, 4], [1, 3]]
    merge(data)
    assert data == [[3, 4], [1, 3]]
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


async def test_a_failure_comes_with_the_code_of_its_test(tmp_path: Path) -> None:
    """The assert alone (`[[1, 3], [3, 4]] == [[3, 4], [1, 3]]`) does not say the input was passed in and
    changed; the lines before it do, and the 1.5B model saw the test file only far above."""
    write(tmp_path, {"intervals.py": INTERVALS, "intervals_test.py": INTERVALS_TEST})
    run = await run_tests(tmp_path, "pytest", PYTEST, 60)
    assert (run.status, run.passed, run.failed) == ("failed", 1, 1)
    feedback = run.feedback()
    entry = feedback[feedback.index("- intervals_test::test_input_not_modified") :]
    assert entry.splitlines()[1:6] == [
        "    intervals_test.py:9:",
        "    def test_input_not_modified():",
        "        data = [[3, 4], [1, 3]]",
        "        merge(data)",
        "        assert data == [[3, 4], [1, 3]]",
    ]
    assert "    E assert [[1, 3], [3, 4]] == [[3, 4], [1, 3]]" in entry
    assert "Full diff" not in feedback  # pytest's diff is cut short anyway: noise after the difference
    assert "test_sorted" not in feedback  # a passing test's code is not shown


async def test_the_code_ends_where_the_test_failed_and_long_tests_are_cut(tmp_path: Path) -> None:
    steps = "".join(f"    total += {n}\n" for n in range(20))
    write(
        tmp_path,
        {
            "calc.py": "def half(n):\n    return n // 2\n",
            "tests/test_calc.py": (
                "from calc import half\n\n\ndef test_long():\n    total = 1\n"
                + steps
                + "    assert half(total) == total / 2\n    assert False, 'never reached'\n"
            ),
        },
    )
    run = await run_tests(tmp_path, "pytest", PYTEST, 60)
    entry = run.feedback().splitlines()
    code = entry[entry.index("    tests/test_calc.py:4:") + 1 :]
    code = code[: next(i for i, line in enumerate(code) if line.startswith("    E "))]
    assert len(code) == TEST_CODE_LINES
    assert code[0] == "    def test_long():" and code[1] == "        ..."
    assert code[-1] == "        assert half(total) == total / 2"  # the failing line, not the one after it


async def test_unittest_classes_and_parametrized_tests_show_their_code(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shout.py": "def shout(s):\n    return s\n",
            "shout_test.py": (
                "import unittest\n\nimport pytest\n\nfrom shout import shout\n\n\n"
                "class ShoutTest(unittest.TestCase):\n"
                "    def test_upper(self):\n"
                "        self.assertEqual(shout('a'), 'A')\n\n\n"
                "@pytest.mark.parametrize('word', ['b'])\n"
                "def test_each(word):\n"
                "    assert shout(word) == word.upper()\n"
            ),
        },
    )
    run = await run_tests(tmp_path, "pytest", PYTEST, 60)
    feedback = run.feedback()
    assert (
        "- shout_test.ShoutTest::test_upper\n    shout_test.py:9:\n    def test_upper(self):\n"
        "        self.assertEqual(shout('a'), 'A')\n    E AssertionError: 'a' != 'A'"
    ) in feedback
    # From `def`: the decorator's values are in the test's id.
    assert "- shout_test::test_each[b]\n    shout_test.py:14:\n    def test_each(word):\n" in feedback


async def test_an_exception_in_the_code_says_where_it_was_raised(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "parse.py": "def parse(s):\n    raise ValueError(f'bad {s}')\n",
            "test_parse.py": "from parse import parse\n\n\ndef test_parse():\n    assert parse('1') == 1\n",
        },
    )
    run = await run_tests(tmp_path, "pytest", PYTEST, 60)
    entry = run.feedback().splitlines()
    assert entry[-3:] == [
        "        assert parse('1') == 1",
        "    E ValueError: bad 1",
        "    at parse.py:2: in parse",
    ]


async def test_a_test_file_in_another_encoding_is_read_as_python_reads_it(tmp_path: Path) -> None:
    write(tmp_path, {"calc.py": "def one():\n    return 2\n"})
    (tmp_path / "test_calc.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nfrom calc import one\n\n\ndef test_one():\n    assert one() == 1, 'caf\xe9'\n"
    )
    run = await run_tests(tmp_path, "pytest", PYTEST, 60)
    assert "    def test_one():\n        assert one() == 1, 'caf\u00e9'\n" in run.feedback()


async def test_a_test_file_too_large_to_read_leaves_the_failure_as_it_was(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "calc.py": "def one():\n    return 2\n",
            "test_calc.py": "#" * 250_000
            + "\nfrom calc import one\n\n\ndef test_one():\n    assert one() == 1\n",
        },
    )
    run = await run_tests(tmp_path, "pytest", PYTEST, 60)
    assert run.feedback().splitlines()[1:] == [
        "- test_calc::test_one",
        "    assert 2 == 1",
        "    +  where 2 = one()",
        "    at test_calc.py:6: in test_one",
    ]


async def test_a_long_method_is_cut_at_its_body_indentation(tmp_path: Path) -> None:
    steps = "".join(f"        total += {n}\n" for n in range(20))
    write(
        tmp_path,
        {
            "calc.py": "def half(n):\n    return n // 2\n",
            "test_calc.py": (
                "import unittest\n\nfrom calc import half\n\n\nclass HalfTest(unittest.TestCase):\n"
                "    def test_long(self):\n        total = 1\n"
                + steps
                + "        self.assertEqual(half(total), total / 2)\n"
            ),
        },
    )
    run = await run_tests(tmp_path, "pytest", PYTEST, 60)
    entry = run.feedback().splitlines()
    at = entry.index("    test_calc.py:7:")
    assert entry[at + 1 : at + 3] == ["    def test_long(self):", "        ..."]
    assert entry[at + TEST_CODE_LINES] == "        self.assertEqual(half(total), total / 2)"


EMITTER = """
class Emitter:
    def on(self, name, handler):
        return handler

    def merge(self, data):
        data.sort()
        return data

    def lookup(self):
        return {}["missing"]
"""

EMITTER_TEST = """
import unittest

from emitter import Emitter


class EmitterTest(unittest.TestCase):
    def test_off(self):
        emitter = Emitter()
        handler = emitter.on("save", print)
        self.assertTrue(emitter.off("save", handler))

    def test_merge_keeps_input(self):
        data = [[3, 4], [1, 3]]
        Emitter().merge(data)
        self.assertEqual(data, [[3, 4], [1, 3]])

    def test_lookup(self):
        Emitter().lookup()

    def test_passes(self):
        self.assertTrue(True)
"""


async def test_unittest_runner_failures_come_with_their_code_too(tmp_path: Path) -> None:
    """A project without pytest is checked with `python -m unittest`: its failures read as pytest's do (the test's
    code up to the failing line, the exception with its message lines, where the code raised)."""
    write(tmp_path, {"emitter.py": EMITTER, "emitter_test.py": EMITTER_TEST})
    run = await run_tests(tmp_path, "unittest", f"{sys.executable} -m unittest emitter_test", 60)
    assert (run.status, run.passed, run.failed) == ("failed", 1, 3)
    entries = {entry.splitlines()[0]: entry.splitlines()[1:] for entry in run.failures}
    assert entries["- emitter_test.EmitterTest.test_merge_keeps_input"] == [
        "    emitter_test.py:13:",
        "    def test_merge_keeps_input(self):",
        "        data = [[3, 4], [1, 3]]",
        "        Emitter().merge(data)",
        "        self.assertEqual(data, [[3, 4], [1, 3]])",
        "    E AssertionError: Lists differ: [[1, 3], [3, 4]] != [[3, 4], [1, 3]]",
        "    E First differing element 0:",
        "    E [1, 3]",
        "    E [3, 4]",
        "    E - [[1, 3], [3, 4]]",
        "    E + [[3, 4], [1, 3]]",
    ]
    off = entries["- emitter_test.EmitterTest.test_off"]
    assert off[-1] == "    E AttributeError: 'Emitter' object has no attribute 'off'"
    assert off[-2] == '        self.assertTrue(emitter.off("save", handler))'
    assert entries["- emitter_test.EmitterTest.test_lookup"] == [
        "    emitter_test.py:18:",
        "    def test_lookup(self):",
        "        Emitter().lookup()",
        "    E KeyError: 'missing'",
        "    at emitter.py:11: in lookup",  # raised in the code under test, not in the test
    ]
    assert "test_passes" not in run.feedback()


def test_unittest_ids_of_older_pythons_keep_the_test_name() -> None:
    """Before 3.11 unittest wrote `FAIL: test_off (emitter_test.EmitterTest)`: the id is still module.Class.test."""
    from agent_core.verify.runner import _read_unittest

    output = (
        "F.\n"
        "======================================================================\n"
        "FAIL: test_off (emitter_test.EmitterTest)\n"
        "----------------------------------------------------------------------\n"
        "Traceback (most recent call last):\n"
        '  File "/elsewhere/emitter_test.py", line 5, in test_off\n'
        "    self.assertTrue(False)\n"
        "AssertionError: False is not true\n"
        "\n"
        "----------------------------------------------------------------------\n"
        "Ran 2 tests in 0.001s\n\nFAILED (failures=1)\n"
    )
    run = _read_unittest("python -m unittest", 1, output, Path("/nonexistent-root"))
    assert (run.status, run.passed, run.failed) == ("failed", 1, 1)
    assert run.failures == [
        "- emitter_test.EmitterTest.test_off\n    AssertionError: False is not true\n"
        "    at emitter_test.py:5: in test_off"
    ]


async def test_a_unittest_run_that_dies_while_importing_broke_it_did_not_find_no_tests(
    tmp_path: Path,
) -> None:
    """`python -m unittest emitter_test` dies with a traceback (no "Ran N tests") when the module it imports
    does not parse. Read as "no tests ran", that check did not block a final answer."""
    write(tmp_path, {"emitter.py": "def broken(:\n    pass\n", "emitter_test.py": EMITTER_TEST})
    run = await run_tests(tmp_path, "unittest", f"{sys.executable} -m unittest emitter_test", 60)
    assert (run.status, run.failed) == ("error", 1)
    assert run.failures == [
        "- the test run (it broke before any test ran)\n    SyntaxError: invalid syntax\n    at emitter.py:1"
    ]
