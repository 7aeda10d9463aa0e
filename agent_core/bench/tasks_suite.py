"""`smallcode bench tasks`: small real coding tasks, judged only by their own tests, SmallCode against Aider.

Each task (agent_core/bench/tasks.py; 26 of them in agent_core/bench/data/tasks/, written for this benchmark:
bug fixes and small features in small Python projects) is copied into a fresh temporary directory per arm.
Both arms follow Aider's benchmark protocol on the same model endpoint: try 1 gets the task's instructions; when
its tests then fail, try 2 gets the instructions again plus the condensed failing test output, on the files as
try 1 left them. Each try is a fresh session (a new SmallCode agent, a new Aider process). After each try the
test files are restored from the task and the tests run (tasks.judge); that verdict alone decides the task.

Arms: "smallcode" runs the agent through its public API (agent_core.SmallCode) at temperature 0; "aider" runs
`aider --edit-format whole` (agent_core/bench/aider.py; installed once into a cached venv when missing, else
skipped with the reason). Recorded per try: passed, tokens (prompt + completion), wall seconds, the arm's own
claim of success (SmallCode's RunResult.success; Aider makes none) and false success (claimed while the tests
fail), turns; per arm: pass rate, passed on try 1 / try 2, tokens in all and per passed task, median wall
seconds per task, false successes.

Results go to .smallcode/benchmarks/tasks-<date>.json after every finished task and arm, with each workspace
as the arm left it (traces, Aider's chat history) in the folder of the same name; `--resume` continues the
latest run, skipping what it finished. The bar (issue 12): no false success, at least 30% passed and, with
the Aider arm, at least twice Aider's passes, no more tokens per passed task and no more median time.

Model: as for `bench plan` (runner.py): the embedded model started once for the run (SMALLCODE_BENCH_MODEL or
SMALLCODE_EMBEDDED_MODEL; qwen2.5-coder-0.5b for a quick signal), or --base-url/--model. Turns per try:
SMALLCODE_BENCH_MAX_TURNS (12); wall seconds per try: SMALLCODE_BENCH_TIMEOUT (300).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_core.bench import runner
from agent_core.bench.aider import find_aider, run_aider
from agent_core.bench.report import BenchReport, benchmarks_dir, save_report
from agent_core.bench.runner import Endpoint, Status
from agent_core.bench.tasks import Task, Verdict, judge, load_tasks
from agent_core.config import ConfigError, Settings
from agent_core.llm.types import ModelError
from agent_core.safety.redact import redact_tree

ARMS = ("smallcode", "aider")
TRIES = 2
RUN_TIMEOUT = 300.0
"""Wall seconds one try may take before it is abandoned (then judged like any other try)."""
PASS_RATE_BAR = 0.3


@dataclass
class Options:
    tasks: list[str] | None = None
    """Task names to run (all when None)."""
    arms: tuple[str, ...] = ARMS
    resume: bool = False
    """Continue the latest run under .smallcode/benchmarks/ (its own tasks and arms), skipping finished ones."""
    base_url: str | None = None
    model: str | None = None


def retry_prompt(task: Task, verdict: Verdict) -> str:
    """Try 2: the instructions again with the condensed failing test output (Aider's benchmark wording)."""
    return (
        f"{task.instructions}\n\nThe tests fail:\n```\n{verdict.failures}\n```\n"
        "See the testing errors above. The tests are correct, don't try and change them. "
        f"Fix the code in {', '.join(task.edit_files)} to resolve the errors."
    )


# --- one try of each arm ------------------------------------------------------------------------------


async def smallcode_try(root: Path, prompt: str, settings: Settings, timeout: float) -> dict[str, Any]:
    done = await runner.run_agent(root, prompt, settings, timeout)
    result = done.result
    return {
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
        "seconds": round(done.seconds, 1),
        "turns": result.turns,
        "tool_calls": len(result.tool_calls),
        "reported_success": result.success,
        "verified": result.verified,
        "checks": result.checks.model_dump() if result.checks else None,
        "plan_made": done.plan_made,
        "response": done.response[:300],
    }


async def aider_try(
    executable: str, root: Path, prompt: str, task: Task, endpoint: Endpoint, timeout: float
) -> dict[str, Any]:
    run = await asyncio.to_thread(
        run_aider, executable, root, endpoint.base_url, endpoint.model, prompt, task.edit_files, timeout
    )
    return {
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
        "seconds": round(run.seconds, 1),
        "turns": run.replies,
        "reported_success": None,  # Aider does not claim success; it stops after its reply
        "exit_code": run.exit_code,
        "timed_out": run.timed_out,
        "response": run.output.strip()[-300:],
    }


@dataclass
class Arms:
    """How each arm runs one try: the endpoint, the agent's settings, Aider's executable (None: skipped)."""

    endpoint: Endpoint
    settings: Settings
    aider: str | None
    timeout: float

    async def attempt(self, arm: str, task: Task, root: Path, prompt: str) -> dict[str, Any]:
        if arm == "smallcode":
            return await smallcode_try(root, prompt, self.settings, self.timeout)
        assert self.aider is not None
        return await aider_try(self.aider, root, prompt, task, self.endpoint, self.timeout)


async def run_case(task: Task, arm: str, arms: Arms, keep: Path, say: Status) -> dict[str, Any]:
    """Both tries of one arm on one task (the second only when the first fails its tests)."""
    tries: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix=f"smallcode-bench-{task.name}-") as tmp:
        root = Path(tmp) / task.name
        task.build(root)
        prompt = task.instructions
        for number in range(1, TRIES + 1):
            attempt = await arms.attempt(arm, task, root, prompt)
            verdict = await asyncio.to_thread(judge, task, root)
            attempt = {
                "try": number,
                "passed": verdict.passed,
                "tests": verdict.tests,
                "failed": verdict.failed,
                "tests_changed": verdict.tests_changed,
                "false_success": attempt["reported_success"] is True and not verdict.passed,
                **attempt,
                "tokens": attempt["prompt_tokens"] + attempt["completion_tokens"],
                "failures": "" if verdict.passed else verdict.failures,
            }
            tries.append(attempt)
            outcome = "passed" if verdict.passed else f"failed ({verdict.failed} of {verdict.tests} tests)"
            claim = " — reported success, tests fail" if attempt["false_success"] else ""
            say(f"  try {number}: {outcome}, {attempt['tokens']} tokens, {attempt['seconds']:.0f} s{claim}")
            if verdict.passed:
                break
            prompt = retry_prompt(task, verdict)
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(
            root, keep, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
        )
        redact_tree(keep)  # the kept workspace is a persisted file like any report: no secrets in it
    passed_try = next((t["try"] for t in tries if t["passed"]), None)
    return {
        "task": task.name,
        "arm": arm,
        "kind": task.kind,
        "passed": passed_try is not None,
        "passed_try": passed_try,
        "tokens": sum(t["tokens"] for t in tries),
        "prompt_tokens": sum(t["prompt_tokens"] for t in tries),
        "completion_tokens": sum(t["completion_tokens"] for t in tries),
        "seconds": round(sum(t["seconds"] for t in tries), 1),
        "turns": sum(t["turns"] for t in tries),
        "reported_success": tries[-1]["reported_success"],
        "false_successes": sum(t["false_success"] for t in tries) if arm == "smallcode" else None,
        "tests_changed": sorted({rel for t in tries for rel in t["tests_changed"]}),
        "tries": tries,
    }


# --- the run ------------------------------------------------------------------------------------------


def latest_run(out_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest saved run of this suite (file names sort by date) and its contents."""
    for path in sorted(out_dir.glob("tasks-*.json"), reverse=True) if out_dir.is_dir() else []:
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (
            isinstance(saved, dict)
            and isinstance(saved.get("run"), dict)
            and isinstance(saved.get("cases"), list)
        ):
            return path, saved
    return None


async def run_suite(
    settings: Settings,
    cwd: Path,
    options: Options | None = None,
    *,
    max_turns: int = runner.MAX_TURNS,
    timeout: float = RUN_TIMEOUT,
    status: Status | None = None,
) -> BenchReport:
    """Run (or resume) the task benchmark; saves after every finished task and arm. Problems that stop the
    whole run (no engine, no model, no pytest, unknown task names) come back as a report that says so."""
    options = options or Options()
    say = status or (lambda _text: None)
    label = runner.model_label(settings, options.base_url, options.model)
    out_dir = benchmarks_dir(cwd)
    cases: list[dict[str, Any]] = []
    names: list[str] | None
    meta: dict[str, Any]
    if options.resume:
        latest = latest_run(out_dir)
        if latest is None:
            return _failed(f"nothing to resume: no task benchmark run saved in {out_dir}")
        path, saved = latest
        meta, cases = saved["run"], list(saved["cases"])
        if meta.get("model") != label:
            return _failed(
                f"the latest run ({path.name}) measured {meta.get('model')}, this one would measure {label}: "
                "choose the same model to resume it, or start a new run without --resume"
            )
        try:
            names, arm_names = [str(n) for n in meta["tasks"]], tuple(str(a) for a in meta["arms"])
        except (KeyError, TypeError) as exc:
            return _failed(f"cannot resume from {path}: no task or arm list ({exc})")
        say(f"resuming {path.name}: {len(cases)} of {len(names) * len(arm_names)} task runs done")
    else:
        path = out_dir / f"tasks-{time.strftime('%Y%m%d-%H%M%S')}.json"
        names, arm_names = options.tasks, options.arms
        meta = {}
    try:
        tasks = load_tasks(names)
    except ValueError as exc:
        return _failed(str(exc))
    if importlib.util.find_spec("pytest") is None:
        return _failed("the tasks are judged by running their tests with pytest: pip install pytest")
    meta = {
        **meta,
        "model": label,
        "tasks": [t.name for t in tasks],
        "arms": list(arm_names),
        "tries": TRIES,
        "max_turns": max_turns,
        "timeout": timeout,
        "status": "running",
        "started_at": meta.get("started_at", time.time()),
    }
    finished = {(c["task"], c["arm"]) for c in cases}
    todo = [(t, a) for t in tasks for a in arm_names if (t.name, a) not in finished]
    aider: str | None = None
    if any(a == "aider" for _, a in todo):
        aider, about = await asyncio.to_thread(find_aider, True, say)
        meta["aider"] = {"executable": aider, "version": about} if aider else {"skipped": about}
        if aider is None:
            say(f"aider arm skipped: {about}")
            todo = [(t, a) for t, a in todo if a != "aider"]
    started = time.monotonic()
    wall = float(meta.get("wall_seconds", 0.0))
    runs_dir = path.with_suffix("")

    def save(state: str) -> BenchReport:
        meta["status"] = state
        meta["wall_seconds"] = round(wall + time.monotonic() - started, 1)
        report = _report(tasks, arm_names, cases, meta)
        save_report(report, cwd, path, {"run": meta})
        report.saved_to = str(path)
        return report

    try:
        if todo:
            async with runner.model_endpoint(settings, options.base_url, options.model, say) as endpoint:
                agent = runner.agent_settings(endpoint.settings, endpoint.base_url, endpoint.model, max_turns)
                arms = Arms(endpoint, agent, aider, timeout)
                for i, (task, arm) in enumerate(todo, 1):
                    say(f"[{i}/{len(todo)}] {task.name} · {arm}")
                    cases.append(await run_case(task, arm, arms, runs_dir / f"{task.name}-{arm}", say))
                    save("running")
    except runner.Unavailable as exc:
        return _failed(str(exc))
    except (ModelError, ConfigError, OSError) as exc:
        return _failed(f"the task benchmark could not run: {exc}")
    complete = all((t.name, a) in {(c["task"], c["arm"]) for c in cases} for t in tasks for a in arm_names)
    return save("done" if complete else "incomplete")


# --- figures and the table ----------------------------------------------------------------------------


def arm_figures(rows: list[dict[str, Any]], arm: str) -> dict[str, Any]:
    n = len(rows)
    passed = sum(r["passed"] for r in rows)
    tokens = sum(r["tokens"] for r in rows)
    seconds = [r["seconds"] for r in rows]
    return {
        "tasks": n,
        "passed": passed,
        "pass_rate": round(passed / n, 3) if n else 0.0,
        "passed_1": sum(r["passed_try"] == 1 for r in rows),
        "passed_2": sum(r["passed_try"] == 2 for r in rows),
        "tokens": tokens,
        "tokens_per_passed": round(tokens / passed) if passed else None,
        "median_seconds": round(statistics.median(seconds), 1) if seconds else None,
        "seconds": round(sum(seconds), 1),
        "turns": sum(r["turns"] for r in rows),
        "false_successes": sum(r["false_successes"] or 0 for r in rows) if arm == "smallcode" else None,
        "tests_changed": sum(bool(r["tests_changed"]) for r in rows),
    }


def bar_misses(figures: dict[str, Any]) -> list[str]:
    """What keeps the run from meeting the bar (empty: met). Needs the SmallCode arm; compares with Aider
    when Aider ran on the same tasks."""
    ours, theirs = figures.get("smallcode"), figures.get("aider")
    if not ours or not ours["tasks"]:
        return []
    misses = []
    if ours["false_successes"]:
        misses.append(f"{ours['false_successes']} false success(es), 0 wanted")
    if ours["pass_rate"] < PASS_RATE_BAR:
        misses.append(f"passed {ours['pass_rate']:.0%} of the tasks, {PASS_RATE_BAR:.0%} wanted")
    if theirs and theirs["tasks"] == ours["tasks"]:
        if ours["passed"] < 2 * theirs["passed"]:
            misses.append(f"passed {ours['passed']}, Aider {theirs['passed']}: twice Aider's wanted")
        per_ours, per_theirs = ours["tokens_per_passed"], theirs["tokens_per_passed"]
        if per_theirs is not None and (per_ours is None or per_ours > per_theirs):
            misses.append(f"tokens per passed task {per_ours or '–'}, Aider {per_theirs}")
        if ours["median_seconds"] > theirs["median_seconds"]:
            misses.append(
                f"median time {ours['median_seconds']:.0f} s, Aider {theirs['median_seconds']:.0f} s"
            )
    return misses


def _report(
    tasks: list[Task], arms: tuple[str, ...], cases: list[dict[str, Any]], meta: dict[str, Any]
) -> BenchReport:
    order = {t.name: i for i, t in enumerate(tasks)}
    rows = sorted(
        (c for c in cases if c["task"] in order and c["arm"] in arms),
        key=lambda c: (order[c["task"]], arms.index(c["arm"])),
    )
    figures: dict[str, Any] = {"model": meta["model"], "tasks": len(tasks), "tries": TRIES}
    for arm in arms:
        arm_rows = [r for r in rows if r["arm"] == arm]
        if arm_rows:
            figures[arm] = arm_figures(arm_rows, arm)
    figures["wall_seconds"] = meta.get("wall_seconds", 0.0)
    misses = bar_misses(figures)
    return BenchReport(
        suite="tasks", figures=figures, cases=rows, text=_table(tasks, arms, rows, figures, meta, misses),
        ok=not misses,
    )  # fmt: skip


def _k(tokens: int | None) -> str:
    return "–" if tokens is None else f"{tokens / 1000:.1f}k"


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "–"
    mark = f"✓{row['passed_try']}" if row["passed"] else "✗ "
    flags = "!" * bool(row["false_successes"]) + "T" * bool(row["tests_changed"])
    return f"{mark} {_k(row['tokens']):>6} {row['seconds']:>4.0f}s {row['turns']:>2}t {flags}".rstrip()


def _table(
    tasks: list[Task],
    arms: tuple[str, ...],
    rows: list[dict[str, Any]],
    figures: dict[str, Any],
    meta: dict[str, Any],
    misses: list[str],
) -> str:
    lines = [
        f"task benchmark: {figures['model']}, {len(tasks)} task{'s' * (len(tasks) != 1)}, {TRIES} tries each (the second with the failing "
        f"tests' output), at most {meta['max_turns']} turns and {meta['timeout']:.0f} s a try; "
        f"{figures['wall_seconds'] / 60:.1f} min",
        "",
        f"{'arm':<10} {'passed':>10} {'@1':>3} {'@2':>3} {'tokens':>8} {'per pass':>8} {'median':>7} "
        f"{'false successes':>15}",
    ]
    for arm in arms:
        f = figures.get(arm)
        if f is None:
            lines.append(f"{arm:<10} (not run)")
            continue
        false = "–" if f["false_successes"] is None else str(f["false_successes"])
        passed = f"{f['passed']}/{f['tasks']} {f['pass_rate']:.0%}"
        lines.append(
            f"{arm:<10} {passed:>10} {f['passed_1']:>3} "
            f"{f['passed_2']:>3} {_k(f['tokens']):>8} {_k(f['tokens_per_passed']):>8} "
            f"{f['median_seconds']:>6.0f}s {false:>15}"
        )
    lines += ["", (f"{'task':<24} {'kind':<8} " + " ".join(f"{arm:<24}" for arm in arms)).rstrip()]
    by_key = {(r["task"], r["arm"]): r for r in rows}
    for task in tasks:
        cells = " ".join(f"{_cell(by_key.get((task.name, arm))):<24}" for arm in arms)
        lines.append(f"{task.name:<24} {task.kind:<8} {cells}".rstrip())
    lines.append(
        "✓1/✓2 passed on try 1/2, ✗ failed both; tokens, wall time and turns over both tries; ! reported "
        "success while its tests failed; T edited a test file (restored before judging)"
    )
    if "skipped" in meta.get("aider", {}):
        lines.append(f"aider arm skipped: {meta['aider']['skipped']}")
    if meta.get("status") != "done":
        lines.append(f"run {meta.get('status')}: `smallcode bench tasks --resume` continues it")
    lines.append(_bar_line(figures, misses))
    return "\n".join(lines)


def _bar_line(figures: dict[str, Any], misses: list[str]) -> str:
    if misses:
        return "bar missed: " + "; ".join(misses)
    ours, theirs = figures.get("smallcode"), figures.get("aider")
    if ours and not (theirs and theirs["tasks"] == ours["tasks"]):
        # Half the bar is against Aider on the same tasks: without that arm, only the rest can be said.
        return "bar met in part: the pass rate and no false successes; Aider did not run on these tasks"
    return "bar met"


def _failed(message: str) -> BenchReport:
    return BenchReport(suite="tasks", ok=False, figures={"error": message}, text=f"task benchmark: {message}")


def run(cwd: Path, options: Options | None = None) -> BenchReport:
    """The CLI entry: settings from the workspace, the embedded model unless --base-url, progress on stderr."""
    try:
        settings, max_turns = runner.bench_settings(cwd)
        timeout = RUN_TIMEOUT
        raw = os.environ.get("SMALLCODE_BENCH_TIMEOUT", "")
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
        return _failed(str(exc))

    def status(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    return asyncio.run(run_suite(settings, cwd, options, max_turns=max_turns, timeout=timeout, status=status))
