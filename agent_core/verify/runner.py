"""Run a project's tests and say what really happened: how many ran, passed and failed, and why they failed.

pytest runs with a JUnit XML report, so counts and failure messages come from data rather than from scraping
its console; unittest and other runners are read from their summary lines. A run that executed zero tests is
`no_tests`, never a pass. Failures are condensed for a small context window: the failing test ids, each with the
test's own code up to the line that failed, the assertion or exception line, expected vs actual — about
1,500 characters at most.
"""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import tempfile
import textwrap
import tokenize
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agent_core.config import Settings
from agent_core.planning.validate import run_command
from agent_core.python_ast import parse_module
from agent_core.safety import sandbox
from agent_core.tools.shell import shell_env

Status = Literal["passed", "failed", "no_tests", "timeout", "unavailable", "error"]

FEEDBACK_CHARS = 1500
"""Failure text sent to the model after a check: enough for the ids and the first assertions."""
TAIL_CHARS = 2000
"""Output kept in RunResult.checks.output_tail."""
_PYTEST_FILES = "test_*.py *_test.py"
TEST_CODE_LINES = 10
"""A failing test's own code is shown with its failure, up to this many lines (the ones ending at the line that
failed). The 1.5B model, told only `assert [[1, 4], [3, 4]] == [[3, 4], [1, 3]]` with the test file far above,
kept sorting the caller's list in place: the test's `merge_intervals(data)` before the assert says why."""
_MAX_TEST_FILE = 200_000
_ZERO_TESTS = re.compile(
    r"\b(Ran 0 tests|NO TESTS RAN|running 0 tests|no tests (found|ran|to run)|0 passing|"
    r"No tests found|testing: warning: no tests to run|0 examples)\b",
    re.IGNORECASE,
)


@dataclass
class TestRun:
    command: str
    status: Status
    passed: int = 0
    failed: int = 0
    output_tail: str = ""
    failures: list[str] = field(default_factory=list)
    """One condensed entry per failing test: its id and the lines that say why."""
    passing_ids: set[str] = field(default_factory=set)
    """Ids of the tests that passed, where the runner names them (pytest): to see what an edit broke."""
    failing_ids: set[str] = field(default_factory=set)
    """Ids of the tests that failed, where the runner names them (pytest)."""
    collection_errors: int = 0
    """Test files that could not even be imported (pytest's "collection failure"): their tests never ran."""

    @property
    def ran(self) -> int:
        return self.passed + self.failed

    def feedback(self, limit: int = FEEDBACK_CHARS) -> str:
        """The failures as the model should see them, within `limit` characters."""
        if self.status == "timeout":
            return (
                f"The tests did not finish in time (`{self.command}`): look for an endless loop.\n"
                + _tail(self.output_tail, limit // 2)
            )
        if self.status == "no_tests":
            return f"No tests ran (`{self.command}`)."
        if not self.failures:
            return _tail(self.output_tail, limit)
        head = f"{self.failed} failing, {self.passed} passing (`{self.command}`):"
        if self.collection_errors:
            head = f"The tests could not import the code: {self.collection_errors} test file(s) failed on import (`{self.command}`):"
        out, used = [head], len(head)
        for i, entry in enumerate(self.failures):
            if used + len(entry) + 1 > limit and i > 0:
                out.append(f"… and {len(self.failures) - i} more failing.")
                break
            out.append(entry[: limit - used] if i == 0 else entry)
            used += len(entry) + 1
        return "\n".join(out)


def python_has_pytest(root: Path, settings: Settings | None = None) -> bool:
    """Whether the project's `python` can import pytest (pytest collects unittest classes too)."""
    return _has_module(root, "pytest", settings)


_MODULE_CACHE: dict[tuple[str, str], bool] = {}


def _has_module(root: Path, module: str, settings: Settings | None = None) -> bool:
    python = shutil.which("python") or shutil.which("python3")
    if python is None:
        return False
    key = (python, module)
    if key not in _MODULE_CACHE:
        import subprocess

        # Python runs in the workspace (a `pytest.py` there, a .pth the model installed into a venv): confined
        # as the test run itself is (validate.run_command).
        argv = [python, "-c", f"import {module}"]
        try:
            if settings is not None:
                argv = sandbox.wrap_command(argv, root, settings)
            done = subprocess.run(
                argv,
                cwd=root,
                env=shell_env(settings.shell_env_pass if settings is not None else ()),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=30,
                check=False,
            )
            _MODULE_CACHE[key] = done.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _MODULE_CACHE[key] = False
        except sandbox.SandboxError:
            return False  # not cached: the test run will say why it cannot run
    return _MODULE_CACHE[key]


def plan_command(
    root: Path, detected: str | None, scope: list[str], python_tests: bool, settings: Settings | None = None
) -> tuple[str, str]:
    """(kind, command) for a test run over `scope` (all tests when empty): kind is pytest, unittest or other.

    Python tests run under pytest whenever it is importable: `python -m unittest` alone discovers only
    `test*.py`, so a suite in `calc_test.py` would "pass" having run nothing."""
    command = (detected or "").strip()
    py_scope = [s for s in scope if s.endswith(".py")]
    if "pytest" in command:
        return "pytest", _with_scope(command, py_scope)
    wants_python = python_tests and (not command or "unittest" in command or command.startswith("python"))
    if wants_python and python_has_pytest(root, settings):
        return "pytest", _with_scope("python -m pytest", py_scope)
    if wants_python:
        if py_scope:
            modules = " ".join(shlex.quote(s[:-3].replace("/", ".")) for s in py_scope)
            return "unittest", f"python -m unittest {modules}"
        return "unittest", "python -m unittest discover -p '*test*.py'"
    return "other", command


def _with_scope(command: str, scope: list[str]) -> str:
    return command + "".join(" " + shlex.quote(s) for s in scope)


def _pytest_configures_files(root: Path) -> bool:
    for name in ("pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini"):
        try:
            if "python_files" in (root / name).read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    return False


async def run_tests(
    root: Path, kind: str, command: str, timeout: float, *, settings: Settings | None = None
) -> TestRun:
    """Run one test command and read what happened: the model's tests, so as the model's shell runs
    (with `settings`, in their sandbox; see validate.run_command)."""
    if kind == "pytest":
        return await _run_pytest(root, command, timeout, settings)
    result = await run_command(command, root, timeout, max_output=TAIL_CHARS * 3, settings=settings)
    if result.exit_code is None:
        return TestRun(command, "timeout", output_tail=_tail(result.output, TAIL_CHARS))
    last_line = result.output.strip().splitlines()[-1] if result.output.strip() else ""
    if result.exit_code == 127 or last_line.startswith("No module named"):
        return TestRun(command, "unavailable", output_tail=_tail(result.output, TAIL_CHARS))
    if kind == "unittest":
        return _read_unittest(command, result.exit_code, result.output, root)
    if _ZERO_TESTS.search(result.output):
        return TestRun(command, "no_tests", output_tail=_tail(result.output, TAIL_CHARS))
    if result.exit_code == 0:
        return TestRun(
            command, "passed", passed=_count_passed(result.output), output_tail=_tail(result.output)
        )
    return TestRun(
        command,
        "failed",
        failed=max(1, _count_failed(result.output)),
        output_tail=_tail(result.output, TAIL_CHARS),
    )


async def _run_pytest(root: Path, command: str, timeout: float, settings: Settings | None) -> TestRun:
    with tempfile.TemporaryDirectory(prefix="smallcode-junit-") as tmp:
        report = Path(tmp) / "report.xml"
        words = shlex.split(command)
        at = words.index("pytest") + 1 if "pytest" in words else len(words)
        # xunit1: each testcase in the report says its file and line, so a failure can be shown with its code.
        flags = [
            "-q",
            "--tb=short",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            "-o",
            "junit_family=xunit1",
        ]
        if not _pytest_configures_files(root):
            flags += ["-o", f"python_files={_PYTEST_FILES}"]
        full = shlex.join([*words[:at], *flags, *words[at:]])
        # The report's folder is made writable inside the sandbox (its /tmp is private).
        result = await run_command(
            full, root, timeout, max_output=TAIL_CHARS * 3, settings=settings, writable=[Path(tmp)]
        )
        tail = _tail(result.output, TAIL_CHARS)
        if result.exit_code is None:
            return TestRun(command, "timeout", output_tail=tail)
        if result.exit_code == 127 or "No module named pytest" in result.output:
            return TestRun(command, "unavailable", output_tail=tail)
        if result.exit_code == 5:
            return TestRun(command, "no_tests", output_tail=tail)
        run = _read_junit(command, report, tail, root) if report.is_file() else None
    if run is None:  # no report: usage error or a crash before collection
        return TestRun(command, "error", failed=1, output_tail=tail, failures=[_tail(result.output, 600)])
    if run.collection_errors:
        # An import that breaks (e.g. example code at module level that raises) hides every test of the file:
        # the run broke, whatever the counts say, so an edit that causes it is worse than failing tests.
        run.status = "error"
    elif run.ran == 0:
        run.status = "no_tests"
    elif run.failed or result.exit_code != 0:
        run.status = "failed"
        run.failed = max(run.failed, 1)
    return run


def _read_junit(command: str, report: Path, tail: str, root: Path) -> TestRun | None:
    try:
        tree = ET.parse(report)
    except (ET.ParseError, OSError):
        return None
    run = TestRun(command, "passed", output_tail=tail)
    sources: dict[Path, _Source | None] = {}  # each test file read and parsed once per report
    for case in tree.iter("testcase"):
        problem = next((c for c in case if c.tag in ("failure", "error")), None)
        skipped = any(c.tag == "skipped" for c in case)
        if problem is not None:
            run.failed += 1
            run.collection_errors += int(
                problem.tag == "error" and problem.get("message") == "collection failure"
            )
            run.failures.append(_condense_case(case, problem, root, sources))
            run.failing_ids.add(_case_id(case))
        elif not skipped:
            run.passed += 1
            run.passing_ids.add(_case_id(case))
    return run


def _case_id(case: ET.Element) -> str:
    classname = case.get("classname") or ""
    name = case.get("name") or "?"
    return f"{classname}::{name}" if classname else name


def _condense_case(
    case: ET.Element, problem: ET.Element, root: Path, sources: dict[Path, _Source | None]
) -> str:
    test_id = _case_id(case)
    text = problem.text or ""
    detail = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    cut = next((i for i, d in enumerate(detail[:6]) if i and d.startswith("Full diff:")), None)
    if cut is not None:  # pytest's full diff, cut short below, is noise after the lines saying what differs
        detail = detail[:cut]
    where = [_frame(line) for line in text.splitlines() if re.match(r"^\S+\.py:\d+", line.strip())]
    lines = [f"- {test_id}"]
    code = _test_code(root, case, where, sources)
    if code:
        lines += ["    " + c for c in code]
    if detail:
        lines += ["    " + ("E " if code else "") + d for d in detail[:6] if d]
    else:
        lines.append("    " + (problem.get("message") or text.strip().splitlines()[-1:] or ["failed"])[0])
    raised_elsewhere = where and Path(where[-1][0]).name != Path(case.get("file") or "").name
    if where and (not code or raised_elsewhere):  # where the code under test raised, beside the test's code
        lines.append("    at " + where[-1][2][:160])
    return "\n".join(line[:240] for line in lines)


@dataclass
class _Source:
    """A test file as Python reads it: its lines and its syntax tree."""

    lines: list[str]
    tree: ast.Module


def _frame(line: str) -> tuple[str, int, str]:
    """A traceback line of pytest's short form (`tests/test_x.py:12: in test_y`): file, line number, the text."""
    text = line.strip()
    name, _, rest = text.partition(":")
    number = rest.split(":", 1)[0]
    return name, int(number) if number.isdigit() else 0, text


def _read_source(root: Path, path: Path) -> _Source | None:
    try:
        if not path.is_relative_to(root.resolve()) or path.stat().st_size > _MAX_TEST_FILE:
            return None
        with tokenize.open(path) as handle:  # the file's declared encoding, as Python reads it
            source = handle.read()
        return _Source(source.splitlines(), parse_module(source, str(path)))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None


def _test_code(
    root: Path, case: ET.Element, where: list[tuple[str, int, str]], sources: dict[Path, _Source | None]
) -> list[str]:
    """The failing test's code (from the report's file and line), ending at the line that failed: what the test
    did to get there. Empty when the test's file cannot be read or is not Python."""
    file, line = case.get("file") or "", case.get("line") or ""
    if not file.endswith(".py") or not line.isdigit():
        return []
    path = (root / file).resolve()
    source = _cached_source(root, path, sources)
    if source is None:
        return []
    start = int(line) + 1  # the report counts lines from 0
    test = _function(source, lambda node: start in (node.lineno, *(d.lineno for d in node.decorator_list)))
    if test is None or test.end_lineno is None:
        return []
    end = test.end_lineno  # from `def`: a parametrized test's values are in its id
    # The traceback's line inside this test: the assert, or the call that raised.
    for name, number, _ in where:
        if Path(name).name == path.name and test.lineno <= number <= test.end_lineno:
            end = number
    return _show_test(file, source, test.lineno, end)


def _function(
    source: _Source, wanted: Callable[[ast.FunctionDef | ast.AsyncFunctionDef], bool]
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The first function or method of the file that `wanted` accepts."""
    return next(
        (
            node
            for node in ast.walk(source.tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and wanted(node)
        ),
        None,
    )


def _cached_source(root: Path, path: Path, sources: dict[Path, _Source | None]) -> _Source | None:
    if path not in sources:
        sources[path] = _read_source(root, path)
    return sources[path]


def _show_test(file: str, source: _Source, first: int, end: int) -> list[str]:
    """Lines `first` (the `def`) to `end` (where it failed) of a test, at most TEST_CODE_LINES: the `def`, an
    indented "...", and the lines before the failure."""
    text = source.lines[first - 1 : end]
    if len(text) > TEST_CODE_LINES:
        body = text[1]
        text = [text[0], body[: len(body) - len(body.lstrip())] + "..."] + text[-(TEST_CODE_LINES - 2) :]
    return [f"{file}:{first}:", *textwrap.dedent("\n".join(text)).splitlines()]


_UNITTEST_BLOCK = re.compile(r"^(FAIL|ERROR): (\S+) \(([^)]*)\)", re.MULTILINE)
_UNITTEST_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+)(?:, in (\S+))?', re.MULTILINE)
_UNITTEST_END = re.compile(r"^(-{20,}|={20,})$", re.MULTILINE)


def _read_unittest(command: str, exit_code: int, output: str, root: Path) -> TestRun:
    tail = _tail(output, TAIL_CHARS)
    ran = re.search(r"^Ran (\d+) tests?", output, re.MULTILINE)
    total = int(ran.group(1)) if ran else 0
    if ran is None and exit_code != 0 and "Traceback" in output:
        # unittest itself died (a module named on its command line raised SyntaxError while importing): the run
        # broke, it did not find "no tests" — that would let a final answer through unverified.
        crash = _condense_unittest("the test run (it broke before any test ran)", "", output, root, {})
        return TestRun(command, "error", failed=1, output_tail=tail, failures=[crash])
    if total == 0 or "NO TESTS RAN" in output:
        return TestRun(command, "no_tests", output_tail=tail)
    bad = re.search(r"FAILED \(([^)]*)\)", output)
    failed = sum(int(n) for n in re.findall(r"(?:failures|errors)=(\d+)", bad.group(1))) if bad else 0
    if exit_code != 0:
        failed = max(failed, 1)
    failures = []
    sources: dict[Path, _Source | None] = {}
    blocks = list(_UNITTEST_BLOCK.finditer(output))
    for i, match in enumerate(blocks):
        end = blocks[i + 1].start() if i + 1 < len(blocks) else len(output)
        body = _UNITTEST_END.sub("", output[match.end() : end].lstrip("\n"), count=1)  # the header's rule
        stop = _UNITTEST_END.search(body)
        body = body[: stop.start()] if stop else body
        name, where = match.group(2), match.group(3)
        test_id = where if where.endswith("." + name) else f"{where}.{name}"
        failures.append(_condense_unittest(test_id, name, body, root, sources))
    status: Status = "failed" if failed else "passed"
    return TestRun(command, status, passed=total - failed, failed=failed, output_tail=tail, failures=failures)


def _condense_unittest(
    test_id: str, name: str, body: str, root: Path, sources: dict[Path, _Source | None]
) -> str:
    """One unittest failure as pytest's are shown: the id, the test's code up to the line that failed, the
    exception (with the lines of its message, e.g. assertEqual's diff), and where it was raised if elsewhere."""
    matches = list(_UNITTEST_FRAME.finditer(body))
    frames = [(m.group(1), int(m.group(2)), m.group(3) or "") for m in matches]
    lines = [f"- {test_id}"]
    code = _unittest_code(root, name, frames, sources)
    lines += ["    " + c for c in code]
    # The exception: the text after the last frame's source line, to the end of the block.
    rest = body.splitlines()
    if matches:
        rest = body[matches[-1].end() :].splitlines()[1:]
        while rest and rest[0][:1].isspace():  # the frame's line of code, and Python's ^^^ marks under it
            rest.pop(0)
    detail = [line.rstrip() for line in rest if line.strip()]
    lines += ["    " + ("E " if code else "") + d for d in detail[:6]] or ["    failed"]
    if frames and (not code or frames[-1][2] != name):  # raised in the code under test
        file, number, func = frames[-1]
        lines.append(f"    at {Path(file).name}:{number}" + (f": in {func}" if func else ""))
    return "\n".join(line[:240] for line in lines)


def _unittest_code(
    root: Path, name: str, frames: list[tuple[str, int, str]], sources: dict[Path, _Source | None]
) -> list[str]:
    """The failing test method's code, from the traceback's frame inside it (the innermost one named as the
    test), up to the line that failed."""
    frame = next((f for f in reversed(frames) if f[2] == name and f[0].endswith(".py")), None)
    if not name or frame is None:
        return []
    file, number, _ = frame
    path = (Path(file) if Path(file).is_absolute() else root / file).resolve()
    source = _cached_source(root, path, sources)
    if source is None:
        return []
    test = _function(
        source,
        lambda node: (
            node.name == name and node.end_lineno is not None and node.lineno <= number <= node.end_lineno
        ),
    )
    if test is None:
        return []
    return _show_test(path.relative_to(root.resolve()).as_posix(), source, test.lineno, number)


def _count_passed(output: str) -> int:
    numbers = re.findall(r"(\d+) (?:passed|passing|tests? passed)", output)
    ok = re.search(r"^ok\s", output, re.MULTILINE)
    return sum(int(n) for n in numbers) or (1 if ok else 0)


def _count_failed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"(\d+) (?:failed|failing|failures?)\b", output))


def _tail(text: str, limit: int = TAIL_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]
