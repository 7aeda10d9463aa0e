"""`smallcode` alone: an interactive session that streams the model's answer and shows each tool call."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any

from rich.console import Console
from rich.markup import escape

from agent_core.agent import SmallCode
from agent_core.cli.common import (
    MAX_SHOWN_CHARS,
    attach_confirm,
    error,
    review_workspace_settings,
    shown_answer,
)
from agent_core.commands import execute_command
from agent_core.config import ConfigError
from agent_core.tools.base import describe_call

BANNER = "SmallCode — type a task, /help for commands, /quit to leave."


async def _lines(interactive: bool) -> AsyncIterator[str]:
    """User input: prompt_toolkit (history, editing) on a terminal, plain lines from a pipe."""
    if interactive:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import InMemoryHistory

        session: PromptSession[str] = PromptSession(history=InMemoryHistory())
        while True:
            try:
                yield await session.prompt_async("› ")
            except (EOFError, KeyboardInterrupt):
                return
    else:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            yield line.rstrip("\n")


CALL_OPENERS = ("```", "<tool_call>", "<function", "{", "[", "<|")
"""A reply starting like this is (most likely) a tool call: it is shown as "→ tool …", not as text."""


class Session:
    def __init__(self, agent: SmallCode, console: Console) -> None:
        self.agent = agent
        self.console = console
        self.pending = ""
        """The start of this turn's reply, held back until it is clearly prose rather than a tool call."""
        self.mode = "undecided"  # per turn: "undecided", "text" (streamed) or "hidden" (a tool call)
        self.streamed = 0
        """Characters of this turn's answer written so far (at most MAX_SHOWN_CHARS are)."""
        agent.on("turn", self._on_turn)
        agent.on("token", self._on_token)
        agent.on("tool_start", self._on_tool_start)
        agent.on("tool_end", self._on_tool_end)
        agent.on("error", self._on_error)
        agent.on("status", lambda payload: self.console.print(f"[dim]{payload['text']}[/dim]"))
        for notice in ("model_switch", "cloud"):  # the user is told of each routing switch and cloud step
            agent.on(
                notice, lambda payload: self.console.print(f"[yellow]{escape(payload['text'])}[/yellow]")
            )

    def _write(self, text: str) -> None:
        room = MAX_SHOWN_CHARS - self.streamed
        if room <= 0:
            return
        self.streamed += len(text)
        if len(text) > room:
            text = text[:room] + "\n[… the rest of this answer is not shown]"
        self.console.file.write(text)
        self.console.file.flush()

    async def _on_turn(self, payload: dict[str, Any]) -> None:
        self._end_stream()
        self.pending, self.mode, self.streamed = "", "undecided", 0

    def _end_stream(self) -> None:
        if self.mode == "text":
            self.console.file.write("\n")
            self.console.file.flush()
        self.mode = "hidden" if self.mode == "text" else self.mode

    async def _on_token(self, payload: dict[str, Any]) -> None:
        if self.mode == "hidden":
            return
        if self.mode == "text":
            self._write(payload["text"])
            return
        self.pending += payload["text"]
        head = self.pending.lstrip()
        if len(head) < 12 and not head.endswith("\n"):
            return  # not enough yet to tell prose from a call
        if head.startswith(CALL_OPENERS):
            self.mode = "hidden"
        else:
            self.mode = "text"
            self._write(self.pending)

    async def _on_tool_start(self, payload: dict[str, Any]) -> None:
        self._end_stream()
        self.mode = "hidden"
        self.console.print(
            f"[cyan]→ {describe_call(payload['name'], payload['args'])}[/cyan]", highlight=False, markup=True
        )

    async def _on_tool_end(self, payload: dict[str, Any]) -> None:
        style, word = ("green", "ok") if payload["ok"] else ("red", "failed")
        self.console.print(f"  [{style}]{word}[/{style}] ({payload['ms']} ms)")

    async def _on_error(self, payload: dict[str, Any]) -> None:
        self._end_stream()
        self.console.print(f"[red]error:[/red] {payload['error']}", highlight=False)

    async def handle(self, line: str) -> bool:
        """Handle one input line; False when the session should end."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            name, _, rest = line[1:].partition(" ")
            if name in ("quit", "exit", "q"):
                return False
            answer = await execute_command(self.agent, name, rest or None)
            self.console.print(answer.text, highlight=False, markup=False)
            return True
        result = await self.agent.run(line)
        streamed_answer = self.mode == "text"
        self._end_stream()
        files = result.files_created + result.files_edited
        status = "[green]done[/green]" if result.success else "[red]failed[/red]"
        if result.response and not (streamed_answer and result.success):
            self.console.print(shown_answer(result.response), highlight=False, markup=False)
        self.console.print(
            f"{status} · {result.turns} turn(s) · {len(result.tool_calls)} tool call(s) · "
            f"{result.usage.total_tokens} tokens" + (f" · files: {', '.join(files)}" if files else ""),
            highlight=False,
        )
        return True


def run_interactive(args: argparse.Namespace) -> int:
    try:
        review_workspace_settings(args)
        agent = SmallCode(model=args.model, base_url=args.base_url, cwd=args.cwd)
    except ConfigError as exc:
        error(str(exc))
        return 2
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    attach_confirm(agent)
    console = Console(highlight=False, soft_wrap=True)

    async def main() -> None:
        session = Session(agent, console)
        console.print(BANNER)
        try:
            async for line in _lines(interactive):
                if not await session.handle(line):
                    break
        finally:
            await agent.aclose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
