"""The agents behind the server: one SmallCode, and one LspWorkspace (its edits through the editor), per
workspace root, made on first use; and the run in progress at each root (at most one).

An agent is rebuilt with the new settings after they change, keeping its conversation, once no run is busy
at its root. Every agent event goes to `on_event(root, event)` (the features' dispatcher, lsp_server/app.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from agent_core.agent import SmallCode
from agent_core.config import ConfigError
from agent_core.result import RunResult
from lsp_server.errors import UserError
from lsp_server.run_steps import notify_step
from lsp_server.server import SmallCodeServer
from lsp_server.workspace_edits import LspWorkspace

log = logging.getLogger("smallcode.lsp.agents")

ALLOW, DENY = "Allow", "Deny"
CONFIRM_TIMEOUT = 300.0
"""Seconds the user has to answer "the agent wants to run …" before the command is refused."""

EventSink = Callable[[Path, dict[str, Any]], Awaitable[None]]


@dataclass
class Run:
    """The agent run in progress at a root: what the ask that started it reports on."""

    root: Path
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    task: asyncio.Task[RunResult] | None = None
    progress: str | None = None
    """The $/progress token, when the client shows progress."""
    errors: list[str] = field(default_factory=list)
    """The run's error events (the model server is down, …), for the reply."""
    steps: int = 0
    """Tool steps started so far (the id of the current one in `smallcode/step`)."""
    step_label: str = ""

    stopped_in_review: bool = False
    """The user chose "stop" in a per-hunk review (the run is cancelled, but by a decision, not an abort)."""

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def stop_by_review(self) -> None:
        self.stopped_in_review = True
        self.cancel()


class Agents:
    def __init__(self, server: SmallCodeServer, on_event: EventSink) -> None:
        self.server = server
        self.on_event = on_event
        self.agents: dict[Path, SmallCode] = {}
        self.workspaces: dict[Path, LspWorkspace] = {}
        self.runs: dict[Path, Run] = {}
        self._stale: set[Path] = set()

    # roots ------------------------------------------------------------------------------------------
    def _folders(self) -> list[Path]:
        workspace = self.server.workspace
        folders = [Path(to_fs_path(f.uri) or "") for f in workspace.folders.values()]
        if workspace.root_path:
            folders.append(Path(workspace.root_path))
        return [f.resolve() for f in folders if f.parts]

    def root_of(self, uri: Any) -> Path | None:
        """The (deepest) workspace folder holding the file at `uri`, symlinks and `..` resolved; None when the
        URI is outside every folder or not a file URI. Without folders (a single file opened), a document the
        editor has open counts as its own folder's, anything else as the server's working directory's."""
        if not isinstance(uri, str) or not uri:
            return None
        try:
            fs_path = to_fs_path(uri) if uri.startswith("file:") else None
            path = Path(fs_path).resolve() if fs_path else None
        except (OSError, ValueError, RuntimeError):
            path = None
        if path is None:
            return None
        folders = self._folders()
        if not folders:
            if uri in self.server.workspace.text_documents:
                return path.parent
            folders = [Path.cwd().resolve()]
        holders = [f for f in folders if f == path or f in path.parents]
        return max(holders, key=lambda f: len(f.parts)) if holders else None

    def root_for(self, uri: Any) -> Path:
        """The workspace root for a command's `uri` (the first folder without one); a URI outside the
        workspace is refused (UserError): nothing is read or written for it."""
        if uri is None or uri == "":
            folders = self._folders()
            return folders[0] if folders else Path.cwd().resolve()
        root = self.root_of(uri)
        if root is None:
            raise UserError(
                f"{str(uri)[:200]} is outside the workspace folders; SmallCode works only inside them"
            )
        return root

    # agents -----------------------------------------------------------------------------------------
    def get(self, root: Path) -> SmallCode | None:
        """The agent of `root` if it has one (none is made)."""
        return self.agents.get(root)

    def busy(self, root: Path) -> bool:
        return root in self.runs

    async def agent_for(self, root: Path) -> SmallCode:
        agent = self.agents.get(root)
        if agent is not None and root in self._stale and not self.busy(root):
            self._stale.discard(root)
            fresh = self._new_agent(root)
            fresh.resume(agent.history)
            self.agents[root] = fresh
            await _quietly(agent.aclose())
            return fresh
        if agent is None:
            agent = self._new_agent(root)
            self.agents[root] = agent
        return agent

    def workspace(self, root: Path) -> LspWorkspace:
        """The editor-side workspace of `root` (made when needed: an undo may come before any agent)."""
        workspace = self.workspaces.get(root)
        if workspace is None:
            workspace = self.workspaces[root] = LspWorkspace(root, self.server)
        return workspace

    def settings_changed(self) -> None:
        """The agents' settings changed: each agent is rebuilt on its next use (keeping the conversation)."""
        self._stale.update(self.agents)

    def _new_agent(self, root: Path) -> SmallCode:
        try:
            agent = SmallCode(
                cwd=root,
                workspace=self.workspace(root),
                confirm=functools.partial(self.confirm_command, root),
                **self.server.options.agent_settings(),
            )
        except ConfigError as exc:
            raise UserError(f"{exc} (check the smallcode settings or smallcode.toml)") from None
        agent.on("*", functools.partial(self.on_event, root))
        return agent

    async def confirm_command(self, root: Path, command: str, reason: str) -> bool:
        """Ask the user (window/showMessageRequest) before an ask-list shell command; no answer means no.
        The run's chat shows the question and the answer as `approval` steps: the editor's dialog may be
        out of sight (a notification in a corner), and the run looks stuck while it waits."""
        server = self.server
        run = self.runs.get(root)
        run_id = run.id if run is not None else ""
        notify_step(
            server, run_id, "approval", text=f"waiting for your answer: may it run `{command}`? ({reason})"
        )
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=f"SmallCode: the agent wants to run: {command} ({reason})",
            actions=[types.MessageActionItem(title=ALLOW), types.MessageActionItem(title=DENY)],
        )
        server.log(f"SmallCode: asking the user to confirm: {command}", types.MessageType.Log)
        request = asyncio.ensure_future(server.window_show_message_request_async(params))
        try:
            answer = await asyncio.wait_for(asyncio.shield(request), CONFIRM_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the client cannot ask, or nobody answered: refused
            server.log(
                f"SmallCode: no confirmation for {command!r} ({exc or 'timed out'})", types.MessageType.Log
            )
            notify_step(server, run_id, "approval", text=f"no answer: `{command}` was not run")
            return False
        allowed = answer is not None and getattr(answer, "title", None) == ALLOW
        if answer is None:  # the dialog was dismissed
            notify_step(server, run_id, "approval", text=f"no answer: `{command}` was not run")
        else:
            verdict = "you allowed" if allowed else "you declined"
            notify_step(server, run_id, "approval", text=f"{verdict} `{command}`")
        server.log(
            f"SmallCode: {command!r} {'allowed' if allowed else 'denied'} by the user", types.MessageType.Log
        )
        return allowed

    # runs -------------------------------------------------------------------------------------------
    def cancel_runs(self) -> int:
        """Cancel every run in progress; how many there were."""
        runs = list(self.runs.values())
        for run in runs:
            run.cancel()
        return len(runs)

    async def close(self) -> None:
        self.cancel_runs()
        for agent in list(self.agents.values()):
            await _quietly(agent.aclose())
        self.agents.clear()


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception as exc:
        log.warning("while closing: %s", exc)
