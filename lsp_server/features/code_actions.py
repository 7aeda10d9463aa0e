"""textDocument/codeAction: "Ask SmallCode…" — a quickfix for diagnostics, refactor.rewrite for selections.

The action's command is smallcode.ask with {uri, range, diagnostics} and no prompt: a client with an input box
(the VS Code extension, the Neovim plugin) asks the user and adds `prompt`; otherwise the server derives one
("fix this error", "explain and improve this code").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lsprotocol import types

from lsp_server import capabilities
from lsp_server.errors import guarded
from lsp_server.feature import Feature

TITLE = "Ask SmallCode…"
KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]


def _wanted(params: types.CodeActionParams, kind: str) -> bool:
    only = params.context.only
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


def _ask(uri: str, rng: types.Range, diagnostics: list[dict[str, Any]], title: str) -> types.Command:
    arg: dict[str, Any] = {
        "uri": uri,
        "range": {
            "start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character},
        },
    }
    if diagnostics:
        arg["diagnostics"] = diagnostics
    return types.Command(title=title, command="smallcode.ask", arguments=[arg])


def _key(pos: types.Position) -> tuple[int, int]:
    return pos.line, pos.character


def code_actions(
    params: types.CodeActionParams, literals: bool, unstructure: Callable[[Any], Any]
) -> list[types.CodeAction | types.Command]:
    """The actions for `params`: as CodeAction literals, or bare Commands for a client without them."""
    uri, rng = params.text_document.uri, params.range
    actions: list[types.CodeAction | types.Command] = []
    diagnostics = list(params.context.diagnostics)
    if diagnostics and _wanted(params, types.CodeActionKind.QuickFix):
        plain = [
            {
                "message": d.message,
                "range": unstructure(d.range),  # JSON shape for the command argument
                **({"source": d.source} if d.source else {}),
            }
            for d in diagnostics
        ]
        first = diagnostics[0]
        span = types.Range(
            start=min((d.range.start for d in diagnostics), key=_key),
            end=max((d.range.end for d in diagnostics), key=_key),
        )
        command = _ask(uri, span, plain, TITLE)
        title = f"{TITLE} fix: {first.message.splitlines()[0][:60]}" if first.message else TITLE
        command.title = title
        actions.append(
            types.CodeAction(
                title=title, kind=types.CodeActionKind.QuickFix, diagnostics=diagnostics, command=command
            )
            if literals
            else command
        )
    selection = rng.start != rng.end
    if selection and _wanted(params, types.CodeActionKind.RefactorRewrite):
        command = _ask(uri, rng, [], TITLE)
        actions.append(
            types.CodeAction(title=TITLE, kind=types.CodeActionKind.RefactorRewrite, command=command)
            if literals
            else command
        )
    return actions


class CodeActionFeature(Feature):
    name = "code actions"

    def register(self) -> None:
        options = types.CodeActionOptions(code_action_kinds=KINDS)
        self.server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)(
            guarded(self.server, self.name, default=[])(self.code_action)
        )

    async def code_action(self, params: types.CodeActionParams) -> list[types.CodeAction | types.Command]:
        ls = self.server
        return code_actions(params, capabilities.code_action_literals(ls), ls.protocol._converter.unstructure)
