"""JSON outside any marker or fence: a bare `{"name": ..., "arguments": ...}` (Llama 3.x, many small
models), OpenAI shapes written as text (`{"tool_calls": [...]}`, `{"function": {...}}`), a list of calls.
It is only a call when it names a real tool and the prose around it does not describe it as an example."""

from __future__ import annotations

import re

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.scan import bracket_span, described
from agent_core.parsing.types import Candidate

_OPENER = re.compile(r"\{|\[[ \t\r\n]*\{")
MAX_RETRIES = 8


def extract(ctx: Ctx) -> list[Candidate]:
    text = ctx.text
    found: list[Candidate] = []
    pos = 0
    retries = 0
    while len(found) < 32:
        m = _OPENER.search(text, pos)
        if m is None:
            break
        fence = ctx.index.containing(m.start())
        if fence is not None:
            pos = max(fence.end, m.start() + 1)
            continue
        span = bracket_span(text, m.start(), len(text))
        if _mentions_tool(ctx, text[span.start : span.end]) and not described(
            text, span.start, span.end, strong_only=False
        ):
            found.append(region.decode_json(text, span.start, span.end, explicit=False))
        if span.closed or retries >= MAX_RETRIES:
            pos = span.end
        else:
            # An unclosed brace in prose ("use { to open a block") would swallow the rest of the reply:
            # also try again just after it (a bounded number of times, to stay linear).
            retries += 1
            pos = m.start() + 1
    return found


def _mentions_tool(ctx: Ctx, chunk: str) -> bool:
    """Cheap filter before decoding: a call names its tool (maybe misspelled — then an envelope key)."""
    if any(name in chunk for name in ctx.tools.names()):
        return True
    return any(key in chunk for key in ('"name"', "'name'", '"tool', "'tool", '"function', "'function"))
