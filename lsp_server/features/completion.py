"""Completions from the local model: textDocument/inlineCompletion where the client supports it, else
textDocument/completion items. Fill-in-the-middle against the model server's /v1/completions.

The endpoint is checked like the agent's (agent_core.safety.endpoints): every request, to the address it
resolves to at that moment, is refused when that is a cloud metadata service, link-local or reserved (local
and LAN servers are fine), and the answer is read only up to MAX_ANSWER_BYTES.

Debounced (a request waits `completionDebounceMs`; a newer request or an edit to the document supersedes it),
cancelled when the user types on ($/cancelRequest or didChange cancel the HTTP call), and silent on failure:
a completion that cannot be had is logged once, never shown, never a crash.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import httpx
from lsprotocol import types

from agent_core.safety.endpoints import EndpointError, request_guard
from lsp_server import capabilities
from lsp_server.server import SmallCodeServer

log = logging.getLogger("smallcode.lsp.completion")

PREFIX_CHARS = 3000
SUFFIX_CHARS = 1000
TIMEOUT = 15.0
MAX_ANSWER_BYTES = 1_000_000

# FIM prompt layouts by model family (matched on the model name); others get `suffix` as a request field.
FIM_TEMPLATES: list[tuple[tuple[str, ...], str]] = [
    (("qwen", "codegemma"), "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"),
    (
        ("starcoder", "santacoder", "stable-code", "granite"),
        "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
    ),
    (("deepseek",), "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>"),
    (("codellama", "code-llama"), "<PRE> {prefix} <SUF>{suffix} <MID>"),
]


def fim_request(model: str | None, prefix: str, suffix: str, max_tokens: int) -> dict[str, Any]:
    body: dict[str, Any] = {"max_tokens": max_tokens, "temperature": 0.0, "stream": False, "stop": ["\n\n\n"]}
    if model:
        body["model"] = model
    name = (model or "").lower()
    for families, template in FIM_TEMPLATES:
        if any(f in name for f in families):
            body["prompt"] = template.format(prefix=prefix, suffix=suffix)
            return body
    body["prompt"], body["suffix"] = prefix, suffix
    return body


class Completer:
    def __init__(self, server: SmallCodeServer) -> None:
        self.server = server
        self.generation: dict[str, int] = {}
        self.inflight: dict[str, asyncio.Task[str | None]] = {}
        self._client: httpx.AsyncClient | None = None
        self._failures: set[str] = set()

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
        settings = (await ls.agent_for(ls.workspace_root_of(uri) or ls.root_for(None))).settings
        if not settings.base_url:
            self._fail("no baseUrl configured: completions need an OpenAI-compatible server")
            return None
        body = fim_request(settings.model, prefix, suffix, ls.options.completion_max_tokens)
        task = asyncio.ensure_future(self._post(settings.base_url, settings.api_key, body))
        self.inflight[uri] = task
        try:
            return await task
        except asyncio.CancelledError:
            task.cancel()
            if self.generation.get(uri) != gen:
                return None  # cancelled by typing: answer empty rather than an error
            raise
        finally:
            if self.inflight.get(uri) is task:
                self.inflight.pop(uri, None)

    async def _post(self, base_url: str, api_key: str | None, body: dict[str, Any]) -> str | None:
        if self._client is None:
            # every request (and any redirect) is checked against the address it goes to, like the agent's
            hooks = {"request": [request_guard(allow_private=True, allow_loopback=True)]}
            self._client = httpx.AsyncClient(timeout=TIMEOUT, event_hooks=hooks)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        url = f"{base_url.rstrip('/')}/completions"
        try:
            async with self._client.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code != 200:
                    self._fail(f"the model server answered {response.status_code} to /completions")
                    return None
                data = bytearray()
                async for piece in response.aiter_bytes():
                    data += piece
                    if len(data) > MAX_ANSWER_BYTES:
                        self._fail(f"the model server's completion answer passed {MAX_ANSWER_BYTES} bytes")
                        return None
            choices = json.loads(data).get("choices") or []
            text = str(choices[0].get("text") or "") if choices else ""
        except EndpointError as exc:
            self._fail(f"refusing baseUrl: {exc}")
            return None
        except (httpx.HTTPError, ValueError, AttributeError, TypeError, RecursionError) as exc:
            self._fail(f"completion request failed: {type(exc).__name__}: {str(exc)[:200]}")
            return None
        return text if text.strip() else None

    def _fail(self, reason: str) -> None:
        if reason not in self._failures:  # once per distinct reason: completions are asked for constantly
            self._failures.add(reason)
            self.server.log(f"SmallCode completions: {reason}", types.MessageType.Log)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def register(server: SmallCodeServer) -> None:
    completer = Completer(server)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @server.guarded("completion (didChange)")
    async def did_change(ls: SmallCodeServer, params: types.DidChangeTextDocumentParams) -> None:
        completer.typed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    @server.guarded("inline completion")
    async def inline_completion(
        ls: SmallCodeServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        text = await completer.complete(params.text_document.uri, params.position)
        if text is None:
            return None
        start = params.position
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=text, range=types.Range(start=start, end=start))]
        )

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(resolve_provider=False))
    @server.guarded("completion")
    async def completion(ls: SmallCodeServer, params: types.CompletionParams) -> types.CompletionList | None:
        if capabilities.inline_completion(ls):
            return None  # the client shows our inline completions; don't offer the same text twice
        text = await completer.complete(params.text_document.uri, params.position)
        if text is None:
            return types.CompletionList(is_incomplete=True, items=[])
        first = text.strip().splitlines()[0][:60]
        start = params.position
        line = ls.workspace.get_text_document(params.text_document.uri).lines[start.line]
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

    server.completer = completer
