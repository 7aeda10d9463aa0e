"""`smallcode eval [--source recorded|traces|all] [--json]`: prompt evaluations — tool-selection accuracy and
format adherence (parse rate, repairs) per model and profile, on the recorded replies and this workspace's
traces; printed as a table and saved under .smallcode/evals/."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent_core.cli.common import error
from agent_core.observe.evals import SOURCES


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "eval", help="tool choice and call-format figures per model and profile", description=__doc__
    )
    p.add_argument("--source", choices=list(SOURCES), default="all", help="which replies (default: all)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--cwd", default=argparse.SUPPRESS, help="project directory (default: current)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agent_core.observe.evals import evaluate, save, table

    cwd = Path(args.cwd)
    result = evaluate(cwd, SOURCES[args.source])
    if not result["total"]["replies"]:
        error(
            "no replies to evaluate: this project has no traces yet (run a task first, or use --source recorded)"
        )
        return 1
    path = save(result, cwd)
    if args.json:
        sys.stdout.write(json.dumps({**result, "saved_to": str(path)}) + "\n")
    else:
        print(table(result))
        print(f"saved to {path}", file=sys.stderr)
    return 0
