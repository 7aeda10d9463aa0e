"""Which files are tests, which tests cover an edited file, and whether a task asks to change tests.

Verification must not be gameable: the tests that judge a run are the ones that existed before it, unless the
user's task asked for test changes. These helpers find them (cheaply: names first, imports second).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

MAX_TEST_FILES = 500
"""Test files looked at in one workspace; a larger tree is judged by its test command alone."""
MAX_TEST_BYTES = 512 * 1024
"""Test files bigger than this are not snapshotted (generated fixtures, not hand-written tests)."""
_SKIP_DIRS = frozenset(
    {".git", ".smallcode", "node_modules", "__pycache__", ".venv", "venv", ".tox", "dist", "build", "target"}
)
_TEST_NAME = re.compile(
    r"(^test_.*\.py$|.*_test\.py$|.*\.(test|spec)\.[cm]?[jt]sx?$|.*_test\.go$|^test_.*\.rb$|.*_spec\.rb$"
    r"|.*Test\.java$|.*_test\.exs$)"
)
_ASKS_FOR_TESTS = re.compile(
    r"\b(write|add|create|update|change|modify|edit|extend|rewrite|fix|improve|expand|correct)\b"
    r"[^.!?\n]{0,40}\b(unit\s+)?tests?\b(?!\s+(pass|fail|run|suite\s+pass))",
    re.IGNORECASE,
)
_FORBIDS_TESTS = re.compile(
    r"\b(do not|don't|dont|must not|never|without)\b[^.!?\n]{0,30}\b(change|modify|edit|touch|alter)\b"
    r"[^.!?\n]{0,30}\btests?\b|\btests?\b[^.!?\n]{0,40}\b(are correct|must not (be )?chang|unchanged)",
    re.IGNORECASE,
)


def is_test_file(rel: str) -> bool:
    """A test file by the naming conventions of pytest/unittest, Jest/Vitest/Mocha, Go, RSpec, JUnit, ExUnit."""
    return bool(_TEST_NAME.match(Path(rel).name))


def find_test_files(root: Path) -> list[str]:
    """Workspace-relative test files, sorted; at most MAX_TEST_FILES, symlinks and tool folders skipped."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d))
        )
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        for name in sorted(filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if is_test_file(rel) and not os.path.islink(os.path.join(dirpath, name)):
                found.append(rel)
                if len(found) >= MAX_TEST_FILES:
                    return found
    return found


def task_changes_tests(task: str) -> bool:
    """Whether the user's task asks for test changes ("add a test for …"), as opposed to forbidding them
    ("the tests are correct; do not change them") or merely mentioning them ("make the tests pass")."""
    if _FORBIDS_TESTS.search(task):
        return False
    return bool(_ASKS_FOR_TESTS.search(task))


def covering_tests(root: Path, edited: list[str], tests: list[str]) -> list[str]:
    """The test files that exercise the edited files: edited tests themselves, tests named after a module
    (`test_calc.py`, `calc_test.py`, `calc.test.js`), then tests that import it. Empty when none is found."""
    chosen: list[str] = [t for t in edited if t in tests or is_test_file(t)]
    stems = {Path(e).stem for e in edited if not is_test_file(e)}
    if not stems:
        return _unique(chosen)
    for test in tests:
        name = Path(test).name
        base = re.sub(r"^test_|_test$|\.(test|spec)$|_spec$|Test$", "", Path(name.split(".")[0]).stem)
        base = re.sub(r"\.(test|spec)$", "", base)
        if base in stems or Path(test).stem.removeprefix("test_").removesuffix("_test") in stems:
            chosen.append(test)
            continue
        if _imports_any(root / test, stems):
            chosen.append(test)
    return _unique(chosen)


def _imports_any(path: Path, stems: set[str]) -> bool:
    try:
        if path.stat().st_size > MAX_TEST_BYTES:
            return False
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    names = "|".join(re.escape(s) for s in sorted(stems))
    pattern = (
        rf"^\s*(from\s+[\w.]*\b({names})\b[\w.]*\s+import|import\s+[\w., ]*\b({names})\b)"
        rf"|require\(\s*['\"][./\w-]*\b({names})(\.[cm]?[jt]sx?)?['\"]\s*\)"
        rf"|from\s+['\"][./\w-]*\b({names})(\.[cm]?[jt]sx?)?['\"]"
    )
    return re.search(pattern, text, re.MULTILINE) is not None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
