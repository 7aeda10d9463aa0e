"""Helpers shared by CLI subcommands: common options, building the agent, printing progress."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent_core.agent import SmallCode
from agent_core.config import load_settings
from agent_core.extend.mcp_config import load_mcp_config


def add_agent_options(parser: argparse.ArgumentParser) -> None:
    """--cwd/--model/--base-url also after the subcommand (SUPPRESS keeps the top-level value when absent)."""
    parser.add_argument("--cwd", default=argparse.SUPPRESS, help="project directory (workspace root)")
    parser.add_argument("--model", default=argparse.SUPPRESS, help="model name (overrides SMALLCODE_MODEL)")
    parser.add_argument("--base-url", default=argparse.SUPPRESS, help="OpenAI-compatible endpoint URL")


def make_agent(args: argparse.Namespace, **overrides: Any) -> SmallCode:
    """Raises ConfigError (exit 2) for bad settings."""
    review_workspace_settings(args, **overrides)
    return SmallCode(model=args.model, base_url=args.base_url, cwd=args.cwd, **overrides)


def review_workspace_settings(args: argparse.Namespace, **overrides: Any) -> None:
    """On a terminal, ask once about the project's settings that weaken safety and its MCP servers (the answers
    are remembered per workspace, so the agent's own loading finds them); elsewhere they are ignored with a warning.
    Raises ConfigError for bad settings."""
    ask = terminal_trust if sys.stdin.isatty() and sys.stderr.isatty() else None
    load_settings(args.cwd, ask=ask, model=args.model, base_url=args.base_url, **overrides)
    if ask is not None:  # a project's .smallcode/mcp.json starts programs: the same question, remembered
        load_mcp_config(Path(args.cwd).resolve(), ask=ask)


def terminal_trust(question: str) -> bool:
    """A yes/no question on the terminal (stderr, so stdout stays for results); no answer means no."""
    print(f"smallcode: {question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
    except (EOFError, KeyboardInterrupt, OSError):
        answer = ""
    allowed = answer.strip().lower() in ("y", "yes")
    print(
        f"smallcode: {'using' if allowed else 'ignoring'} them; remembered for this project "
        "(asked again if they change)",
        file=sys.stderr,
    )
    return allowed


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
