"""`smallcode detect [--json] [--cwd DIR]`: the project's runtime, package manager, framework, test command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent_core.config import ConfigError, load_settings
from agent_core.planning.detect import detect_project


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "detect", help="show the detected runtime, package manager, framework and test command"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (null where unknown)")
    # A separate dest: a subparser default would otherwise overwrite the global --cwd given before `detect`.
    p.add_argument("--cwd", dest="detect_cwd", default=None, help="project directory; default: current")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = Path(args.detect_cwd or getattr(args, "cwd", None) or ".")
    if not root.is_dir():
        print(f"smallcode detect: {root} is not a directory", file=sys.stderr)
        return 2
    try:
        settings = load_settings(root)
    except ConfigError as exc:
        print(f"smallcode detect: {exc}", file=sys.stderr)
        return 2
    info = detect_project(root, settings)
    if args.json:
        print(json.dumps(info.public()))
        return 0
    labels = {
        "runtime": "runtime",
        "package_manager": "package manager",
        "framework": "framework",
        "test_command": "test command",
    }
    for key, value in info.public().items():
        shown = value if value is not None else "(unknown)"
        if key == "test_command" and settings.test_disable:
            shown = "(disabled by SMALLCODE_TEST_DISABLE)"
        print(f"{labels[key]:<16} {shown}")
    if info.linter:
        print(f"{'linter':<16} {info.linter}")
    if info.also:
        print(f"{'also found':<16} {', '.join(info.also)}")
    return 0
