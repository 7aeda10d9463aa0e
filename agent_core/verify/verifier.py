"""The verification loop's judge: after a turn's edits and before a run may end as a success.

Syntax of the edited files first, then the tests: the detected test command (SMALLCODE_TEST_RUNNER overrides),
scoped to the tests that cover the edited files, under SMALLCODE_CHECK_TIMEOUT. The tests are code the model
may have written: they run with the model's shell's environment and in its sandbox (validate.run_command). The tests that judge are the ones
that existed before the run: unless the task asked for test changes, the test files are snapshotted when the run
starts, edits to them are refused by the file tools, and a test file changed some other way (the shell) is put
back before the check, and the user is told.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent_core.config import Settings
from agent_core.planning.detect import ProjectInfo
from agent_core.planning.validate import check_syntax
from agent_core.verify.examples import run_examples, task_examples
from agent_core.verify.runner import Status, TestRun, plan_command, run_tests
from agent_core.verify.shadow import shadow_copy
from agent_core.verify.testfiles import (
    MAX_TEST_BYTES,
    covering_tests,
    find_test_files,
    is_test_file,
    task_changes_tests,
)
from agent_core.workspace import WorkspaceError, atomic_write, encode_for

_QUESTION = re.compile(
    r"^\s*(what|why|how|where|which|who|when|is|are|does|do|can|could|should|explain|describe|summari[sz]e|"
    r"list|show|tell|review)\b",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    r"\b(fix|implement|add|make|change|update|create|write|refactor|rename|remove|delete|solve|complete|"
    r"finish|correct|handle|support|replace|convert|edit|modify|build|port|repair|resolve)\b",
    re.IGNORECASE,
)


def asks_for_change(task: str) -> bool:
    """Whether a task asks for code changes (then a final answer is checked even when nothing was edited:
    "Done!" without a change is not done); questions and reviews are answered on the model's word."""
    text = task.strip()
    if _QUESTION.match(text) and (text.endswith("?") or not _CHANGE.search(text.split("\n")[0])):
        return False
    return bool(_CHANGE.search(text))


@dataclass
class Verdict:
    """What one check found."""

    status: Status | str
    """passed, failed, no_tests, timeout, unavailable, error; `syntax` (a file doesn't parse); `none`
    (nothing to run: no test command for this project)."""
    command: str | None = None
    passed: int = 0
    failed: int = 0
    output_tail: str = ""
    feedback: str = ""
    """Written for the model: what failed and where, within a small window's means."""
    restored: list[str] = field(default_factory=list)
    """Test files the run had changed and that were put back before checking."""
    passing: frozenset[str] = frozenset()
    """Ids of the tests that passed (pytest runs)."""
    failing: frozenset[str] = frozenset()
    """Ids of the tests that failed (pytest runs)."""

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    def failures_shown_in(self, text: str) -> bool:
        """Whether `text` already names every failing test (a task that pastes the test output, as the second
        try of Aider's protocol does): its failures need not be shown again."""
        names = [test_id.rpartition("::")[2] for test_id in self.failing]
        # whole names only: `test_add` is not shown by a task that mentions `test_add_many`
        return bool(names) and all(re.search(rf"(?<!\w){re.escape(n)}(?![\w\[])", text) for n in names)

    @property
    def blocking(self) -> bool:
        """A result that must not end a run as a success."""
        return self.status in ("failed", "timeout", "syntax", "error")

    def summary(self) -> str:
        """One line for people: what ran and how it went."""
        if self.status == "passed":
            return f"checks passed: {self.passed} test{'s' if self.passed != 1 else ''} (`{self.command}`)"
        if self.status == "failed":
            return f"checks failed: {self.failed} failing, {self.passed} passing (`{self.command}`)"
        if self.status == "no_tests":
            return f"not verified: no tests ran (`{self.command}`)"
        if self.status == "syntax":
            return "checks failed: a changed file does not parse"
        if self.status == "timeout":
            return f"checks failed: the tests did not finish in time (`{self.command}`)"
        if self.status == "unavailable":
            return f"not verified: the test runner is not available here (`{self.command}`)"
        if self.status == "error":
            return f"checks failed: the test run broke (`{self.command}`)"
        return "not verified: no tests found for this project"


class Verifier:
    """One per run: knows the tests as they were when the run started."""

    def __init__(
        self,
        root: Path,
        info: ProjectInfo | None,
        settings: Settings,
        task: str,
        unsaved: Callable[[], Awaitable[dict[Path, str]]] | None = None,
    ) -> None:
        self.root = root
        self.unsaved = unsaved
        """The editor's text that is not on disk (its buffers): the checks then run on a shadow copy."""
        self.info = info or ProjectInfo()
        self.settings = settings
        self.tests_may_change = task_changes_tests(task)
        self.examples = task_examples(task)
        """What the task says its programs print: the check where the project has no tests."""
        self.original_tests: dict[str, bytes] = {}
        """Test files as they were at the start of the run (empty when the task asks for test changes)."""
        if not self.tests_may_change and not settings.test_disable:
            for rel in find_test_files(root):
                path = root / rel
                try:
                    if path.stat().st_size <= MAX_TEST_BYTES:
                        self.original_tests[rel] = path.read_bytes()
                except OSError:
                    continue

    def protects(self, rel: str) -> bool:
        """Whether edits to this workspace-relative file are refused (a test that existed before the run)."""
        return rel in self.original_tests

    def restore_tests(self) -> list[str]:
        """Put back protected tests the run changed or deleted (through the shell); return their paths."""
        restored = []
        for rel, data in self.original_tests.items():
            path = self.root / rel
            try:
                if not os.path.islink(path) and path.is_file() and path.read_bytes() == data:
                    continue
                if os.path.islink(path):
                    path.unlink()
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, data)
                restored.append(rel)
            except OSError:
                continue
        return restored

    def test_command(self) -> str | None:
        if self.settings.test_disable:
            return None
        return (self.settings.test_runner or "").strip() or self.info.test_command

    async def baseline(self, files: list[str]) -> Verdict | None:
        """Before the run: the tests covering `files` (the ones a task names), when there are any. Their
        failures tell the model what to fix from its first turn; None when no test is known to cover them."""
        command = self.test_command()
        if self.settings.test_disable or not files:
            return None
        tests = find_test_files(self.root)
        scope = covering_tests(self.root, [f for f in files if not is_test_file(f)] or files, tests)
        if not scope:
            return None
        python_tests = any(t.endswith(".py") for t in tests)
        kind, command_line = plan_command(self.root, command, scope, python_tests, self.settings)
        if not command_line:
            return None
        timeout = min(self.settings.check_timeout, 60.0)
        run = await run_tests(self.root, kind, command_line, timeout, settings=self.settings)
        return _verdict(run, [])

    async def texts_parse(self, texts: dict[str, str | None]) -> bool:
        """Whether these versions of files (workspace-relative; None: absent) all parse, each encoded as its
        file is on disk (a Latin-1 Python file without a coding line does not parse, whatever its text)."""
        present = {rel: text for rel, text in texts.items() if text is not None}
        if not present:
            return True
        with tempfile.TemporaryDirectory(prefix="smallcode-syntax-") as tmp:
            for rel, text in present.items():
                try:
                    data = await asyncio.to_thread(encode_for, self.root / rel, text, rel)
                except WorkspaceError:
                    data = text.encode("utf-8", "surrogateescape")
                target = Path(tmp) / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                await asyncio.to_thread(atomic_write, target, data)
            result = await check_syntax(Path(tmp), sorted(present), settings=self.settings)
        return result.ok

    async def check(self, edited: list[str]) -> Verdict:
        """Syntax of `edited`, then the tests covering them (all tests when none is known to); on a shadow copy
        of the workspace (agent_core.verify.shadow) when the editor holds text that is not saved."""
        texts = await self.unsaved() if self.unsaved is not None else {}
        restored = self.restore_tests()  # before the copy, so the shadow has them back too
        async with shadow_copy(self.root, texts) as where:
            verdict = await self._check(where, sorted(set(edited)), restored)
        if where != self.root:  # the output names the workspace, not the shadow
            verdict.output_tail = verdict.output_tail.replace(str(where), str(self.root))
            verdict.feedback = verdict.feedback.replace(str(where), str(self.root))
        return verdict

    async def _check(self, root: Path, edited: list[str], restored: list[str]) -> Verdict:
        if edited:
            syntax = await check_syntax(root, edited, settings=self.settings)
            if not syntax.ok:
                return Verdict("syntax", feedback=syntax.output, restored=restored)
        if self.settings.test_disable:
            return Verdict("none", restored=restored)
        tests = find_test_files(root)
        python_tests = any(t.endswith(".py") for t in tests)
        detected = self.test_command()
        if detected is None and not tests:
            return await self._examples(root, restored)
        scope = covering_tests(root, edited, tests) if edited else []
        kind, command = plan_command(root, detected, scope, python_tests, self.settings)
        if not command:
            return await self._examples(root, restored)
        run = await run_tests(root, kind, command, self.settings.check_timeout, settings=self.settings)
        if run.status == "passed" and scope and len(scope) < len(tests):
            # The covering tests pass: the rest of the suite must not have been broken either.
            kind, full = plan_command(root, detected, [], python_tests, self.settings)
            whole = await run_tests(root, kind, full, self.settings.check_timeout, settings=self.settings)
            if whole.status in (
                "passed",
                "failed",
                "error",
            ):  # a slow or odd full run keeps the scoped verdict
                run = whole
        return _verdict(run, restored)

    async def _examples(self, root: Path, restored: list[str]) -> Verdict:
        """No tests to run: the task's own examples decide, when it states any ("`python x.py 2` prints 4")."""
        if not self.examples:
            return Verdict("none", restored=restored)
        run = await run_examples(root, self.examples, self.settings)
        listed = "; ".join(f"{e.command} → {e.expected}" for e in self.examples)
        return Verdict(
            "failed" if run.failed else "passed",
            command=f"the task's examples: {listed}",
            passed=run.passed,
            failed=run.failed,
            output_tail=run.output_tail,
            feedback=run.feedback,
            restored=restored,
        )


def _verdict(run: TestRun, restored: list[str]) -> Verdict:
    return Verdict(
        run.status,
        command=run.command,
        passed=run.passed,
        failed=run.failed,
        output_tail=run.output_tail,
        feedback=run.feedback(),
        restored=restored,
        passing=frozenset(run.passing_ids),
        failing=frozenset(run.failing_ids),
    )


__all__ = ["Verdict", "Verifier", "asks_for_change", "is_test_file"]
