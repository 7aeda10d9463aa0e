"""Code lenses on `agent:` comments: "▶ Ask SmallCode" runs the comment's instruction through smallcode.ask.

An `agent:` comment in any common comment syntax (`# agent: add input validation`, `// agent: …`,
`-- agent: …`, `; agent: …`, `/* agent: … */`, `<!-- agent: … -->`) gets one. textDocument/codeLens itself
is answered by one dispatcher (lsp_server/app.py) for these and the plan's lenses (features/plan_lenses.py).
"""

from __future__ import annotations

import re

from lsprotocol import types

from lsp_server.feature import Feature

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


class CommentLensFeature(Feature):
    name = "agent: comment lenses"

    def code_lenses(self, uri: str, lines: list[str]) -> list[types.CodeLens]:
        return comment_lenses(uri, lines)
