"""The plan benchmark's success checks on hand-made projects: a right solution passes, each kind of wrong one
fails for the stated reason (the checks parse, run hidden assertions and run pytest themselves)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from agent_core.bench.plan_suite import TASKS, PlanTask

BY_NAME = {t.name: t for t in TASKS}

GOOD: dict[str, dict[str, str]] = {
    "calc_tests": {
        "calc.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
        "tests/test_calc.py": """
            from calc import add, sub


            def test_add():
                assert add(2, 3) == 5


            def test_sub():
                assert sub(5, 3) == 2
        """,
    },
    "cli_verbose": {
        "cli.py": """
            import argparse


            def main(argv=None):
                parser = argparse.ArgumentParser(description="Greet someone.")
                parser.add_argument("name")
                parser.add_argument("--verbose", action="store_true")
                args = parser.parse_args(argv)
                if args.verbose:
                    print("verbose mode on")
                print(f"Hello, {args.name}!")
                return 0


            if __name__ == "__main__":
                raise SystemExit(main())
        """,
        "README.md": "# greet\n\nUsage: `python cli.py NAME [--verbose]`\n\n`--verbose` prints more.\n",
    },
    "rename_function": {
        "pricing.py": "def total_price(prices):\n    return sum(prices)\n",
        "orders.py": (
            "from pricing import total_price\n\n\ndef order_total(order):\n"
            "    return total_price(item['price'] for item in order)\n"
        ),
    },
    "package_with_tests": {
        "shapes/__init__.py": "from shapes.area import circle, square\n",
        "shapes/area.py": (
            "import math\n\n\ndef square(side):\n    return side * side\n\n\n"
            "def circle(radius):\n    return math.pi * radius**2\n"
        ),
        "tests/test_area.py": """
            import math

            from shapes.area import circle, square


            def test_square():
                assert square(3) == 9


            def test_circle():
                assert circle(1) == math.pi
        """,
    },
    "fix_and_extend": {
        "stats.py": """
            def mean(values):
                return sum(values) / len(values)


            def median(values):
                ordered = sorted(values)
                mid = len(ordered) // 2
                if len(ordered) % 2:
                    return ordered[mid]
                return (ordered[mid - 1] + ordered[mid]) / 2
        """,
        "tests/test_stats.py": """
            from stats import mean, median


            def test_mean():
                assert mean([1, 2, 3]) == 2


            def test_median():
                assert median([3, 1, 2]) == 2
        """,
    },
    "two_files": {
        "greet.py": "def hello(name):\n    return f'Hello, {name}!'\n\n\ndef goodbye(name):\n    return f'Goodbye, {name}!'\n",
        "main.py": "from greet import goodbye, hello\n\nprint(hello('Ann'))\nprint(goodbye('Ann'))\n",
    },
}

# (task, files changed from the good solution, a phrase the failure must contain)
BAD: list[tuple[str, dict[str, str | None], str]] = [
    ("calc_tests", {"tests/test_calc.py": None}, "tests/test_calc.py does not exist"),
    (
        "calc_tests",
        {"calc.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return b - a\n"},
        "behaviour check failed",
    ),
    (
        "calc_tests",
        {"tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 1) == 2\n"},
        "does not test sub",
    ),
    ("calc_tests", {"calc.py": "def add(a, b):\n    return a +\n"}, "calc.py does not parse"),
    ("cli_verbose", {"README.md": "# greet\n\nUsage: `python cli.py NAME`\n"}, "does not document --verbose"),
    (
        "cli_verbose",
        {"cli.py": "import sys\nprint('verbose mode on')\nprint(f'Hello, {sys.argv[1]}!')\n"},
        "`python cli.py Ann` gave exit 0",
    ),
    (
        "rename_function",
        {"orders.py": "from pricing import compute\n\n\ndef order_total(order):\n    return 0\n"},
        "orders.py still uses compute",
    ),
    (
        "rename_function",
        {"orders.py": "import pricing\n\n\ndef order_total(order):\n    return pricing.total_price([])\n"},
        "pytest failed",
    ),
    ("package_with_tests", {"shapes/__init__.py": None}, "shapes/__init__.py does not exist"),
    (
        "package_with_tests",
        {"shapes/area.py": "def square(side):\n    return side * side\n"},
        "does not define circle",
    ),
    (
        # Tests the model wrote to match its own wrong code: pytest passes, the hidden assertions do not.
        "fix_and_extend",
        {
            "stats.py": "def mean(v):\n    return sum(v) / (len(v) - 1)\n\n\ndef median(v):\n    return sorted(v)[len(v) // 2]\n",
            "tests/test_stats.py": (
                "from stats import mean, median\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 3\n\n\n"
                "def test_median():\n    assert median([3, 1, 2]) == 2\n"
            ),
        },
        "behaviour check failed",
    ),
    (
        "two_files",
        {"main.py": "from greet import goodbye, hello\n\nprint(hello('Ann'), goodbye('Ann'))\n"},
        "`python main.py` gave exit 0",
    ),
]


@pytest.fixture(autouse=True)
def _fast_inner_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def make(task: PlanTask, root: Path, changes: dict[str, str | None]) -> Path:
    task.build(root)
    for rel, text in {**GOOD[task.name], **changes}.items():
        path = root / rel
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def test_every_task_has_a_good_solution() -> None:
    assert set(GOOD) == set(BY_NAME)
    assert 5 <= len(TASKS) <= 8


@pytest.mark.parametrize("name", sorted(GOOD))
def test_the_right_solution_passes(tmp_path: Path, name: str) -> None:
    task = BY_NAME[name]
    assert task.check(make(task, tmp_path / "p", {})) == []


@pytest.mark.parametrize("name", sorted(GOOD))
def test_the_untouched_project_fails(tmp_path: Path, name: str) -> None:
    task = BY_NAME[name]
    root = tmp_path / "p"
    task.build(root)
    assert task.check(root), f"{name}: the starting project must not already pass"


@pytest.mark.parametrize(("name", "changes", "reason"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_a_wrong_solution_fails_for_its_reason(
    tmp_path: Path, name: str, changes: dict[str, str | None], reason: str
) -> None:
    problems = BY_NAME[name].check(make(BY_NAME[name], tmp_path / "p", changes))
    assert any(reason in p for p in problems), problems
