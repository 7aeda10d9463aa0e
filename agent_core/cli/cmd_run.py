"""`smallcode run [--json] [--max-turns N] TASK`: run one task; exit 0 success, 1 failure, 2 bad usage/config."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from agent_core.cli.common import add_agent_options, attach_confirm, error, make_agent, shown_answer
from agent_core.config import ConfigError
from agent_core.result import RunResult
from agent_core.tools.base import describe_call


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "run",
        help="run one task in the project and exit",
        description="Run one task. Exit 0 when it succeeded, 1 when it failed, 2 for bad usage "
        "or configuration.",
    )
    p.add_argument("task", nargs="+", help="what to do, in plain words")
    p.add_argument("--json", action="store_true", help="print exactly one RunResult JSON object on stdout")
    p.add_argument("--max-turns", type=int, default=None, help="upper bound on model turns")
    add_agent_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    task = " ".join(args.task).strip()
    if not task:
        error("the task is empty")
        return 2
    if args.max_turns is not None and args.max_turns < 1:
        error("--max-turns must be at least 1")
        return 2
    try:
        agent = make_agent(args, max_turns=args.max_turns)
    except ConfigError as exc:
        error(str(exc))
        return 2
    quiet = bool(args.json)
    attach_confirm(agent)

    async def on_tool_start(payload: dict[str, Any]) -> None:
        print(f"→ {describe_call(payload['name'], payload['args'])}", file=sys.stderr, flush=True)

    async def on_tool_end(payload: dict[str, Any]) -> None:
        mark = "ok" if payload["ok"] else "failed"
        print(f"  {mark} ({payload['ms']} ms)", file=sys.stderr, flush=True)

    for notice in ("status", "model_switch", "cloud"):  # routing switches and cloud steps are always told
        agent.on(notice, lambda payload: print(payload["text"], file=sys.stderr, flush=True))
    if not quiet:
        agent.on("tool_start", on_tool_start)
        agent.on("tool_end", on_tool_end)

    async def go() -> RunResult:
        try:
            return await agent.run(task)
        finally:
            await agent.aclose()

    result = asyncio.run(go())
    if args.json:
        sys.stdout.write(result.model_dump_json() + "\n")
    else:
        print_summary(result)
    return 0 if result.success else 1


def print_summary(result: RunResult) -> None:
    if result.response:
        print(shown_answer(result.response))
    lines = []
    if result.files_created:
        lines.append("created: " + ", ".join(result.files_created))
    if result.files_edited:
        lines.append("edited: " + ", ".join(result.files_edited))
    if result.checks is not None and result.checks.restored_tests:
        lines.append(
            "restored (the task did not ask to change tests): " + ", ".join(result.checks.restored_tests)
        )
    if result.checks is not None:
        lines.append(result.checks.summary)
    elif result.success:
        lines.append("not verified: no checks ran")
    lines.append(
        f"{'done' if result.success else 'failed'} in {result.turns} turn(s), {len(result.tool_calls)} "
        f"tool call(s), {result.usage.total_tokens} tokens, {result.duration_ms / 1000:.1f} s"
    )
    print("\n".join(lines), file=sys.stderr)
