"""`smallcode scaffold SPEC [--out DIR] [--json]`: a project skeleton (FastAPI service or argparse CLI, SQLite,
tests) from one TOML spec, written through the workspace seam with a checkpoint (`/undo` removes it).

Exit 0 when written, 1 when it was refused (files in the way; nothing written), 2 for a bad spec or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from agent_core.config import ConfigError, load_settings
from agent_core.safety.checkpointing import CheckpointingWorkspace
from agent_core.scaffold import Scaffolded, ScaffoldError, SpecError, load_scaffold_spec, scaffold
from agent_core.workspace import FileWorkspace


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "scaffold",
        help="create a project skeleton (FastAPI service or CLI, SQLite, tests) from one spec file",
        description="Examples of SPEC: docs/scaffold/notes-api.toml (FastAPI) and docs/scaffold/todo-cli.toml "
        "(argparse) in SmallCode's repository.",
    )
    p.add_argument("spec", metavar="SPEC", help="the spec file (TOML)")
    p.add_argument("--out", default=".", help="folder in the workspace to write into (default: its root)")
    p.add_argument("--json", action="store_true", help="print one JSON object: name, kind, out, files")
    p.add_argument("--cwd", dest="scaffold_cwd", default=None, help="the workspace; default: current")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = Path(args.scaffold_cwd or getattr(args, "cwd", None) or ".").resolve()
    if not root.is_dir():
        print(f"smallcode scaffold: {root} is not a directory", file=sys.stderr)
        return 2
    try:
        load_scaffold_spec(args.spec)  # a bad spec is a usage error (2), refused before anything else
        settings = load_settings(root)
    except (SpecError, ConfigError) as exc:
        print(f"smallcode scaffold: {exc}", file=sys.stderr)
        return 2
    workspace = CheckpointingWorkspace(FileWorkspace(root), enabled=settings.snapshot)
    try:
        done = asyncio.run(scaffold(Path(args.spec), workspace, args.out))
    except ScaffoldError as exc:
        print(f"smallcode scaffold: {exc}", file=sys.stderr)
        return 1
    finally:
        workspace.finish_turn()
    _report(done, args.json)
    return 0


def _report(done: Scaffolded, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps({"name": done.spec.name, "kind": done.spec.kind, "out": done.out, "files": done.files})
        )
        return
    print(f"scaffolded the {done.spec.kind} project {done.spec.name}: {len(done.files)} files")
    for name in done.files:
        print(f"  {name}")
    where = "" if done.out in (".", "") else f"cd {done.out} && "
    print(f"next: {where}python -m pytest")
