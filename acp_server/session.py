"""One ACP session: a SmallCode agent bound to the session's directory, its runs, and what they show.

The agent's events become session/update notifications: the model's text as agent_message_chunk, each tool
call as tool_call then tool_call_update (kind, title, locations, the diff of each file it changed), the TODO
plan as plan entries, start-up progress ("loading the model…") as agent_thought_chunk. Shell commands on the
ask list go through session/request_permission; a run is cancelled with session/cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from acp import (
    start_tool_call,
    tool_diff_content,
    update_agent_message_text,
    update_agent_thought_text,
    update_plan,
    update_tool_call,
    update_user_message_text,
)
from acp.helpers import update_available_commands
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    FileEditToolCallContent,
    PermissionOption,
    StopReason,
    ToolCallUpdate,
)

from acp_server.errors import INVALID_REQUEST, user_error
from acp_server.mcp import SOURCE as MCP_SOURCE
from acp_server.mcp import session_config
from acp_server.updates import available_commands, plan_entries, tool_kind, tool_locations, tool_title
from acp_server.workspace import EditorWorkspace
from agent_core.agent import SmallCode
from agent_core.config import ConfigError
from agent_core.result import RunResult

log = logging.getLogger(__name__)

ALLOW, REJECT = "allow", "reject"
PERMISSION_OPTIONS = [
    PermissionOption(option_id=ALLOW, name="Allow once", kind="allow_once"),
    PermissionOption(option_id=REJECT, name="Deny", kind="reject_once"),
]
PLAN_EVENTS = {"plan_created", "step_started", "step_done", "step_failed", "step_skipped"}


class AcpSession:
    """A session's agent and its one run at a time. `conn` is the ACP client connection."""

    def __init__(
        self,
        conn: Any,
        session_id: str,
        root: Path,
        capabilities: ClientCapabilities | None,
        overrides: dict[str, Any] | None = None,
        mcp_servers: list[Any] | None = None,
    ) -> None:
        self.conn = conn
        self.session_id = session_id
        self.root = root
        fs = capabilities.fs if capabilities is not None else None
        self.workspace = EditorWorkspace(
            root,
            conn,
            session_id,
            reads=bool(fs and fs.read_text_file),
            writes=bool(fs and fs.write_text_file),
            on_change=self._on_change,
        )
        try:
            with _warnings("smallcode.trust") as notices:  # the project's settings that were ignored
                self.agent = SmallCode(
                    cwd=root, workspace=self.workspace, confirm=self._confirm, **(overrides or {})
                )
        except ConfigError as exc:
            raise user_error(str(exc)) from None
        self.notices = notices
        """Warnings the user should see in the panel (stderr is the editor's log); shown with the first answer."""
        self.agent.session_id = session_id
        self.agent.on("*", self._on_event)
        if mcp_servers:  # the editor's MCP servers join the user's; they start with the first run
            config = session_config(root, mcp_servers)
            self.agent.mcp.load(config)
            self.notices += [p for p in config.problems if p.startswith(MCP_SOURCE)]
            log.info("MCP servers for session %s: %s", session_id, ", ".join(config.servers) or "none")
        self.task: asyncio.Task[RunResult] | None = None
        self._calls = 0
        self._current: str | None = None
        self._diffs: dict[str, list[FileEditToolCallContent]] = {}
        self._turn_text = ""

    # sending ----------------------------------------------------------------------------------------
    async def send(self, update: Any) -> None:
        try:
            await self.conn.session_update(session_id=self.session_id, update=update)
        except Exception as exc:  # the client went away: the run goes on, its result is saved
            log.debug("session/update not delivered: %s", exc)

    async def announce_commands(self) -> None:
        from agent_core.commands import COMMANDS

        await self.send(update_available_commands(available_commands(COMMANDS)))

    async def replay(self) -> None:
        """The saved conversation, for session/load: the user's and the agent's messages (tool traffic and
        the system prompt are the agent's own)."""
        for message in self.agent.history:
            content = message.get("content")
            if not isinstance(content, str) or not content.strip():
                continue
            if message.get("role") == "user":
                await self.send(update_user_message_text(content))
            elif message.get("role") == "assistant":
                await self.send(update_agent_message_text(content))

    # running ----------------------------------------------------------------------------------------
    async def prompt(self, text: str) -> StopReason:
        if self.task is not None:
            raise user_error("already working in this session; cancel the run or wait", INVALID_REQUEST)
        for notice in self.notices:
            await self.send(update_agent_message_text(f"_smallcode: {notice}_\n\n"))
        self.notices = []
        if text.startswith("/") and await self._command(text[1:]):
            return "end_turn"
        self._turn_text = ""
        task = asyncio.create_task(self.agent.run(text))
        self.task = task
        try:
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError:  # the request itself was cancelled (shutdown): stop the run too
                task.cancel()
                await asyncio.wait({task})
                raise
        finally:
            self.task = None
            await self._end_open_call("failed")
        if task.cancelled():  # the agent put the conversation back as it was before the run
            return "cancelled"
        try:
            result = task.result()
        except Exception as exc:  # a bug in a tool or the loop: the user is told, the server stays up
            log.exception("the run failed")
            await self.send(update_agent_message_text(f"\n\nThe run failed: {type(exc).__name__}: {exc}"))
            return "end_turn"
        await self._finish(result)
        return "end_turn"

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _finish(self, result: RunResult) -> None:
        """The answer, when the streamed text did not already carry it (an error, a reply without stream),
        and whether the checks passed."""
        answer = result.response.strip()
        parts = []
        if answer and answer not in self._turn_text:
            parts.append(answer)
        line = verification_line(result)
        if line and line.lower() not in answer.lower():  # a run that ended on green checks already says so
            parts.append(f"_{line}_")
        if parts:
            separator = "\n\n" if self._turn_text.strip() else ""
            await self.send(update_agent_message_text(separator + "\n\n".join(parts)))

    async def _command(self, line: str) -> bool:
        """`/budget`, `/plan`, …: run the slash command and answer with its text. False: not a command (the
        text goes to the model)."""
        from agent_core.commands import COMMANDS, NOT_YET, execute_command

        name, _, arg = line.strip().partition(" ")
        if name.lower() not in COMMANDS and name.lower() not in NOT_YET:
            return False
        if name.lower() == "quit":
            await self.send(update_agent_message_text("/quit is for the terminal; close the panel instead"))
            return True
        result = await execute_command(self.agent, name, arg.strip() or None)
        await self.send(update_agent_message_text(result.text or ("done" if result.ok else "failed")))
        return True

    # permission -------------------------------------------------------------------------------------
    async def _confirm(self, command: str, reason: str) -> bool:
        """session/request_permission for a shell command on the ask list or a call of an MCP tool not marked
        trusted (`command` is then the call: `mcp__SERVER__TOOL {…}`); anything but "allow" refuses."""
        call_id = self._current or self._new_call_id()
        mcp = command.startswith("mcp__")
        tool_call = ToolCallUpdate(
            tool_call_id=call_id,
            title=(command if mcp else f"bash {command}")[:200],
            kind="other" if mcp else "execute",
            status="pending",
            raw_input={"command": command, "reason": reason},
        )
        try:
            response = await self.conn.request_permission(
                session_id=self.session_id, tool_call=tool_call, options=PERMISSION_OPTIONS
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the client cannot ask: refused, like a terminal nobody answers
            log.warning("no permission for %r (%s)", command, exc)
            return False
        outcome = response.outcome
        allowed = isinstance(outcome, AllowedOutcome) and outcome.option_id == ALLOW
        log.info("%r %s by the user", command, "allowed" if allowed else "denied")
        return allowed

    # events -----------------------------------------------------------------------------------------
    async def _on_event(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        if name == "token":
            text = str(event.get("text", ""))
            self._turn_text += text
            await self.send(update_agent_message_text(text))
        elif name == "turn":
            self._turn_text = ""
        elif name == "tool_start":
            await self._tool_start(str(event.get("name")), event.get("args") or {})
        elif name == "tool_end":
            await self._end_open_call("completed" if event.get("ok", True) else "failed")
        elif name in PLAN_EVENTS:
            await self._plan(event)
        elif name == "status":  # e.g. "loading Qwen2.5-Coder-1.5B…" while the embedded model starts
            await self.send(update_agent_thought_text(f"{event.get('text', '')}\n"))

    def _new_call_id(self) -> str:
        self._calls += 1
        return f"{self.session_id}-{self._calls}"

    async def _tool_start(self, name: str, args: dict[str, Any]) -> None:
        await self._end_open_call("completed")
        call_id = self._new_call_id()
        self._current = call_id
        self._diffs[call_id] = []
        await self.send(
            start_tool_call(
                call_id,
                tool_title(name, args),
                kind=tool_kind(name),
                status="in_progress",
                locations=tool_locations(self.root, name, args),
                raw_input=_shown_args(args),
            )
        )

    async def _end_open_call(self, status: str) -> None:
        call_id, self._current = self._current, None
        if call_id is None:
            return
        diffs = self._diffs.pop(call_id, [])
        await self.send(update_tool_call(call_id, status=status, content=diffs or None))  # type: ignore[arg-type]

    async def _on_change(self, path: Path, old: str | None, new: str) -> None:
        """A file changed: its diff joins the running tool call (or a call of its own)."""
        diff = tool_diff_content(str(path), new, old)
        if self._current is None:
            call_id = self._new_call_id()
            rel = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)
            await self.send(
                start_tool_call(call_id, f"edit {rel}", kind="edit", status="completed", content=[diff])
            )
            return
        diffs = self._diffs.setdefault(self._current, [])
        diffs.append(diff)
        await self.send(update_tool_call(self._current, content=list(diffs)))

    async def _plan(self, event: dict[str, Any]) -> None:
        steps: list[Any] | None = None
        if event.get("event") == "plan_created":
            steps = [_Step(s) for s in event.get("steps") or []]
        elif self.agent.ctx.plan is not None and self.agent.ctx.plan.plan is not None:
            steps = list(self.agent.ctx.plan.plan.steps)
        if steps:
            await self.send(update_plan(plan_entries(steps)))


@contextlib.contextmanager
def _warnings(logger: str) -> Iterator[list[str]]:
    """The warnings `logger` logs inside the block (they still reach stderr too)."""
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logging.getLogger(logger).addHandler(handler)
    try:
        yield seen
    finally:
        logging.getLogger(logger).removeHandler(handler)


class _Step:
    """A step as the plan_created event carries it (a dict), with PlanStep's attribute names."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.title = str(data.get("title", ""))
        self.file = data.get("file")
        self.status = str(data.get("status", "pending"))


def _shown_args(args: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments for the editor: whole file contents are cut (the diff shows them)."""
    return {k: (v[:2000] + "…" if isinstance(v, str) and len(v) > 2000 else v) for k, v in args.items()}


def verification_line(result: RunResult) -> str:
    """Whether the run was verified: "checks passed: …", or "not verified: …" when files changed unchecked."""
    if result.checks is not None:
        return result.checks.summary
    if result.success and (result.files_created or result.files_edited):
        return "not verified: no checks ran"
    return ""
