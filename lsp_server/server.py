"""The SmallCode language server: settings, one agent per workspace root (created lazily), the runs in flight.

Features live in `lsp_server.features.*`, one module per surface, each registering its handlers through
`server.guarded(...)`, so a failing feature is logged (stderr and window/logMessage) and answers empty,
never taking the server or another feature down.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from agent_core.agent import SmallCode
from agent_core.config import ConfigError
from lsp_server import framing
from lsp_server.settings import LspOptions, parse_options
from lsp_server.workspace_edits import LspWorkspace

log = logging.getLogger("smallcode.lsp")

__version__ = "0.1.0"

ALLOW, DENY = "Allow", "Deny"
CONFIRM_TIMEOUT = 300.0
"""Seconds the user has to answer "the agent wants to run …" before the command is refused."""

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
EventListener = Callable[[Path, dict[str, Any]], Awaitable[None] | None]


class UserError(Exception):
    """Something the user can fix (bad settings, no model server); the message says what to do."""


class SmallCodeProtocol(LanguageServerProtocol):
    """pygls cancels only the outer workspace/executeCommand future on $/cancelRequest; this also tells the
    server, so a running agent task (started by that command) is cancelled too."""

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        super()._handle_cancel_notification(msg_id)
        server = self._server
        if isinstance(server, SmallCodeServer):
            server.request_cancelled(msg_id)


class SmallCodeServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("smallcode-lsp", __version__, protocol_cls=SmallCodeProtocol)
        self.options = LspOptions()
        self.initial_options: Any = None
        """initializationOptions as the client sent them (configuration sections are merged over them)."""
        self.agents: dict[Path, SmallCode] = {}
        self.workspaces: dict[Path, LspWorkspace] = {}
        self.runs: dict[Path, Any] = {}
        """Root → the ask.RunState of the run in progress there (at most one per root)."""
        self.event_listeners: list[EventListener] = []
        self.lens_refresh_pending = False
        self.completer: Any = None
        """features.completion.Completer (holds an HTTP client to close at shutdown)."""
        self.save_request_unsupported = False
        """The client answered smallcode/saveDocuments with MethodNotFound: the server saves files itself."""
        self._cancel_hooks: dict[Any, Callable[[], None]] = {}
        self._stale: set[Path] = set()
        self._shown: set[str] = set()
        # a project's settings that weaken safety, ignored for want of the user's yes: the user should see it
        logging.getLogger("smallcode.trust").addHandler(_ShowWarnings(self))

    # transport: pygls' loop with bounds (lsp_server/framing.py) --------------------------------------
    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        framing.serve_io(self, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer)

    def start_tcp(self, host: str, port: int) -> None:
        framing.serve_tcp(self, host, port)

    # logging and messages -------------------------------------------------------------------------
    def log(self, message: str, level: types.MessageType = types.MessageType.Info) -> None:
        log.log(_LEVELS.get(level, logging.INFO), "%s", message)
        with contextlib.suppress(Exception):  # not connected (yet/any more): stderr has it
            self.window_log_message(types.LogMessageParams(type=level, message=message))

    def show(self, message: str, level: types.MessageType = types.MessageType.Error) -> None:
        """A message for the user (window/showMessage) and the log."""
        log.log(_LEVELS.get(level, logging.INFO), "%s", message)
        with contextlib.suppress(Exception):
            self.window_show_message(types.ShowMessageParams(type=level, message=message))

    def show_once(self, message: str, level: types.MessageType = types.MessageType.Warning) -> None:
        if message not in self._shown:
            self._shown.add(message)
            self.show(message, level)

    def report_failure(self, feature: str, exc: BaseException) -> None:
        log.error("%s failed", feature, exc_info=exc)
        self.log(f"SmallCode: {feature} failed: {type(exc).__name__}: {exc}", types.MessageType.Error)

    def guarded(self, feature: str, default: Any = None) -> Callable[[F], F]:
        """Wrap an async handler: any exception is logged and `default` answered (cancellation passes)."""

        def decorate(fn: F) -> F:
            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except asyncio.CancelledError:
                    raise
                except UserError as exc:
                    self.show(f"SmallCode: {exc}")
                    return default
                except Exception as exc:
                    self.report_failure(feature, exc)
                    return default

            return wrapper  # type: ignore[return-value]

        return decorate

    # settings ---------------------------------------------------------------------------------------
    def apply_options(self, raw: Any, source: str) -> None:
        options, problems = parse_options(raw)
        if problems:
            self.show_once(f"SmallCode: invalid settings, using defaults: {'; '.join(problems)}")
        changed = options.agent_settings() != self.options.agent_settings()
        self.options = options
        self.log(
            f"SmallCode settings from {source}: apply mode {options.apply_mode}, "
            f"model {options.model or '(default)'} at {options.base_url or 'embedded'}",
            types.MessageType.Log,
        )
        if changed:
            self._stale.update(self.agents)  # rebuilt on next use, keeping the conversation

    # roots and agents -------------------------------------------------------------------------------
    def _folders(self) -> list[Path]:
        folders = [Path(to_fs_path(f.uri) or "") for f in self.workspace.folders.values()]
        if self.workspace.root_path:
            folders.append(Path(self.workspace.root_path))
        return [f.resolve() for f in folders if f.parts]

    def workspace_root_of(self, uri: Any) -> Path | None:
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
            if uri in self.workspace.text_documents:
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
        root = self.workspace_root_of(uri)
        if root is None:
            raise UserError(
                f"{str(uri)[:200]} is outside the workspace folders; SmallCode works only inside them"
            )
        return root

    async def agent_for(self, root: Path) -> SmallCode:
        agent = self.agents.get(root)
        if agent is not None and root in self._stale and root not in self.runs:
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

    def _new_agent(self, root: Path) -> SmallCode:
        workspace = self.workspaces.get(root) or LspWorkspace(root, self)
        self.workspaces[root] = workspace
        try:
            agent = SmallCode(cwd=root, workspace=workspace, **self.options.agent_settings())
        except ConfigError as exc:
            raise UserError(f"{exc} (check the smallcode settings or smallcode.toml)") from None
        agent.on("*", functools.partial(self._on_agent_event, root))
        agent.ctx.confirm = self.confirm_command
        return agent

    async def confirm_command(self, command: str, reason: str) -> bool:
        """Ask the user (window/showMessageRequest) before an ask-list shell command; no answer means no."""
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=f"SmallCode: the agent wants to run: {command} ({reason})",
            actions=[types.MessageActionItem(title=ALLOW), types.MessageActionItem(title=DENY)],
        )
        self.log(f"SmallCode: asking the user to confirm: {command}", types.MessageType.Log)
        request = asyncio.ensure_future(self.window_show_message_request_async(params))
        try:
            answer = await asyncio.wait_for(asyncio.shield(request), CONFIRM_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the client cannot ask, or nobody answered: refused
            self.log(
                f"SmallCode: no confirmation for {command!r} ({exc or 'timed out'})", types.MessageType.Log
            )
            return False
        allowed = answer is not None and getattr(answer, "title", None) == ALLOW
        self.log(
            f"SmallCode: {command!r} {'allowed' if allowed else 'denied'} by the user", types.MessageType.Log
        )
        return allowed

    async def _on_agent_event(self, root: Path, event: dict[str, Any]) -> None:
        for listener in list(self.event_listeners):
            try:
                result = listener(root, event)
                if result is not None:
                    await result
            except Exception as exc:  # one listener's bug must not break the run or the others
                self.report_failure(f"event listener for {event.get('event')}", exc)

    # cancellation -----------------------------------------------------------------------------------
    def on_request_cancel(self, msg_id: Any, hook: Callable[[], None]) -> None:
        if msg_id is not None:
            self._cancel_hooks[msg_id] = hook

    def forget_request(self, msg_id: Any) -> None:
        self._cancel_hooks.pop(msg_id, None)

    def request_cancelled(self, msg_id: Any) -> None:
        hook = self._cancel_hooks.pop(msg_id, None)
        if hook is not None:
            hook()

    async def close_all(self) -> None:
        for state in list(self.runs.values()):
            state.cancel()
        for agent in list(self.agents.values()):
            await _quietly(agent.aclose())
        self.agents.clear()
        if self.completer is not None:
            await _quietly(self.completer.aclose())


class _ShowWarnings(logging.Handler):
    """Warnings of a logger shown to the user once each (window/showMessage), besides the log."""

    def __init__(self, server: SmallCodeServer) -> None:
        super().__init__(logging.WARNING)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.server.show_once(f"SmallCode: {record.getMessage()}", types.MessageType.Warning)


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception as exc:
        log.warning("while closing: %s", exc)


_LEVELS = {
    types.MessageType.Error: logging.ERROR,
    types.MessageType.Warning: logging.WARNING,
    types.MessageType.Info: logging.INFO,
    types.MessageType.Log: logging.DEBUG,
}


def build_server() -> SmallCodeServer:
    """A server with every feature registered."""
    from lsp_server.features import ask, code_actions, code_lens, commands, completion, configuration

    server = SmallCodeServer()
    for feature in (configuration, ask, commands, code_actions, code_lens, completion):
        feature.register(server)
    return server
