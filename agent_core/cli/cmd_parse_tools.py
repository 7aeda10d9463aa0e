"""`smallcode parse-tools --tools TOOLS.json [FILE]`: the tool calls a raw model reply contains, as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent_core.parsing import parse_tool_calls


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("parse-tools", help="print the tool calls found in a raw model reply (JSON list)")
    p.add_argument("--tools", required=True, help="JSON file holding an OpenAI `tools` list")
    p.add_argument("file", nargs="?", help="the raw reply (default: stdin)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        tools = json.loads(Path(args.tools).read_text(encoding="utf-8"))
        text = Path(args.file).read_text(encoding="utf-8") if args.file else sys.stdin.read()
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        print(f"smallcode parse-tools: {exc}", file=sys.stderr)
        return 2
    if not isinstance(tools, list):
        print(
            "smallcode parse-tools: --tools must hold a JSON list (an OpenAI `tools` list)", file=sys.stderr
        )
        return 2
    calls = parse_tool_calls(text, tools)
    print(json.dumps([{"name": c.name, "arguments": c.arguments} for c in calls], ensure_ascii=False))
    return 0
