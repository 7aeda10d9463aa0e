"""What a feature is: one surface of the language server (lsp_server/features/), an object that owns its state
and its commands, given what it needs by the composition root (lsp_server/app.py), never importing the server.

The hooks below have empty defaults. `register` adds the LSP methods the feature alone answers; methods that
several features share (code lenses, document sync, agent events, shutdown) have one dispatcher in app.py that calls each
feature's hook inside try/except-and-log, so one broken feature never hides the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_server.replies import CommandReply
from lsp_server.server import SmallCodeServer

CommandHandler = Callable[..., Awaitable[CommandReply]]
"""A `smallcode.<name>` command: the command's arguments as the client sent them, in; a CommandReply, out."""


class Feature:
    name = "feature"
    """What the feature is called in the log ("code actions", "plan lenses", …)."""

    def __init__(self, server: SmallCodeServer) -> None:
        self.server = server
        self.logger = logging.getLogger(f"smallcode.lsp.{type(self).__name__}")

    def register(self) -> None:
        """Register the LSP methods this feature alone answers (`self.server.feature(...)`)."""

    def commands(self) -> dict[str, CommandHandler]:
        """Its workspace/executeCommand commands by name (registered as `smallcode.<name>`)."""
        return {}

    def code_lenses(self, uri: str, lines: list[str]) -> list[types.CodeLens]:
        """Its part of textDocument/codeLens for the document at `uri` (its lines as the editor has them)."""
        return []

    def document_changed(self, uri: str) -> None:
        """The editor changed the open document at `uri` (didChange; the server's copy already has the change)."""

    def document_saved(self, uri: str) -> None:
        """The editor saved the document at `uri` (didSave)."""

    def document_closed(self, uri: str) -> None:
        """The editor closed the document at `uri` (didClose), saved or not."""

    async def on_agent_event(self, root: Path, event: dict[str, Any]) -> None:
        """An event of the agent at `root` (agent_core.observe.events: token, tool_start, plan events, …)."""

    async def shutdown(self) -> None:
        """The client asked the server to shut down: close what the feature holds open."""
