"""`smallcode bench plan`: multi-step tasks run with planning off and on, against one embedded model server.

Each task gets a fresh project (built here, in a temporary directory) and runs twice: "off" (SMALLCODE_PLAN_DISABLE:
no plan instruction, no plan/todo tools) and "on" (SMALLCODE_PLAN: the model is told to plan first and mark
steps done; each step's check runs). Success is decided by the suite, never by the model's own claim: the files
must parse and define the required symbols (ast), hidden assertions run against the code in a subprocess, and
the project's tests must pass under pytest.

Figures: successes per arm and their difference (on − off), turns, tool calls, tokens and wall time per arm, and
a per-task table. Temperature 0 for the first try of every turn, so a rerun on the same machine repeats itself.
The bar: planning does not lose tasks (on ≥ off). With no engine or model installed, the report says so.

Model and turns: as for every model-driven suite (agent_core/bench/runner.py): SMALLCODE_BENCH_MODEL, else
SMALLCODE_EMBEDDED_MODEL; SMALLCODE_GGUF; SMALLCODE_BENCH_MAX_TURNS (12).
"""

from __future__ import annotations

import ast
import asyncio
import re
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_core.bench.report import BenchReport
from agent_core.bench.runner import (
    MAX_TURNS,
    Status,
    Unavailable,
    agent_settings,
    bench_settings,
    model_endpoint,
    model_label,
    run_agent,
    run_command,
)
from agent_core.config import ConfigError, Settings
from agent_core.llm.types import ModelError
from agent_core.python_ast import parse_module

RUN_TIMEOUT = 420.0
"""Wall seconds one run may take before it is abandoned (counted as a failure)."""
ARMS = ("off", "on")

_PYPROJECT = """\
[project]
name = "{name}"
version = "0.1.0"

[tool.pytest.ini_options]
pythonpath = ["."]
"""


# --- checks -------------------------------------------------------------------------------------------


class Problems(list[str]):
    """What a check found wrong (empty: the task succeeded)."""


def parse(root: Path, rel: str, problems: Problems) -> ast.Module | None:
    path = root / rel
    if not path.is_file():
        problems.append(f"{rel} does not exist")
        return None
    try:
        return parse_module(path.read_text(encoding="utf-8"), filename=rel)
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{rel} does not parse: {exc}")
        return None


def top_functions(tree: ast.Module) -> set[str]:
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def names_used(tree: ast.AST) -> set[str]:
    """Every name read, attribute accessed or imported in a tree."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.alias):
            out.add((node.asname or node.name).split(".")[-1])
            out.add(node.name.split(".")[-1])
    return out


def require_functions(root: Path, rel: str, names: tuple[str, ...], problems: Problems) -> ast.Module | None:
    tree = parse(root, rel, problems)
    if tree is not None:
        missing = [n for n in names if n not in top_functions(tree)]
        if missing:
            problems.append(f"{rel} does not define {', '.join(missing)}")
    return tree


def require_tests(root: Path, rel: str, uses: tuple[str, ...], problems: Problems, minimum: int = 2) -> None:
    """A test file with at least `minimum` test functions that call every name in `uses`."""
    tree = parse(root, rel, problems)
    if tree is None:
        return
    tests = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    if len(tests) < minimum:
        problems.append(f"{rel} has {len(tests)} test function(s), {minimum} wanted")
    called = {
        c.func.id if isinstance(c.func, ast.Name) else c.func.attr
        for t in tests
        for c in ast.walk(t)
        if isinstance(c, ast.Call) and isinstance(c.func, ast.Name | ast.Attribute)
    }
    untested = [u for u in uses if u not in called]
    if untested:
        problems.append(f"{rel} does not test {', '.join(untested)}")


def require_python(root: Path, code: str, problems: Problems) -> None:
    """Hidden assertions against the project's code, in a fresh interpreter started in the project."""
    code = textwrap.dedent(code)
    rc, out = run_command(root, [sys.executable, "-c", code])
    if rc != 0:
        last = out.splitlines()[-1] if out else f"exit code {rc}"
        problems.append(f"behaviour check failed: {last[:200]}")


_PASSED = re.compile(r"(\d+) passed")


def require_pytest(root: Path, problems: Problems, minimum: int = 1) -> None:
    rc, out = run_command(root, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    passed = int(m.group(1)) if (m := _PASSED.search(out)) else 0
    if rc != 0:
        summary = out.splitlines()[-1] if out else f"exit code {rc}"
        problems.append(f"pytest failed: {summary[:200]}")
    elif passed < minimum:
        problems.append(f"pytest ran {passed} passing test(s), {minimum} wanted")


# --- tasks --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanTask:
    name: str
    prompt: str
    files: dict[str, str]
    check: Callable[[Path], Problems]

    def build(self, root: Path) -> None:
        """A fresh project: a pyproject.toml (pytest finds top-level modules) and the task's own files."""
        root.mkdir(parents=True, exist_ok=False)
        (root / "pyproject.toml").write_text(_PYPROJECT.format(name=self.name.replace("_", "-")))
        for rel, text in self.files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def _check_calc(root: Path) -> Problems:
    p = Problems()
    require_functions(root, "calc.py", ("add", "sub"), p)
    require_tests(root, "tests/test_calc.py", ("add", "sub"), p)
    if not p:
        require_python(root, "from calc import add, sub\nassert add(2, 3) == 5\nassert sub(5, 3) == 2", p)
        require_pytest(root, p, minimum=2)
    return p


def _check_cli(root: Path) -> Problems:
    p = Problems()
    if parse(root, "cli.py", p) is None:
        return p
    rc, out = run_command(root, [sys.executable, "cli.py", "Ann", "--verbose"])
    if rc != 0 or "verbose mode on" not in out.lower() or "Hello, Ann!" not in out:
        p.append(f"`python cli.py Ann --verbose` gave exit {rc}: {out[-160:]!r}")
    rc, out = run_command(root, [sys.executable, "cli.py", "Ann"])
    if rc != 0 or "verbose" in out.lower() or "Hello, Ann!" not in out:
        p.append(f"`python cli.py Ann` gave exit {rc}: {out[-160:]!r}")
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8", errors="replace") if readme.is_file() else ""
    if "--verbose" not in text:
        p.append("README.md does not document --verbose")
    if "python cli.py" not in text:
        p.append("README.md lost its usage line")
    return p


def _check_rename(root: Path) -> Problems:
    p = Problems()
    pricing = require_functions(root, "pricing.py", ("total_price",), p)
    if pricing is not None and "compute" in top_functions(pricing):
        p.append("pricing.py still defines compute")
    orders = parse(root, "orders.py", p)
    if orders is not None:
        used = names_used(orders)
        if "compute" in used:
            p.append("orders.py still uses compute")
        if "total_price" not in used:
            p.append("orders.py does not use total_price")
    if not p:
        require_python(root, "from pricing import total_price\nassert total_price([1, 2]) == 3", p)
        require_pytest(root, p, minimum=1)
    return p


def _check_package(root: Path) -> Problems:
    p = Problems()
    parse(root, "shapes/__init__.py", p)
    require_functions(root, "shapes/area.py", ("square", "circle"), p)
    require_tests(root, "tests/test_area.py", ("square", "circle"), p)
    if not p:
        code = """
            import math
            from shapes.area import circle, square
            assert square(3) == 9
            assert abs(circle(2) - math.pi * 4) < 1e-6
        """
        require_python(root, code, p)
        require_pytest(root, p, minimum=2)
    return p


def _check_stats(root: Path) -> Problems:
    p = Problems()
    require_functions(root, "stats.py", ("mean", "median"), p)
    require_tests(root, "tests/test_stats.py", ("mean", "median"), p)
    if not p:
        code = """
            from stats import mean, median
            assert mean([1, 2, 3]) == 2
            assert mean([4]) == 4
            assert median([3, 1, 2]) == 2
            assert median([4, 1, 3, 2]) == 2.5
        """
        require_python(root, code, p)
        require_pytest(root, p, minimum=2)
    return p


def _check_greet(root: Path) -> Problems:
    p = Problems()
    require_functions(root, "greet.py", ("hello", "goodbye"), p)
    main = parse(root, "main.py", p)
    if main is not None and not {"hello", "goodbye"} <= names_used(main):
        p.append("main.py does not use both hello and goodbye")
    if not p:
        require_python(root, "from greet import goodbye, hello\nassert goodbye('Bo') == 'Goodbye, Bo!'", p)
        rc, out = run_command(root, [sys.executable, "main.py"])
        if rc != 0 or out.splitlines() != ["Hello, Ann!", "Goodbye, Ann!"]:
            p.append(f"`python main.py` gave exit {rc}: {out[-160:]!r}")
    return p


TASKS: tuple[PlanTask, ...] = (
    PlanTask(
        "calc_tests",
        "Create calc.py with two functions, add(a, b) and sub(a, b). Then write tests/test_calc.py with pytest "
        "tests for both functions. Then run the tests and make them pass.",
        {},
        _check_calc,
    ),
    PlanTask(
        "cli_verbose",
        "Add a --verbose flag to cli.py: when it is given, main() prints 'verbose mode on' before the greeting. "
        "Then document the --verbose flag in README.md.",
        {
            "cli.py": """
                import argparse


                def main(argv=None):
                    parser = argparse.ArgumentParser(description="Greet someone.")
                    parser.add_argument("name")
                    args = parser.parse_args(argv)
                    print(f"Hello, {args.name}!")
                    return 0


                if __name__ == "__main__":
                    raise SystemExit(main())
            """,
            "README.md": """
                # greet

                Prints a greeting.

                Usage: `python cli.py NAME`
            """,
        },
        _check_cli,
    ),
    PlanTask(
        "rename_function",
        "Rename the function compute in pricing.py to total_price, and update orders.py, which imports and "
        "calls it, to use the new name. The tests in tests/test_orders.py must still pass.",
        {
            "pricing.py": '''
                def compute(prices):
                    """The sum of the prices."""
                    return sum(prices)
            ''',
            "orders.py": """
                from pricing import compute


                def order_total(order):
                    return compute(item["price"] for item in order)
            """,
            "tests/test_orders.py": """
                from orders import order_total


                def test_order_total():
                    assert order_total([{"price": 2}, {"price": 3}]) == 5
            """,
        },
        _check_rename,
    ),
    PlanTask(
        "package_with_tests",
        "Create a Python package shapes: shapes/__init__.py, and shapes/area.py with functions square(side) "
        "returning side * side and circle(radius) returning math.pi * radius ** 2. Then write tests/test_area.py "
        "testing both functions, run the tests and make them pass.",
        {},
        _check_package,
    ),
    PlanTask(
        "fix_and_extend",
        "In stats.py, fix mean(), which returns wrong results, and add a function median(values) that returns "
        "the middle value (the average of the two middle values for an even count). Then add tests for both "
        "in tests/test_stats.py and make them pass.",
        {
            "stats.py": '''
                def mean(values):
                    """The arithmetic mean of a non-empty list of numbers."""
                    return sum(values) / (len(values) - 1)
            ''',
        },
        _check_stats,
    ),
    PlanTask(
        "two_files",
        "Add a function goodbye(name) to greet.py that returns 'Goodbye, NAME!' the way hello does. Then "
        "create main.py that imports both functions and, when run, prints hello('Ann') and goodbye('Ann') "
        "on two lines.",
        {
            "greet.py": """
                def hello(name):
                    return f"Hello, {name}!"
            """,
        },
        _check_greet,
    ),
)


# --- running ------------------------------------------------------------------------------------------


@dataclass
class Arm:
    """Totals for one arm (planning off or on)."""

    succeeded: int = 0
    turns: int = 0
    tool_calls: int = 0
    tokens: int = 0
    seconds: float = 0.0
    plans: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.succeeded += row["success"]
        self.turns += row["turns"]
        self.tool_calls += row["tool_calls"]
        self.tokens += row["tokens"]
        self.seconds += row["seconds"]
        self.plans += row["plan_made"]


def arm_settings(base: Settings, on: bool, base_url: str, model: str, max_turns: int) -> Settings:
    """The agent's settings for one arm: only planning differs between the arms."""
    return agent_settings(base, base_url, model, max_turns, plan=on, plan_disable=not on, test_disable=False)


async def run_task(
    task: PlanTask, on: bool, settings: Settings, workdir: Path, timeout: float = RUN_TIMEOUT
) -> dict[str, Any]:
    arm = ARMS[on]
    root = workdir / f"{task.name}-{arm}"
    task.build(root)
    done = await run_agent(root, task.prompt, settings, timeout)
    problems = await asyncio.to_thread(task.check, root)
    return {
        "task": task.name,
        "arm": arm,
        "success": not problems,
        "problems": list(problems),
        "agent_done": done.result.success,
        "plan_made": done.plan_made,
        "turns": done.result.turns,
        "tool_calls": len(done.result.tool_calls),
        "tokens": done.result.usage.total_tokens,
        "seconds": round(done.seconds, 1),
        "response": done.response[:300],
    }


async def run_suite(
    settings: Settings,
    *,
    base_url: str | None = None,
    model: str | None = None,
    tasks: tuple[PlanTask, ...] = TASKS,
    max_turns: int = MAX_TURNS,
    status: Status | None = None,
    workdir: Path | None = None,
    timeout: float = RUN_TIMEOUT,
) -> BenchReport:
    """Every task with planning off, then on. Without `base_url`, one embedded server is started for all runs.

    `workdir` keeps the projects (and their traces) there instead of in a deleted temporary directory."""
    say = status or (lambda _text: None)
    started = time.monotonic()
    label = model_label(settings, base_url, model)
    try:
        async with model_endpoint(settings, base_url, model, say) as endpoint:
            with tempfile.TemporaryDirectory(prefix="smallcode-bench-plan-") as tmp:
                where = workdir or Path(tmp)
                arms = {name: Arm() for name in ARMS}
                total = len(tasks) * len(ARMS)
                for i, task in enumerate(tasks):
                    for on in (False, True):
                        say(f"[{2 * i + on + 1}/{total}] {task.name}, planning {ARMS[on]}…")
                        cfg = arm_settings(
                            endpoint.settings, on, endpoint.base_url, endpoint.model, max_turns
                        )
                        row = await run_task(task, on, cfg, where, timeout)
                        arms[ARMS[on]].add(row)
                        say(f"  {'succeeded' if row['success'] else 'failed'} in {row['seconds']:.0f} s")
    except Unavailable as exc:
        return _failed(str(exc))
    except (ModelError, ConfigError, OSError) as exc:
        return _failed(f"the plan benchmark could not run: {exc}")
    wall = time.monotonic() - started
    return _report(arms, tasks, label, max_turns, wall)


def _failed(message: str) -> BenchReport:
    return BenchReport(suite="plan", ok=False, figures={"error": message}, text=f"plan benchmark: {message}")


def _report(
    arms: dict[str, Arm], tasks: tuple[PlanTask, ...], model: str, max_turns: int, wall: float
) -> BenchReport:
    off, on = arms["off"], arms["on"]
    figures: dict[str, Any] = {"model": model, "tasks": len(tasks), "max_turns": max_turns}
    for name, arm in arms.items():
        figures |= {
            f"succeeded_{name}": arm.succeeded,
            f"turns_{name}": arm.turns,
            f"tool_calls_{name}": arm.tool_calls,
            f"tokens_{name}": arm.tokens,
            f"seconds_{name}": round(arm.seconds, 1),
            f"plans_{name}": arm.plans,
        }
    figures["difference"] = on.succeeded - off.succeeded
    figures["wall_seconds"] = round(wall, 1)
    cases = [row for pair in zip(off.rows, on.rows, strict=True) for row in pair]
    return BenchReport(
        suite="plan",
        figures=figures,
        cases=cases,
        text=_table(arms, figures),
        ok=on.succeeded >= off.succeeded,
    )


def _cell(row: dict[str, Any]) -> str:
    mark = "✓" if row["success"] else "✗"
    return f"{mark} {row['turns']:>2}t {row['tool_calls']:>2}c {row['tokens'] / 1000:>5.1f}k {row['seconds']:>4.0f}s"


def _table(arms: dict[str, Arm], figures: dict[str, Any]) -> str:
    n = figures["tasks"]
    diff = figures["difference"]
    lines = [
        f"planning benchmark: {figures['model']}, {n} multi-step tasks, at most {figures['max_turns']} turns each, "
        f"{figures['wall_seconds'] / 60:.1f} min",
        f"succeeded with planning on: {figures['succeeded_on']}/{n}, off: {figures['succeeded_off']}/{n} "
        f"→ {diff:+d} with planning",
        "",
        f"{'arm':<5} {'succeeded':>9} {'turns':>6} {'tool calls':>10} {'tokens':>8} {'time':>7} {'plans':>5}",
    ]
    for name, arm in arms.items():
        lines.append(
            f"{name:<5} {f'{arm.succeeded}/{n}':>9} {arm.turns:>6} {arm.tool_calls:>10} {arm.tokens:>8} "
            f"{arm.seconds:>6.0f}s {arm.plans:>5}"
        )
    lines += ["", f"{'task':<20} {'planning off':<26} {'planning on':<26}"]
    for off_row, on_row in zip(arms["off"].rows, arms["on"].rows, strict=True):
        lines.append(f"{off_row['task']:<20} {_cell(off_row):<26} {_cell(on_row):<26}")
    lines.append("(t = turns, c = tool calls, k = thousand tokens)")
    for row in (r for pair in zip(arms["off"].rows, arms["on"].rows, strict=True) for r in pair):
        if not row["success"]:
            lines.append(f"  ✗ {row['task']} ({row['arm']}): {'; '.join(row['problems'])[:200]}")
    return "\n".join(lines)


def run(cwd: Path) -> BenchReport:
    """The CLI entry: settings from the workspace, the embedded model, progress on stderr."""
    try:
        settings, max_turns = bench_settings(cwd)
    except ConfigError as exc:
        return _failed(str(exc))

    def status(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    return asyncio.run(run_suite(settings, max_turns=max_turns, status=status))
