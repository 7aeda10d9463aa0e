"""The coding tasks of `smallcode bench tasks` and the judge that decides them by running their tests.

Each task is one TOML file in agent_core/bench/data/tasks/ (data, not code: linters, type checkers and the
duplicate finder leave it alone, and the reference solution never lands in a workspace by accident):

    kind = "bug"                   # bug (fix a defect), feature (write a stub or add behaviour), multi (files),
                                   # locate (a defect named by its code, not its file, in a package of several)
    instructions = '''…'''         # the request, as a user would write it; it names the files to change
                                   # (locate: it names none, so the agent has to find the code)
    [files]                        # the project the agent sees: sources and their tests
    "roman.py" = '''…'''
    "test_roman.py" = '''…'''
    [solution]                     # the reference: these files replace the project's to solve it
    "roman.py" = '''…'''

The tests are the project's files named test_*.py or *_test.py. The files the reference changes are the files
the task names (Aider is given exactly these, for a locate task too, although its text names no file). Every task's tests fail on its project and pass with its
reference (tests/bench/test_tasks_data.py checks that).
"""

from __future__ import annotations

import fnmatch
import re
import sys
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from agent_core.bench.runner import CHECK_TIMEOUT, run_command

if TYPE_CHECKING:
    from agent_core.bench.checked import CheckedTask

KINDS = ("bug", "feature", "multi", "locate")
TEST_PATTERNS = ("test_*.py", "*_test.py")
FAILURES_LIMIT = 1500
"""Characters of failing-test output a second try gets: enough for the failing ids, the assertion lines and
expected vs actual, small enough for an 8k window."""


def tasks_dir() -> Any:
    return resources.files("agent_core.bench") / "data" / "tasks"


@dataclass(frozen=True)
class Task:
    name: str
    kind: str
    instructions: str
    files: dict[str, str]
    solution: dict[str, str]

    @property
    def tests(self) -> list[str]:
        return sorted(rel for rel in self.files if is_test_file(rel))

    @property
    def edit_files(self) -> list[str]:
        """The files the task asks to change (those its reference changes)."""
        return sorted(self.solution)

    def build(self, root: Path, *, solved: bool = False) -> None:
        """Write the project into `root` (made if missing); with `solved`, the reference's files too."""
        root.mkdir(parents=True, exist_ok=True)
        for rel, text in {**self.files, **(self.solution if solved else {})}.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def is_test_file(rel: str) -> bool:
    name = PurePosixPath(rel).name
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in TEST_PATTERNS)


def read_task_toml(name: str, text: str) -> dict[str, Any]:
    """A task's TOML data (this suite's and the polyglot suite's); ValueError says what is wrong."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"task {name}: {exc}") from None


def task_contents(name: str, data: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, str]]:
    """A task's instructions, [files] and [solution], checked for what every task needs."""
    instructions = str(data.get("instructions", "")).strip()
    files, solution = data.get("files") or {}, data.get("solution") or {}
    if not instructions or not files or not solution:
        raise ValueError(f"task {name}: instructions, [files] and [solution] are all needed")
    for rel in [*files, *solution]:
        path = PurePosixPath(rel)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"task {name}: {rel} is not a relative path inside the project")
    return instructions, dict(files), dict(solution)


def parse_task(name: str, text: str) -> Task:
    """A task from its TOML text; ValueError says what is wrong with it."""
    data = read_task_toml(name, text)
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValueError(f"task {name}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    instructions, files, solution = task_contents(name, data)
    if not any(is_test_file(rel) for rel in files):
        raise ValueError(f"task {name}: no test file (test_*.py or *_test.py) in [files]")
    if any(is_test_file(rel) for rel in solution):
        raise ValueError(f"task {name}: the reference must not change the tests")
    return Task(name, kind, instructions, files, solution)


def load_tasks(names: list[str] | None = None) -> list[Task]:
    """All tasks by name, or the named ones in the order given; ValueError names any unknown one."""
    found = {
        entry.name.removesuffix(".toml"): entry
        for entry in tasks_dir().iterdir()
        if entry.name.endswith(".toml")
    }
    if names is None:
        names = sorted(found)
    unknown = [n for n in names if n not in found]
    if unknown:
        raise ValueError(f"no task named {', '.join(unknown)}; the tasks are: {', '.join(sorted(found))}")
    return [parse_task(n, found[n].read_text(encoding="utf-8")) for n in names]


# --- judging ------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    passed: bool
    tests: int
    """Tests that ran (skipped ones do not count)."""
    failed: int
    """Tests that failed or errored; a file that does not import counts as one."""
    tests_changed: list[str]
    """Test files the agent had changed or deleted (restored before judging)."""
    output: str
    """pytest's output."""

    @property
    def failures(self) -> str:
        return condense(self.output)


def restore_tests(task: Task | CheckedTask, root: Path) -> list[str]:
    """Put the task's test files back as they were; the ones that had changed or gone."""
    changed = []
    for rel in task.tests:
        path = root / rel
        try:
            same = path.read_text(encoding="utf-8") == task.files[rel]
        except (OSError, UnicodeDecodeError):
            same = False
        if not same:
            changed.append(rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(task.files[rel], encoding="utf-8")
    return changed


def judge(task: Task, root: Path, timeout: float = CHECK_TIMEOUT) -> Verdict:
    """Run the task's own tests, as the task has them, on the code in `root`.

    Nothing the agent wrote can change how they run: the test files are restored first, pytest gets its
    configuration from an empty ini file outside the project (no pyproject, pytest.ini or conftest.py of the
    agent's is read), and the project is not on sys.path before pytest is imported (-P), so a stray
    pytest.py in it cannot stand in for pytest. A run with no test executed is not a pass."""
    changed = restore_tests(task, root)
    with tempfile.TemporaryDirectory(prefix="smallcode-judge-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text(f"[pytest]\npythonpath = {root.resolve()}\n", encoding="utf-8")
        report = Path(tmp) / "report.xml"
        args = [
            sys.executable, "-P", "-m", "pytest", "-q", "--tb=short", "-rfE", "-p", "no:cacheprovider",
            "--noconftest", "-c", str(ini), "--rootdir", str(root.resolve()), f"--junitxml={report}",
            *task.tests,
        ]  # fmt: skip
        code, output = run_command(root, args, timeout)
        tests, failed = _counts(report)
    if code != 0 and failed == 0:
        failed = 1  # a timeout, or pytest could not collect (e.g. a syntax error in the code under test)
    return Verdict(code == 0 and tests > 0 and failed == 0, tests, failed, changed, output)


def _counts(report: Path) -> tuple[int, int]:
    """(tests run, tests failed or errored) from pytest's JUnit XML; (0, 0) when there is none."""
    try:
        root = ET.parse(report).getroot()
    except (OSError, ET.ParseError):
        return 0, 0
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    ran = failed = 0
    for suite in suites:
        total, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        ran += total - skipped
        failed += bad
    return ran, failed


_NOISE = re.compile(r"^(=+ (test session starts|warnings summary) =+|platform |rootdir: |configfile: |plugins: |"
                    r"collected \d+|cachedir: |-- Docs: |[.sFExX]+\s*(\[\s*\d+%\])?$)")  # fmt: skip
_SUMMARY = re.compile(r"^=+ short test summary info =+$")
_RULE = re.compile(r"^([=_!])\1{2,} (.+?) [=_!]{3,}$")
"""A section or test header ruled out to the terminal's width: shortened to `== FAILURES ==`."""


def condense(output: str, limit: int = FAILURES_LIMIT) -> str:
    """Failing-test output for a small window: the failures with their assertion lines, then the one-line
    summary per failing test and the totals; cut in the middle when longer than `limit`."""
    lines = [_RULE.sub(r"\1\1 \2 \1\1", ln) for ln in output.splitlines() if not _NOISE.match(ln.strip())]
    text = "\n".join(lines).strip()
    if len(text) <= limit:
        return text
    cut = next((i for i, ln in enumerate(lines) if _SUMMARY.match(ln.strip())), len(lines) - 1)
    summary, totals = lines[cut:-1], lines[-1]
    kept: list[str] = []
    for line in summary:  # the one-line reasons, as many as fit in half the room, and always the totals
        if sum(len(k) + 1 for k in kept) + len(line) + len(totals) > limit // 2:
            kept.append(f"… ({len(summary) - len(kept)} more)")
            break
        kept.append(line)
    tail = "\n".join([*kept, totals]).strip()
    head_room = max(0, limit - len(tail) - 3)
    head = "\n".join(lines[:cut]).strip()[:head_room].rstrip()
    return f"{head}\n…\n{tail}"
