"""textDocument/codeLens: "▶ Ask SmallCode" on `agent:` comments, and the TODO plan's steps.

An `agent:` comment in any common comment syntax (`# agent: add input validation`, `// agent: …`,
`-- agent: …`, `; agent: …`, `/* agent: … */`, `<!-- agent: … -->`) gets a lens running that instruction
through smallcode.ask. Each part is computed on its own, so one failing never hides the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lsprotocol import types

from lsp_server.features import plan_lenses
from lsp_server.server import SmallCodeServer

AGENT_COMMENT = re.compile(
    r"(?:^|\s)(?:#+|//+|--+|;+|/\*+|<!--|\(\*|%+|\*)\s*agent:\s*(?P<task>.*?)\s*(?:\*+/|-->|\*\))?\s*$",
    re.IGNORECASE,
)


def comment_lenses(uri: str, lines: list[str]) -> list[types.CodeLens]:
    lenses = []
    for number, line in enumerate(lines):
        if "agent:" not in line.lower():
            continue
        match = AGENT_COMMENT.search(line.rstrip("\r\n"))
        if match is None or not match.group("task"):
            continue
        where = types.Range(
            start=types.Position(line=number, character=0), end=types.Position(line=number, character=0)
        )
        arg = {"prompt": match.group("task"), "uri": uri, "range": _line_range(number), "source": "comment"}
        lenses.append(
            types.CodeLens(
                range=where,
                command=types.Command(title="▶ Ask SmallCode", command="smallcode.ask", arguments=[arg]),
            )
        )
    return lenses


def _line_range(number: int) -> dict[str, dict[str, int]]:
    return {"start": {"line": number, "character": 0}, "end": {"line": number, "character": 0}}


def register(server: SmallCodeServer) -> None:
    plan_lenses.register(server)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    async def code_lens(ls: SmallCodeServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        uri = params.text_document.uri
        lines = list(ls.workspace.get_text_document(uri).lines)
        lenses: list[types.CodeLens] = []
        lenses += _safe(ls, "agent: comment lenses", lambda: comment_lenses(uri, lines))
        lenses += _safe(ls, "plan lenses", lambda: plan_lenses.plan_lenses(ls, uri, lines))
        return lenses


def _safe(
    ls: SmallCodeServer, feature: str, compute: Callable[[], list[types.CodeLens]]
) -> list[types.CodeLens]:
    try:
        return compute()
    except Exception as exc:  # one kind of lens failing must not hide the others
        ls.report_failure(feature, exc)
        return []
