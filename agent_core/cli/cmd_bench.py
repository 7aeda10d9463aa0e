"""`smallcode bench SUITE [--json]`: run a benchmark suite, print its figures, save it under .smallcode/benchmarks/."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent_core.bench.registry import SUITES, load_suite
from agent_core.bench.report import save_report
from agent_core.cli.common import error


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="run a benchmark suite (" + ", ".join(SUITES) + ")")
    p.add_argument("suite", help="one of: " + ", ".join(SUITES))
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument(
        "--cwd", default=argparse.SUPPRESS, help="where results are saved (.smallcode/benchmarks/)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.suite not in SUITES:
        error(f"unknown suite {args.suite!r}; choose one of: {', '.join(SUITES)}")
        return 2
    try:
        suite = load_suite(args.suite)
    except (ImportError, AttributeError) as exc:
        error(f"suite {args.suite!r} is not available in this installation ({exc})")
        return 2
    cwd = Path(args.cwd)
    report = suite(cwd)
    path = save_report(report, cwd)
    if args.json:
        sys.stdout.write(json.dumps({**report.model_dump(), "saved_to": str(path)}) + "\n")
    else:
        print(report.text or json.dumps(report.figures, indent=2))
        print(f"saved to {path}", file=sys.stderr)
    return 0 if report.ok else 1
