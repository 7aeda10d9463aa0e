"""The composition root: the server, the agents behind it, and the features, wired together.

Each feature (lsp_server/features/) gets what it needs here and registers the LSP methods it alone answers.
The methods several features share have one dispatcher each, below, that calls every feature inside
try/except-and-log: textDocument/codeLens (agent: comments, plan steps), the document sync notifications
(didChange, didSave, didClose: completion's debounce, the code index), the agents' events (progress and
streaming, lens refreshes, notices), shutdown. Every command is registered here too, so each answers a
CommandReply whatever happens in it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_server.agents import Agents
from lsp_server.errors import UserError, each, guarded
from lsp_server.feature import CommandHandler, Feature
from lsp_server.features.ask import AskFeature
from lsp_server.features.code_actions import CodeActionFeature
from lsp_server.features.code_index import CodeIndexFeature
from lsp_server.features.commands import SlashCommandFeature
from lsp_server.features.comment_lenses import CommentLensFeature
from lsp_server.features.completion import CompletionFeature
from lsp_server.features.configuration import ConfigurationFeature
from lsp_server.features.notices import NoticesFeature
from lsp_server.features.plan_lenses import PlanLensFeature
from lsp_server.features.undo import UndoFeature
from lsp_server.replies import CommandReply
from lsp_server.server import SmallCodeServer

log = logging.getLogger("smallcode.lsp.app")


class App:
    """The server and its features; `server` is what __main__ starts."""

    def __init__(self) -> None:
        self.server = server = SmallCodeServer()
        self.agents = agents = Agents(server, on_event=self.agent_event)
        ask = AskFeature(agents)
        self.features: list[Feature] = [
            ConfigurationFeature(agents),
            ask,
            SlashCommandFeature(agents),
            UndoFeature(agents),
            CodeActionFeature(server),
            CommentLensFeature(server),
            PlanLensFeature(agents, ask),
            CompletionFeature(agents),
            NoticesFeature(server),
            CodeIndexFeature(agents),
        ]
        for feature in self.features:
            feature.register()
            for name, handler in feature.commands().items():
                server.command(f"smallcode.{name}")(_replying(server, name, handler))
        server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))(
            guarded(server, "code lenses", default=[])(self.code_lens)
        )
        server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(guarded(server, "didChange")(self.did_change))
        server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))(
            guarded(server, "didSave")(self.did_save)
        )
        server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(guarded(server, "didClose")(self.did_close))
        server.feature(types.SHUTDOWN)(guarded(server, "shutdown")(self.shutdown))

    # the shared methods -----------------------------------------------------------------------------
    async def code_lens(self, params: types.CodeLensParams) -> list[types.CodeLens]:
        uri = params.text_document.uri
        lines = list(self.server.workspace.get_text_document(uri).lines)
        lenses: list[types.CodeLens] = []
        for feature in self.features:
            lenses += each(self.server, feature.name, functools.partial(feature.code_lenses, uri, lines), [])
        return lenses

    async def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._tell_features("didChange", lambda feature: feature.document_changed(params.text_document.uri))

    async def did_save(self, params: types.DidSaveTextDocumentParams) -> None:
        self._tell_features("didSave", lambda feature: feature.document_saved(params.text_document.uri))

    async def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._tell_features("didClose", lambda feature: feature.document_closed(params.text_document.uri))

    def _tell_features(self, method: str, hook: Callable[[Feature], None]) -> None:
        for feature in self.features:
            each(self.server, f"{feature.name} ({method})", functools.partial(hook, feature), None)

    async def agent_event(self, root: Path, event: dict[str, Any]) -> None:
        for feature in self.features:
            try:
                await feature.on_agent_event(root, event)
            except Exception as exc:  # one feature's bug must not break the run or the others
                self.server.report_failure(f"{feature.name} (event {event.get('event')})", exc)

    async def shutdown(self, params: None) -> None:
        await self.agents.close()
        for feature in self.features:
            try:
                await feature.shutdown()
            except Exception as exc:
                log.warning("%s: while shutting down: %s", feature.name, exc)


def _replying(
    server: SmallCodeServer, name: str, handler: CommandHandler
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """A command whose every answer is a CommandReply: a UserError is shown and answered with its message,
    any other failure logged and answered ok=false."""

    async def command(*args: Any) -> dict[str, Any]:
        try:
            reply = await handler(*args)
        except UserError as exc:
            server.show(f"SmallCode: {exc}")
            reply = CommandReply.failure(str(exc), {"error": str(exc)})
        except Exception as exc:
            with contextlib.suppress(Exception):
                server.report_failure(f"smallcode.{name}", exc)
            failed = f"smallcode.{name} failed"
            reply = CommandReply.failure(f"{failed} (see the log)", {"error": failed})
        return reply.to_lsp()

    return command


def create_server() -> SmallCodeServer:
    """A server with every feature registered (`smallcode-lsp`, `python -m lsp_server`)."""
    return App().server
