"""MCP servers through the official SDK: started lazily (the first run of a model that gets tools, or /mcp start),
stopped with the agent (`aclose`: the end of `smallcode run`, the session, the editor session).

Each server lives in its own asyncio task that enters the SDK's context managers and leaves them when told
to stop: anyio cancel scopes must be entered and left in one task, while calls come from the agent's runs.
A stdio server's environment is PATH-like basics plus its own `env`: no SMALLCODE_* setting and no API key of
ours is inherited. Its stderr goes to .smallcode/logs/mcp-NAME.log (the tail is shown when it fails to start).
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp import types as mcp_types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from agent_core.extend.mcp_config import McpConfig, ServerEntry, load_mcp_config
from agent_core.safety.endpoints import EndpointError, check_url

log = logging.getLogger("smallcode.mcp")

START_TIMEOUT = 60.0
"""Seconds a server may take to start and list its tools."""
CALL_TIMEOUT = 120.0
STOP_TIMEOUT = 10.0
BASIC_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")
"""What a stdio server inherits (besides its own `env`): enough to find programs and write temp files."""


def server_environment(entry: ServerEntry) -> dict[str, str]:
    """PATH-like basics from our environment plus the entry's `env`; nothing else (no keys, no settings)."""
    env = {k: v for k, v in os.environ.items() if k in BASIC_ENV and not v.startswith("()")}
    env.update(entry.env)
    return env


def first_line(exc: BaseException) -> str:
    """One readable line for an error, from inside the task groups' exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class McpServer:
    """One configured server: its state, its tools once listed, and calls to them."""

    def __init__(self, name: str, entry: ServerEntry, root: Path) -> None:
        self.name = name
        self.entry = entry
        self.root = root
        """The workspace: a stdio server's working directory unless its entry gives one (relative to it)."""
        self.log_path = root / ".smallcode" / "logs" / f"mcp-{name}.log"
        self.state = "not started"
        """not started | starting | running | failed | exited | stopped"""
        self.error: str | None = None
        self.tools: list[mcp_types.Tool] = []
        self._session: ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()

    async def start(self) -> None:
        """Start the server and list its tools; on failure `state` is "failed" and `error` says why."""
        if self.state in ("running", "starting"):
            return
        self.state, self.error, self.tools = "starting", None, []
        self._ready, self._stop = asyncio.Event(), asyncio.Event()
        self._task = asyncio.create_task(self._serve(), name=f"mcp-{self.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), START_TIMEOUT)
        except TimeoutError:
            await self.stop()
            self.state, self.error = "failed", f"did not start within {START_TIMEOUT:.0f} s"
        if self.state == "failed" and self.entry.command:
            tail = self._log_tail()
            if tail:
                self.error = f"{self.error}; its stderr ends: {tail}"

    async def _serve(self) -> None:
        try:
            async with AsyncExitStack() as stack:
                read, write = await self._connect(stack)
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                tools: list[mcp_types.Tool] = []
                cursor: str | None = None
                while True:  # tools come in pages
                    listing = await session.list_tools(cursor)
                    tools += listing.tools
                    cursor = listing.nextCursor
                    if not cursor:
                        break
                self._session, self.tools, self.state = session, tools, "running"
                self._ready.set()
                await self._stop.wait()
                self.state = "stopped"
        except asyncio.CancelledError:
            self.state = "stopped"
        except BaseException as exc:  # the SDK raises exception groups; one line is what the user needs
            self.error = first_line(exc)
            self.state = "failed" if not self._ready.is_set() else "exited"
            log.warning("MCP server %s: %s", self.name, self.error)
        finally:
            self._session = None
            self._ready.set()

    async def _connect(self, stack: AsyncExitStack) -> tuple[Any, Any]:
        entry = self.entry
        if entry.command:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            errlog = stack.enter_context(open(self.log_path, "w", encoding="utf-8"))  # noqa: SIM115
            params = StdioServerParameters(
                command=entry.command,
                args=entry.args,
                env=server_environment(entry),
                cwd=self.root / entry.cwd if entry.cwd else self.root,
            )
            read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
            return read, write
        assert entry.url is not None
        try:  # the user's (or a trusted workspace's) endpoint: LAN and local are fine, cloud metadata is not
            await asyncio.to_thread(check_url, entry.url, True)
        except EndpointError as exc:
            raise RuntimeError(str(exc)) from None
        client = await stack.enter_async_context(
            httpx.AsyncClient(headers=entry.headers, timeout=httpx.Timeout(30.0, read=CALL_TIMEOUT))
        )
        read, write, _ = await stack.enter_async_context(
            streamable_http_client(entry.url, http_client=client)
        )
        return read, write

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-3:])[-400:]

    async def call(self, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        if self._session is None:
            await self.start()
        if self._session is None:
            raise RuntimeError(f"MCP server {self.name} is not running ({self.error or self.state})")
        return await self._session.call_tool(
            tool, arguments, read_timeout_seconds=timedelta(seconds=CALL_TIMEOUT)
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
        except Exception:  # already reported by _serve
            pass
        if self.state in ("running", "starting"):
            self.state = "stopped"

    def status(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "transport": self.entry.transport,
            "target": self.entry.url or " ".join([self.entry.command or "", *self.entry.args]),
            "source": self.entry.source,
            "trust": self.entry.trust,
            "state": self.state,
            "error": self.error,
            "tools": [t.name for t in self.tools],
        }


class McpManager:
    """The servers of one workspace; configuration is read at first use (and again by `reload`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config: McpConfig | None = None
        self.servers: dict[str, McpServer] = {}

    def load(self, config: McpConfig | None = None) -> McpConfig:
        if config is None and self.config is not None:
            return self.config
        self.config = config or load_mcp_config(self.root)
        self.servers = {name: McpServer(name, e, self.root) for name, e in self.config.servers.items()}
        return self.config

    async def reload(self) -> McpConfig:
        await self.aclose()
        self.config = None
        return self.load()

    async def start(self, names: list[str] | None = None, *, retry_failed: bool = False) -> None:
        """Start the servers not yet running (all, or `names`), side by side. A server that failed to start
        is tried again only when asked (`retry_failed`); one that exited is restarted."""
        self.load()
        wanted = [
            s
            for s in self.servers.values()
            if (names is None or s.name in names)
            and (s.state in ("not started", "exited", "stopped") or (retry_failed and s.state == "failed"))
        ]
        if wanted:
            await asyncio.gather(*(s.start() for s in wanted))

    def running(self) -> list[McpServer]:
        return [s for s in self.servers.values() if s.state == "running"]

    async def aclose(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.servers.values()), return_exceptions=True)
