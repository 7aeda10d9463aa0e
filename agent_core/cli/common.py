"""Helpers shared by CLI subcommands: common options, building the agent, printing progress."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent_core.agent import SmallCode


def add_agent_options(parser: argparse.ArgumentParser) -> None:
    """--cwd/--model/--base-url also after the subcommand (SUPPRESS keeps the top-level value when absent)."""
    parser.add_argument("--cwd", default=argparse.SUPPRESS, help="project directory (workspace root)")
    parser.add_argument("--model", default=argparse.SUPPRESS, help="model name (overrides SMALLCODE_MODEL)")
    parser.add_argument("--base-url", default=argparse.SUPPRESS, help="OpenAI-compatible endpoint URL")


def make_agent(args: argparse.Namespace, **overrides: Any) -> SmallCode:
    """Raises ConfigError (exit 2) for bad settings."""
    return SmallCode(model=args.model, base_url=args.base_url, cwd=args.cwd, **overrides)


MAX_SHOWN_CHARS = 20_000
"""A model's answer longer than this is cut on the terminal (`smallcode run --json` and the trace have it all)."""


def shown_answer(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """`text`, or its first `limit` characters and a line saying how much was left out."""
    if len(text) <= limit:
        return text
    return (
        text[:limit] + f"\n[… {len(text) - limit} more characters not shown; --json prints the whole answer]"
    )


def error(message: str) -> None:
    print(f"smallcode: {message}", file=sys.stderr)


async def terminal_confirm(command: str, reason: str) -> bool:
    """Ask the user at the terminal before a command on the shell policy's ask list runs."""
    from prompt_toolkit import PromptSession

    print(f"\nThe agent wants to run: {command}\n({reason})", file=sys.stderr)
    session: PromptSession[str] = PromptSession()
    try:
        answer = await session.prompt_async("Allow it? [y/N] ")
    except (EOFError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("y", "yes")


def attach_confirm(agent: SmallCode) -> None:
    """On a terminal, ask-list commands are confirmed by the user; without one they are refused."""
    if sys.stdin.isatty() and sys.stderr.isatty():
        agent.ctx.confirm = terminal_confirm
