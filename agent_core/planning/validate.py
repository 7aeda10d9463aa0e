"""After a step's edits, the cheapest meaningful check: syntax of the touched files, the linter if the
project configures one, then the relevant tests. The first stage that fails ends the check; its output is
written for the model (what failed, where, what to do).

Commands run as subprocesses in their own process group (a timeout kills the whole tree), with CI=1 so test
runners don't start watch mode, and their output capped (head and tail kept: the summary is at the end). They
run code the model wrote, so they get the model's shell's environment and sandbox (`run_command`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import shutil
import signal
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agent_core.config import Settings
from agent_core.planning.detect import ProjectInfo
from agent_core.python_ast import parse_module
from agent_core.safety import sandbox
from agent_core.tools.shell import shell_env

if TYPE_CHECKING:
    from agent_core.planning.plan import PlanStep
    from agent_core.planning.store import StepValidator

Stage = Literal["syntax", "lint", "tests", "none"]

DEFAULT_TEST_TIMEOUT = 120.0
DEFAULT_MAX_OUTPUT = 3000
_NODE_EXTS = {".js", ".mjs", ".cjs"}
_CODE_EXTS = {
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".go", ".rs", ".java", ".kt", ".rb", ".php",
    ".cs", ".fs", ".ex", ".exs", ".c", ".h", ".cc", ".cpp", ".hpp", ".swift", ".vue", ".svelte", ".json",
    ".toml", ".cfg", ".ini", ".yaml", ".yml",
}  # fmt: skip
_PY_RUNNERS = ("uv run ", "poetry run ", "pdm run ", "pipenv run ")


@dataclass
class ValidationResult:
    ok: bool
    stage: Stage
    """The stage that failed, or the last stage that ran when ok ("none": nothing to check)."""
    output: str
    """Written for the model: what was checked, what failed and where."""
    checks: list[str] = field(default_factory=list)
    """What ran, e.g. ["syntax: calc.py", "ruff", "tests: python -m pytest"]."""


@dataclass
class CommandResult:
    exit_code: int | None
    """None when the command timed out and was killed."""
    output: str


async def run_command(
    command: str,
    cwd: Path,
    timeout: float,
    max_output: int = DEFAULT_MAX_OUTPUT,
    *,
    settings: Settings | None = None,
    writable: Sequence[Path] = (),
) -> CommandResult:
    """Run a shell command in its own process group; kill the group on timeout; cap the output.

    The command runs code the model wrote (tests, a linter from node_modules), so it gets what the model's
    own shell gets: the allow-listed environment (`shell_env`, plus the user's `shell_env_pass`) and, with
    `settings`, the sandbox they ask for, `cwd` as its workspace and `writable` writable too. A sandbox that
    is required but cannot run gives exit code 127 and the reason as output: nothing runs unconfined.
    """
    passed = settings.shell_env_pass if settings is not None else ()
    env = {**shell_env(passed), "CI": "1", "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    argv = ["/bin/sh", "-c", command]
    if settings is not None:
        try:
            argv = sandbox.wrap_command(argv, cwd, settings, writable=writable)
        except sandbox.SandboxError as exc:
            return CommandResult(127, str(exc))
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )
    head, tail, total = bytearray(), bytearray(), 0
    limit = max(max_output, 200) * 4  # bytes kept in memory; trimmed to characters below

    async def collect() -> None:
        nonlocal total
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            total += len(chunk)
            if len(head) < limit // 4:
                head.extend(chunk[: limit // 4 - len(head)])
            tail.extend(chunk)
            del tail[: max(0, len(tail) - limit)]

    try:
        await asyncio.wait_for(asyncio.gather(collect(), proc.wait()), timeout)
        code: int | None = proc.returncode
    except TimeoutError:
        await _kill_group(proc)
        code = None
    text = (
        tail.decode("utf-8", "replace")
        if total <= limit
        else (head.decode("utf-8", "replace") + "\n[…]\n" + tail.decode("utf-8", "replace"))
    )
    return CommandResult(code, cap_output(text, max_output))


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), 3)
            return
        except TimeoutError:
            continue


def cap_output(text: str, limit: int) -> str:
    """Keep the start (what ran) and mostly the end (failures and the summary) of long output."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = limit // 5
    tail = limit - head
    return f"{text[:head]}\n[… {len(text) - limit} characters cut …]\n{text[-tail:]}"


# --- stage 1: syntax ------------------------------------------------------------------------------------


def _syntax_error(path: Path, rel: str) -> str | None:
    """A one-file syntax problem, or None. Only formats whose check needs no tool but Python."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None if suffix not in {".py", ".json", ".toml"} else f"{rel}: not valid UTF-8"
    if suffix in {".py", ".pyi"}:
        try:
            parse_module(text, filename=rel)
        except SyntaxError as exc:
            where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
            shown = (exc.text or "").rstrip("\n")
            pointer = f"\n    {shown}\n    {' ' * max(0, (exc.offset or 1) - 1)}^" if shown else ""
            return f"{rel}, {where}: {exc.msg}{pointer}"
        except ValueError as exc:  # e.g. null bytes
            return f"{rel}: {exc}"
    elif suffix == ".json" and not _is_jsonc(path):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return f"{rel}, line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
    elif suffix == ".toml":
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return f"{rel}: invalid TOML: {exc}"
    elif suffix in {".yaml", ".yml"}:
        try:
            import yaml  # optional: PyYAML is not a dependency
        except ImportError:
            return None
        try:
            list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            return f"{rel}: invalid YAML: {' '.join(str(exc).split())}"
    return None


def _is_jsonc(path: Path) -> bool:
    """JSON files that allow comments by convention (tsconfig, VS Code settings)."""
    return path.name.startswith(("tsconfig", "jsconfig")) or path.parent.name == ".vscode"


async def check_syntax(
    root: Path, files: list[str], timeout: float = 20.0, *, settings: Settings | None = None
) -> ValidationResult:
    problems = []
    node = shutil.which("node")
    for rel in files:
        path = root / rel
        if not path.is_file():
            continue  # deleted by the step
        problem = _syntax_error(path, rel)
        if problem is None and node and path.suffix in _NODE_EXTS:
            check = f"{shlex.quote(node)} --check {shlex.quote(rel)}"
            result = await run_command(check, root, timeout, settings=settings)
            if result.exit_code not in (0, None, 127):  # 127: node or the sandbox could not run
                problem = f"{rel}: node --check failed:\n{result.output}"
        if problem:
            problems.append(problem)
    checked = [f"syntax: {', '.join(files)}"] if files else []
    if problems:
        return ValidationResult(
            False,
            "syntax",
            "Syntax check failed:\n" + "\n".join(problems) + "\nFix the syntax error(s), then try again.",
            checked,
        )
    return ValidationResult(True, "syntax", f"Syntax OK: {', '.join(files)}" if files else "", checked)


# --- stage 2: linter -------------------------------------------------------------------------------------


def _lint_command(root: Path, info: ProjectInfo, files: list[str]) -> str | None:
    existing = [f for f in files if (root / f).is_file()]
    if info.linter == "ruff":
        targets = [f for f in existing if f.endswith((".py", ".pyi"))]
        ruff = shutil.which("ruff")
        if targets and ruff:
            quoted = " ".join(shlex.quote(f) for f in targets)
            return f"{shlex.quote(ruff)} check --no-fix --force-exclude --output-format=concise {quoted}"
    if info.linter == "eslint":
        targets = [f for f in existing if Path(f).suffix in {".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx"}]
        eslint = root / "node_modules" / ".bin" / "eslint"  # never npx: it may try to download
        if targets and eslint.is_file():
            return f"{shlex.quote(str(eslint))} {' '.join(shlex.quote(f) for f in targets)}"
    return None


async def run_linter(
    root: Path,
    info: ProjectInfo,
    files: list[str],
    timeout: float = 60.0,
    *,
    settings: Settings | None = None,
) -> ValidationResult:
    command = _lint_command(root, info, files)
    if command is None:
        return ValidationResult(True, "lint", "", [])
    result = await run_command(command, root, timeout, settings=settings)
    name = info.linter or "linter"
    if result.exit_code == 0:
        return ValidationResult(True, "lint", f"{name}: no problems", [name])
    if result.exit_code is None:
        return ValidationResult(True, "lint", f"{name} timed out after {timeout:g}s; not counted", [name])
    if result.exit_code == 127:
        return ValidationResult(True, "lint", f"{name} could not run; not counted: {result.output}", [name])
    return ValidationResult(
        False,
        "lint",
        f"{name} found problems in the files you changed:\n{result.output}\nFix them, then try again.",
        [name],
    )


# --- stage 3: tests --------------------------------------------------------------------------------------


def _is_test_file(rel: str) -> bool:
    name = Path(rel).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _available(command: str, root: Path) -> str | None:
    """The command, made runnable here if possible (a missing uv/poetry falls back to python -m); None if not."""
    try:
        words = shlex.split(command)
    except ValueError:
        return command  # unbalanced quotes: let the shell report it
    if not words:
        return None
    if shutil.which(words[0]) or ("/" in words[0] and (root / words[0]).exists()):
        return command
    for runner in _PY_RUNNERS:
        if command.startswith(runner):
            rest = command[len(runner) :]
            fallback = f"python -m {rest}" if rest.startswith("pytest") else rest
            return fallback if shutil.which(shlex.split(fallback)[0]) else None
    return None


def relevant_test_command(command: str, root: Path, files: list[str]) -> str:
    """Narrow a pytest run to the test files the step touched (cheapest meaningful); else the whole suite."""
    tests = [f for f in files if _is_test_file(f) and (root / f).is_file()]
    if tests and command.split() and command.split()[-1] == "pytest":
        return command + " " + " ".join(shlex.quote(t) for t in tests)
    return command


async def run_tests(
    root: Path,
    command: str,
    files: list[str],
    timeout: float = DEFAULT_TEST_TIMEOUT,
    max_output: int = DEFAULT_MAX_OUTPUT,
    *,
    settings: Settings | None = None,
) -> ValidationResult:
    """Run the project's tests (narrowed to the test files touched), as the model's shell would (run_command)."""
    runnable = _available(command, root)
    if runnable is None:
        tool = command.split()[0] if command.strip() else command
        return ValidationResult(
            True, "tests", f"Tests not run: `{tool}` is not installed here (command: {command}).", []
        )
    runnable = relevant_test_command(runnable, root, files)
    result = await run_command(runnable, root, timeout, max_output, settings=settings)
    checks = [f"tests: {runnable}"]
    if result.exit_code is None:
        return ValidationResult(
            False,
            "tests",
            f"Tests timed out after {timeout:g}s (`{runnable}`) and were stopped. Look for an endless loop "
            f"or a test waiting for input.\n{result.output}",
            checks,
        )
    if result.exit_code == 0:
        return ValidationResult(True, "tests", f"Tests passed (`{runnable}`).", checks)
    if result.exit_code == 5 and "pytest" in runnable:
        written = [f for f in files if _is_test_file(f)]
        if written:  # the step wrote tests and none run: the step is not done (seen in the plan bench)
            return ValidationResult(
                False,
                "tests",
                f"No tests were collected from {', '.join(written)} (`{runnable}`): write test functions "
                "named test_… that call the code and assert what it should do.",
                checks,
            )
        return ValidationResult(True, "tests", f"No tests collected (`{runnable}`).", checks)
    if result.exit_code == 127 or "No module named pytest" in result.output:
        # The runner itself is missing: not the step's fault, so it must not block the plan.
        why = result.output.strip().splitlines()[-1:] or [""]
        return ValidationResult(
            True, "tests", f"Tests not run: `{runnable}` is not available here. {why[0]}".strip(), checks
        )
    return ValidationResult(
        False,
        "tests",
        f"Tests failed (`{runnable}`, exit {result.exit_code}):\n{result.output}\n"
        "Fix the code (change a test only if the test itself is wrong), then try again.",
        checks,
    )


# --- all stages ------------------------------------------------------------------------------------------


async def validate_files(
    root: Path,
    files: Iterable[str | Path],
    info: ProjectInfo | None = None,
    settings: Settings | None = None,
    *,
    test_timeout: float = DEFAULT_TEST_TIMEOUT,
    max_output: int = DEFAULT_MAX_OUTPUT,
) -> ValidationResult:
    """Check a step's edits: syntax → linter → tests. `files` are workspace-relative (or absolute under root).

    With no files touched the tests still run (a step like "make the tests pass" has no edit of its own);
    with only non-code files touched (docs) nothing runs.
    """
    root = Path(root).resolve()
    rels = _relative(root, files)
    info = info or ProjectInfo()
    checks: list[str] = []
    done: list[str] = []

    syntax = await check_syntax(root, rels, settings=settings)
    if not syntax.ok:
        return syntax
    checks += syntax.checks
    if syntax.output:
        done.append(syntax.output)

    lint = await run_linter(root, info, rels, settings=settings)
    if not lint.ok:
        lint.checks = checks + lint.checks
        return lint
    checks += lint.checks
    if lint.output:
        done.append(lint.output)

    test_command = info.test_command
    if settings is not None:
        test_command = None if settings.test_disable else (settings.test_runner or test_command)
    code_touched = not rels or any(Path(f).suffix.lower() in _CODE_EXTS for f in rels)
    if test_command is None and any(_is_test_file(f) for f in rels) and shutil.which("python"):
        test_command = "python -m pytest"  # the step wrote Python tests: run them even if none existed before
    stage: Stage = "lint" if lint.checks else ("syntax" if syntax.checks else "none")
    if test_command and code_touched:
        tests = await run_tests(root, test_command, rels, test_timeout, max_output, settings=settings)
        tests.checks = checks + tests.checks
        if not tests.ok:
            return tests
        done.append(tests.output)
        checks = tests.checks
        stage = "tests"
    return ValidationResult(True, stage, "\n".join(done) or "Nothing to check.", checks)


def _relative(root: Path, files: Iterable[str | Path]) -> list[str]:
    out: list[str] = []
    for f in files:
        path = Path(f)
        if path.is_absolute():
            try:
                path = path.resolve().relative_to(root)
            except ValueError:
                continue  # outside the workspace: not ours to check
        rel = path.as_posix()
        if rel not in out:
            out.append(rel)
    return out


def step_validator(
    root: Path,
    info: ProjectInfo | None,
    settings: Settings | None = None,
    *,
    test_timeout: float = DEFAULT_TEST_TIMEOUT,
    max_output: int = DEFAULT_MAX_OUTPUT,
) -> StepValidator:
    """A PlanStore validator: checks the files touched while the step was current."""

    async def validate(step: PlanStep, files: list[str]) -> ValidationResult:
        return await validate_files(
            root, files, info, settings, test_timeout=test_timeout, max_output=max_output
        )

    return validate
