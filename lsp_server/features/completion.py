"""Completions from the model: textDocument/inlineCompletion where the client supports it, else
textDocument/completion items. The model call is agent_core.llm.fim (fill-in-the-middle, its templates and
the endpoint checks); this feature decides when to ask and turns the answer into LSP items.

Debounced (a request waits `completionDebounceMs`; a newer request or an edit to the document supersedes it),
cancelled when the user types on ($/cancelRequest or didChange cancel the HTTP call), and silent on failure:
a completion that cannot be had is logged once per reason, never shown, never a crash.
"""

from __future__ import annotations

import asyncio
import re

from lsprotocol import types

from agent_core.config import ConfigError
from agent_core.llm.fim import FimClient, FimError
from agent_core.llm.types import ModelError
from agent_core.safety.endpoints import EndpointError
from lsp_server import capabilities
from lsp_server.agents import Agents
from lsp_server.errors import guarded
from lsp_server.feature import Feature

PREFIX_CHARS = 3000
SUFFIX_CHARS = 1000


class CompletionFeature(Feature):
    name = "completion"

    def __init__(self, agents: Agents) -> None:
        super().__init__(agents.server)
        self.agents = agents
        self.fim = FimClient()
        self.generation: dict[str, int] = {}
        self.inflight: dict[str, asyncio.Task[str | None]] = {}
        self._failures: set[str] = set()

    def register(self) -> None:
        server = self.server
        server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())(
            guarded(server, "inline completion")(self.inline_completion)
        )
        server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(resolve_provider=False))(
            guarded(server, "completion")(self.completion)
        )

    async def shutdown(self) -> None:
        await self.fim.aclose()

    # LSP --------------------------------------------------------------------------------------------
    def document_changed(self, uri: str) -> None:
        self.typed(uri)

    async def inline_completion(
        self, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        text = await self.complete(params.text_document.uri, params.position)
        if text is None:
            return None
        start = params.position
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=text, range=types.Range(start=start, end=start))]
        )

    async def completion(self, params: types.CompletionParams) -> types.CompletionList | None:
        if capabilities.inline_completion(self.server):
            return None  # the client shows our inline completions; don't offer the same text twice
        text = await self.complete(params.text_document.uri, params.position)
        if text is None:
            return types.CompletionList(is_incomplete=True, items=[])
        first = text.strip().splitlines()[0][:60]
        start = params.position
        line = self.server.workspace.get_text_document(params.text_document.uri).lines[start.line]
        word = re.search(r"\w*$", line[: start.character])
        item = types.CompletionItem(
            label=first,
            kind=types.CompletionItemKind.Snippet,
            detail="SmallCode (local model)",
            text_edit=types.TextEdit(range=types.Range(start=start, end=start), new_text=text),
            insert_text_format=types.InsertTextFormat.PlainText,
            sort_text="0",
            filter_text=(word.group(0) if word else "") + first,
        )
        return types.CompletionList(is_incomplete=True, items=[item])

    # when to ask ------------------------------------------------------------------------------------
    def typed(self, uri: str) -> None:
        """The document changed: pending completions for it are stale."""
        self.generation[uri] = self.generation.get(uri, 0) + 1
        task = self.inflight.pop(uri, None)
        if task is not None:
            task.cancel()

    async def complete(self, uri: str, position: types.Position) -> str | None:
        ls = self.server
        if not ls.options.completion:
            return None
        gen = self.generation.get(uri, 0) + 1
        self.generation[uri] = gen
        await asyncio.sleep(ls.options.completion_debounce_ms / 1000)
        if self.generation.get(uri) != gen:
            return None  # superseded by a newer request or an edit
        doc = ls.workspace.get_text_document(uri)
        offset = doc.offset_at_position(position)
        prefix, suffix = doc.source[:offset][-PREFIX_CHARS:], doc.source[offset:][:SUFFIX_CHARS]
        # a document outside the workspace gets the first folder's settings (nothing is written for it)
        agents = self.agents
        root = agents.root_of(uri) or agents.root_for(None)
        agent = await agents.agent_for(root)
        if agent.embedded_model_running and agents.busy(root):
            # one embedded model: a completion would wait behind the run's turn and evict its cached prompt
            return None
        try:
            base_url, model, api_key = await agent.model_endpoint()
        except (ConfigError, ModelError) as exc:
            self._fail(f"no model to complete with: {exc}")
            return None
        if self.generation.get(uri) != gen:
            return None  # typed on while the embedded model was starting
        task = asyncio.ensure_future(
            self.fim.complete(base_url, api_key, model, prefix, suffix, ls.options.completion_max_tokens)
        )
        self.inflight[uri] = task
        try:
            return await task
        except FimError as exc:
            self._fail(str(exc))
            return None
        except EndpointError as exc:
            self._fail(f"refusing baseUrl: {exc}")
            return None
        except asyncio.CancelledError:
            task.cancel()
            if self.generation.get(uri) != gen:
                return None  # cancelled by typing: answer empty rather than an error
            raise
        finally:
            if self.inflight.get(uri) is task:
                self.inflight.pop(uri, None)

    def _fail(self, reason: str) -> None:
        if reason not in self._failures:  # once per distinct reason: completions are asked for constantly
            self._failures.add(reason)
            self.server.log(f"SmallCode completions: {reason}", types.MessageType.Log)
