"""The SmallCode language server's connection: the bounded transport, the settings, messages for the user, and
$/cancelRequest reaching the work a command started.

It knows no feature and no agent: lsp_server/app.py builds the server, the agents (lsp_server/agents.py) and the
features (lsp_server/features/), and wires them together.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, default_converter

from lsp_server import framing
from lsp_server.settings import LspOptions, parse_options

log = logging.getLogger("smallcode.lsp")

__version__ = "0.1.0"


class SmallCodeProtocol(LanguageServerProtocol):
    """pygls cancels only the outer workspace/executeCommand future on $/cancelRequest; this also tells the
    server, so a running agent task (started by that command) is cancelled too."""

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        super()._handle_cancel_notification(msg_id)
        server = self._server
        if isinstance(server, SmallCodeServer):
            server.request_cancelled(msg_id)


def lenient_converter() -> Any:
    """pygls' converter, lenient where real clients differ from the protocol: an inline-completion trigger kind
    other than LSP's 1 (Invoked) or 2 (Automatic) — vscode-languageclient 9 sends VS Code's 0 and 1 — is read
    as Invoked instead of failing the whole request."""
    converter = default_converter()

    def trigger_kind(value: Any, _type: Any) -> types.InlineCompletionTriggerKind:
        if value in (1, 2):
            return types.InlineCompletionTriggerKind(value)
        return types.InlineCompletionTriggerKind.Invoked

    converter.register_structure_hook(types.InlineCompletionTriggerKind, trigger_kind)
    return converter


class SmallCodeServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "smallcode-lsp", __version__, protocol_cls=SmallCodeProtocol, converter_factory=lenient_converter
        )
        self.options = LspOptions()
        self.initial_options: Any = None
        """initializationOptions as the client sent them (configuration sections are merged over them)."""
        self.save_request_unsupported = False
        """The client answered smallcode/saveDocuments with MethodNotFound: it is not asked again."""
        self._cancel_hooks: dict[Any, Callable[[], None]] = {}
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

    # settings ---------------------------------------------------------------------------------------
    def apply_options(self, raw: Any, source: str) -> bool:
        """Take the client's settings (bad keys fall back to their defaults and the user is told once);
        True when the agents' settings changed."""
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
        return changed

    # cancellation -----------------------------------------------------------------------------------
    def on_request_cancel(self, msg_id: Any, hook: Callable[[], None]) -> None:
        """Call `hook` when the client cancels request `msg_id` (until `forget_request`)."""
        if msg_id is not None:
            self._cancel_hooks[msg_id] = hook

    def forget_request(self, msg_id: Any) -> None:
        self._cancel_hooks.pop(msg_id, None)

    def request_cancelled(self, msg_id: Any) -> None:
        hook = self._cancel_hooks.pop(msg_id, None)
        if hook is not None:
            hook()


class _ShowWarnings(logging.Handler):
    """Warnings of a logger shown to the user once each (window/showMessage), besides the log."""

    def __init__(self, server: SmallCodeServer) -> None:
        super().__init__(logging.WARNING)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.server.show_once(f"SmallCode: {record.getMessage()}", types.MessageType.Warning)


_LEVELS = {
    types.MessageType.Error: logging.ERROR,
    types.MessageType.Warning: logging.WARNING,
    types.MessageType.Info: logging.INFO,
    types.MessageType.Log: logging.DEBUG,
}
