"""Suites of tasks judged by running something (`bench smoke`, `bench polyglot`): a task's own tests in its own
language, or its program with an expected output. Never by reading the model's reply.

A task is one TOML file in agent_core/bench/data/<suite>/ (written for SmallCode; no exercise sets):

    language = "python"            # python, javascript, go or rust: picks the toolchain and the default check
    instructions = '''…'''         # the request, as a user would write it
    check = ["{python}", "hello.py"]   # optional: the command that judges ({python} is this interpreter)
    expect_stdout = "Hello"        # optional: the check must also print exactly this (surrounding space aside)
    tests = ["test_calc.py"]       # files restored from the task before judging (the agent may not change them)
    [files]                        # the project the agent starts from
    [solution]                     # files that solve it (tests/bench checks each task fails without, passes with)

Each task runs once in a fresh temporary directory: one agent run (runner.run_agent) on the model endpoint
the whole suite shares (runner.model_endpoint), then the check. A language whose toolchain is missing has its
tasks skipped, with a line saying so.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from agent_core.bench import runner
from agent_core.bench.report import BenchReport
from agent_core.bench.tasks import read_task_toml, restore_tests, task_contents
from agent_core.config import ConfigError, Settings
from agent_core.llm.types import ModelError

LANGUAGES: dict[str, tuple[str, list[str]]] = {
    "python": ("python", ["{python}", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--noconftest"]),
    "javascript": ("node", ["node", "--test"]),
    "go": ("go", ["go", "test", "./..."]),
    "rust": ("cargo", ["cargo", "test", "--offline", "--quiet"]),
}
"""Language → (the executable it needs, the default check)."""
CHECK_TIMEOUT = 180.0
"""A check may compile (cargo, go): more room than a pytest run."""


@dataclass(frozen=True)
class CheckedTask:
    name: str
    language: str
    instructions: str
    files: dict[str, str]
    solution: dict[str, str]
    check: list[str]
    expect_stdout: str | None = None
    tests: list[str] = field(default_factory=list)

    def build(self, root: Path, *, solved: bool = False) -> None:
        root.mkdir(parents=True, exist_ok=True)
        for rel, text in {**self.files, **(self.solution if solved else {})}.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    @property
    def toolchain(self) -> str:
        return LANGUAGES[self.language][0]


def parse_task(name: str, text: str) -> CheckedTask:
    """A task from its TOML text; ValueError says what is wrong with it."""
    data = read_task_toml(name, text)
    language = data.get("language")
    if language not in LANGUAGES:
        raise ValueError(f"task {name}: language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    instructions, files, solution = task_contents(name, data)
    tests = [str(t) for t in data.get("tests", [])]
    missing = [t for t in tests if t not in files]
    if missing or any(t in solution for t in tests):
        raise ValueError(f"task {name}: tests must be files of [files] that the solution leaves alone")
    check = [str(a) for a in data.get("check", LANGUAGES[language][1])]
    expect = data.get("expect_stdout")
    return CheckedTask(
        name, language, instructions, files, solution, check,
        None if expect is None else str(expect), tests,
    )  # fmt: skip


def load_tasks(suite: str, names: list[str] | None = None) -> list[CheckedTask]:
    folder = resources.files("agent_core.bench") / "data" / suite
    found = {e.name.removesuffix(".toml"): e for e in folder.iterdir() if e.name.endswith(".toml")}
    names = sorted(found) if names is None else names
    unknown = [n for n in names if n not in found]
    if unknown:
        raise ValueError(
            f"no {suite} task named {', '.join(unknown)}; the tasks are: {', '.join(sorted(found))}"
        )
    return [parse_task(n, found[n].read_text(encoding="utf-8")) for n in names]


@dataclass
class Judgement:
    passed: bool
    output: str
    tests_changed: list[str]


def check_env(root: Path) -> dict[str, str]:
    env = runner.check_env()
    # Builds stay inside the task's directory; no network for cargo.
    env.setdefault("CARGO_TARGET_DIR", str(root / "target"))
    env["CARGO_NET_OFFLINE"] = "true"
    env.setdefault("GOFLAGS", "-mod=mod")
    return env


def judge(task: CheckedTask, root: Path, timeout: float = CHECK_TIMEOUT) -> Judgement:
    """Restore the task's tests, run its check in `root`: passed when it exits 0 (and prints what it should)."""
    changed = restore_tests(task, root)
    args = [sys.executable if a == "{python}" else a for a in task.check]
    try:
        done = subprocess.run(
            args, cwd=root, env=check_env(root), capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL, errors="replace",
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return Judgement(False, f"the check timed out after {timeout:.0f} s", changed)
    except OSError as exc:
        return Judgement(False, f"the check could not start: {exc}", changed)
    passed = done.returncode == 0
    if passed and task.expect_stdout is not None:
        passed = done.stdout.strip() == task.expect_stdout.strip()
    return Judgement(passed, (done.stdout + done.stderr).strip()[-1500:], changed)


def missing_toolchains(tasks: list[CheckedTask]) -> dict[str, str]:
    """Language → why its tasks cannot be judged here."""
    return {
        t.language: f"{t.toolchain} not found on PATH"
        for t in tasks
        if t.language != "python" and shutil.which(t.toolchain) is None
    }


# --- the run ------------------------------------------------------------------------------------------

Status = Callable[[str], None]


async def run_task(task: CheckedTask, settings: Settings, timeout: float, say: Status) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"smallcode-{task.name}-") as tmp:
        root = Path(tmp) / task.name
        task.build(root)
        done = await runner.run_agent(root, task.instructions, settings, timeout)
        verdict = await asyncio.to_thread(judge, task, root)
    result = done.result
    tokens = result.usage.prompt_tokens + result.usage.completion_tokens
    case = {
        "task": task.name,
        "language": task.language,
        "passed": verdict.passed,
        "reported_success": result.success,
        "false_success": result.success and not verdict.passed,
        "tokens": tokens,
        "seconds": round(done.seconds, 1),
        "turns": result.turns,
        "tool_calls": len(result.tool_calls),
        "tests_changed": verdict.tests_changed,
        "response": done.response[:300],
        "output": "" if verdict.passed else verdict.output[-600:],
    }
    say(f"  {'passed' if verdict.passed else 'failed'}, {tokens} tokens, {done.seconds:.0f} s")
    return case


@dataclass
class SuiteSpec:
    name: str
    max_turns: int
    timeout: float
    """Wall seconds one task's agent run may take."""
    wall_bar: float | None = None
    """The whole suite must finish within this many seconds to meet its bar (smoke: 5 minutes)."""
    default_model: str | None = None
    """The embedded model it runs on unless SMALLCODE_BENCH_MODEL or SMALLCODE_EMBEDDED_MODEL says otherwise."""


async def run_suite(
    spec: SuiteSpec,
    settings: Settings,
    *,
    names: list[str] | None = None,
    base_url: str | None = None,
    model: str | None = None,
    status: Status | None = None,
) -> BenchReport:
    say = status or (lambda _text: None)
    try:
        tasks = load_tasks(spec.name, names)
    except ValueError as exc:
        return failed(spec.name, str(exc))
    missing = missing_toolchains(tasks)
    skipped = [t for t in tasks if t.language in missing]
    for language, why in missing.items():
        n = sum(t.language == language for t in skipped)
        say(f"{language}: {why}; its {n} task{'s' * (n != 1)} skipped")
    todo = [t for t in tasks if t.language not in missing]
    cases: list[dict[str, Any]] = []
    started = time.monotonic()
    label = runner.model_label(settings, base_url, model)
    try:
        if todo:
            async with runner.model_endpoint(settings, base_url, model, say) as endpoint:
                agent = runner.agent_settings(
                    endpoint.settings, endpoint.base_url, endpoint.model, spec.max_turns
                )
                for i, task in enumerate(todo, 1):
                    say(f"[{i}/{len(todo)}] {task.name} ({task.language})")
                    cases.append(await run_task(task, agent, spec.timeout, say))
    except runner.Unavailable as exc:
        return failed(spec.name, str(exc))
    except (ModelError, ConfigError, OSError) as exc:
        return failed(spec.name, f"the {spec.name} benchmark could not run: {exc}")
    wall = round(time.monotonic() - started, 1)
    cases += [
        {"task": t.name, "language": t.language, "passed": None, "skipped": missing[t.language]}
        for t in skipped
    ]
    return report(spec, label, tasks, cases, missing, wall)


def report(
    spec: SuiteSpec,
    label: str,
    tasks: list[CheckedTask],
    cases: list[dict[str, Any]],
    missing: dict[str, str],
    wall: float,
) -> BenchReport:
    ran = [c for c in cases if not c.get("skipped")]
    passed = sum(bool(c["passed"]) for c in ran)
    per_language = {}
    for language in dict.fromkeys(t.language for t in tasks):
        rows = [c for c in ran if c["language"] == language]
        per_language[language] = (
            {"skipped": missing[language]}
            if language in missing
            else {"tasks": len(rows), "passed": sum(bool(c["passed"]) for c in rows)}
        )
    false = sum(bool(c.get("false_success")) for c in ran)
    figures = {
        "model": label,
        "tasks": len(ran),
        "passed": passed,
        "pass_rate": round(passed / len(ran), 3) if ran else 0.0,
        "false_successes": false,
        "tokens": sum(c["tokens"] for c in ran),
        "wall_seconds": wall,
        "languages": per_language,
    }
    misses = []
    if false:
        misses.append(f"{false} false success(es), 0 wanted")
    if spec.wall_bar is not None and wall > spec.wall_bar:
        misses.append(f"took {wall / 60:.1f} min, under {spec.wall_bar / 60:.0f} wanted")
    if not ran:
        misses.append("no task could run here")
    lines = [
        f"{spec.name} benchmark: {label}, {len(ran)} tasks run, at most {spec.max_turns} turns and "
        f"{spec.timeout:.0f} s each; {wall / 60:.1f} min",
        "",
        f"{'task':<26} {'language':<11} {'result':<7} {'tokens':>7} {'time':>6} {'turns':>5}",
    ]
    for c in cases:
        if c.get("skipped"):
            lines.append(f"{c['task']:<26} {c['language']:<11} skipped ({c['skipped']})")
            continue
        result = "passed" if c["passed"] else "failed"
        flag = " !" if c.get("false_success") else ""
        lines.append(
            f"{c['task']:<26} {c['language']:<11} {result:<7} {c['tokens']:>7} {c['seconds']:>5.0f}s "
            f"{c['turns']:>5}{flag}"
        )
    lines.append("")
    lines.append(
        f"passed {passed}/{len(ran)}"
        + "".join(
            f"; {lang} {f['passed']}/{f['tasks']}" if "tasks" in f else f"; {lang} skipped"
            for lang, f in per_language.items()
        )
        + ("  (! reported success while its check failed)" if false else "")
    )
    for language, why in missing.items():
        lines.append(f"{language} tasks skipped: {why}")
    lines.append("bar met" if not misses else "bar missed: " + "; ".join(misses))
    return BenchReport(suite=spec.name, figures=figures, cases=cases, text="\n".join(lines), ok=not misses)


def failed(suite: str, message: str) -> BenchReport:
    return BenchReport(
        suite=suite, ok=False, figures={"error": message}, text=f"{suite} benchmark: {message}"
    )


def run(
    spec: SuiteSpec,
    cwd: Path,
    base_url: str | None = None,
    model: str | None = None,
    names: list[str] | None = None,
) -> BenchReport:
    """The CLI entry: the workspace's bench settings, the embedded model unless base_url, progress on stderr.
    SMALLCODE_BENCH_MAX_TURNS and SMALLCODE_BENCH_TIMEOUT override the suite's turn and time caps."""
    try:
        settings, max_turns = runner.bench_settings(cwd)
        raw = os.environ.get("SMALLCODE_BENCH_TIMEOUT", "")
        timeout = spec.timeout
        if raw:
            try:
                timeout = float(raw)
            except ValueError:
                timeout = 0.0
            if timeout <= 0:
                raise ConfigError(
                    f"SMALLCODE_BENCH_TIMEOUT must be a positive number of seconds, not {raw!r}"
                )
    except ConfigError as exc:
        return failed(spec.name, str(exc))
    chosen = any(
        os.environ.get(k) for k in ("SMALLCODE_BENCH_MODEL", "SMALLCODE_EMBEDDED_MODEL", "SMALLCODE_GGUF")
    )
    if spec.default_model and not chosen:
        settings = settings.model_copy(update={"embedded_model": spec.default_model})
    turns = max_turns if os.environ.get("SMALLCODE_BENCH_MAX_TURNS") else spec.max_turns
    spec = SuiteSpec(spec.name, turns, timeout, spec.wall_bar, spec.default_model)

    def status(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    return asyncio.run(run_suite(spec, settings, names=names, base_url=base_url, model=model, status=status))
