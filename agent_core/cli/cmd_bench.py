"""`smallcode bench SUITE [--json]`: run a benchmark suite, print its figures, save it under .smallcode/benchmarks/.

`smallcode bench tasks [--tasks a,b] [--arms smallcode,aider] [--resume]` takes the model like the other
model-driven suites (the embedded one by default) or --base-url/--model for another server.

`smallcode bench diff A B` compares two saved runs (agent_core/bench/diff.py states the rule): exit 0 when B is
better, 1 when worse, 2 when within noise (or when a run cannot be read)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent_core.bench.registry import MODEL_SUITES, SUITES, load_suite
from agent_core.bench.report import BenchReport, save_report
from agent_core.cli.common import add_agent_options, error

TASKS_ONLY = ("tasks", "arms", "resume")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "bench",
        help="run a benchmark suite (" + ", ".join(SUITES) + "), or `bench diff A B` to compare two runs",
    )
    p.add_argument("suite", help="one of: " + ", ".join(SUITES) + "; or diff")
    p.add_argument(
        "runs", nargs="*", help="diff: the two saved runs A and B (paths or names in .smallcode/benchmarks)"
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--tasks", help="tasks, smoke, polyglot: only these tasks (comma-separated names)")
    p.add_argument("--arms", help="tasks suite: smallcode, aider or both (default: smallcode,aider)")
    p.add_argument(
        "--resume", action="store_true", help="tasks suite: continue the latest run, skipping finished tasks"
    )
    add_agent_options(p)  # --cwd (where results are saved), --model, --base-url
    p.set_defaults(func=run)


def _names(raw: str | None) -> list[str] | None:
    return None if raw is None else [n.strip() for n in raw.split(",") if n.strip()]


def _run_tasks(args: argparse.Namespace, cwd: Path) -> BenchReport | None:
    from agent_core.bench import tasks_suite
    from agent_core.bench.tasks import load_tasks

    if args.resume and (args.tasks is not None or args.arms is not None):
        error("--resume continues the latest run with its own tasks and arms; leave out --tasks and --arms")
        return None
    tasks = _names(args.tasks)
    arms = tuple(_names(args.arms) or tasks_suite.ARMS)
    unknown = [a for a in arms if a not in tasks_suite.ARMS]
    if unknown or not arms:
        error(f"unknown arm {', '.join(unknown)}; choose from: {', '.join(tasks_suite.ARMS)}")
        return None
    if tasks is not None:
        try:
            load_tasks(tasks)
        except ValueError as exc:
            error(str(exc))
            return None
    if args.base_url and not args.model:
        error("--base-url needs --model (the model's name on that server)")
        return None
    options = tasks_suite.Options(
        tasks=tasks, arms=arms, resume=args.resume, base_url=args.base_url, model=args.model
    )
    return tasks_suite.run(cwd, options)


def _diff(args: argparse.Namespace, cwd: Path) -> int:
    from agent_core.bench.diff import NOISE, DiffError, compare, load_run, render

    if len(args.runs) != 2:
        error("bench diff needs two saved runs: smallcode bench diff A.json B.json")
        return NOISE
    try:
        path_a, a = load_run(args.runs[0], cwd)
        path_b, b = load_run(args.runs[1], cwd)
        diff = compare(a, b)
    except DiffError as exc:
        error(str(exc))
        return NOISE
    if args.json:
        body = {"a": str(path_a), "b": str(path_b), "gained": diff.gained, "lost": diff.lost, "p": diff.p,
                "verdict": diff.verdict, "rows": [{"task": k, "a": x, "b": y} for k, x, y in diff.rows]}  # fmt: skip
        sys.stdout.write(json.dumps(body) + "\n")
    else:
        print(render(path_a, a, path_b, b, diff))
    return diff.verdict


def run(args: argparse.Namespace) -> int:
    if args.suite == "diff":
        return _diff(args, Path(args.cwd))
    if args.runs:
        error(f"unexpected arguments {' '.join(args.runs)}: only `bench diff A B` takes runs")
        return 2
    if args.suite not in SUITES:
        error(f"unknown suite {args.suite!r}; choose one of: {', '.join(SUITES)}")
        return 2
    cwd = Path(args.cwd)
    if args.suite == "tasks":
        report = _run_tasks(args, cwd)
        if report is None:
            return 2
    else:
        allowed = ("tasks",) if args.suite in MODEL_SUITES else ()
        given = [
            f"--{name}"
            for name in TASKS_ONLY
            if name not in allowed and getattr(args, name) not in (None, False)
        ]
        if given:
            error(f"{', '.join(given)} belong to the tasks suite")
            return 2
        if args.suite in MODEL_SUITES and args.base_url and not args.model:
            error("--base-url needs --model (the model's name on that server)")
            return 2
        try:
            suite = load_suite(args.suite)
        except (ImportError, AttributeError) as exc:
            error(f"suite {args.suite!r} is not available in this installation ({exc})")
            return 2
        if args.suite in MODEL_SUITES:
            report = suite(cwd, base_url=args.base_url, model=args.model, names=_names(args.tasks))
        else:
            report = suite(cwd)
    # The tasks suite saves as it goes; when it saved nothing, it did not run (the report says why).
    path = report.saved_to or ("" if args.suite == "tasks" else str(save_report(report, cwd)))
    if args.json:
        sys.stdout.write(json.dumps({**report.model_dump(), "saved_to": path}) + "\n")
    else:
        print(report.text or json.dumps(report.figures, indent=2))
        if path:
            print(f"saved to {path}", file=sys.stderr)
    return 0 if report.ok else 1
