"""Hermes / Qwen2.5 `<tool_call>{...}</tool_call>` and its variants: `<tool>`, `<tools>`, `<toolcall>`,
`<function_call>`, a missing opening tag (`{...}</tool_call>`) or a missing closing tag (runs to the next
opening tag or the end). Tags are paired in one pass, so unbalanced input stays linear."""

from __future__ import annotations

import re

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.scan import described
from agent_core.parsing.types import Candidate

_CALL_START = re.compile(r"[ \t\r\n]*(?:[{\[<`]|[A-Za-z_][\w.]*\()")
_TAG = re.compile(r"<(/?)(tool_calls?|tools?|toolcall|function_calls?|functioncall|tool_use)>", re.I)


def extract(ctx: Ctx) -> list[Candidate]:
    text = ctx.text
    found: list[Candidate] = []
    open_at: re.Match[str] | None = None
    boundary = 0
    for tag in _TAG.finditer(text):
        if len(found) >= 32:
            break
        if not tag.group(1):  # opening
            if open_at is not None:
                found.extend(_block(text, open_at.start(), open_at.end(), tag.start(), tag.start()))
            open_at = tag
            continue
        if open_at is not None:
            found.extend(_block(text, open_at.start(), open_at.end(), tag.start(), tag.end()))
            open_at = None
        elif text.find("{", boundary, tag.start()) >= 0:  # missing opening tag: the JSON before it
            found.extend(
                c for c in region.json_candidates(text, boundary, tag.start(), True) if c.has_obj or c.name
            )
        boundary = tag.end()
    if open_at is not None:
        found.extend(_block(text, open_at.start(), open_at.end(), len(text), len(text)))
    return found


def _block(text: str, start: int, body_start: int, body_end: int, end: int) -> list[Candidate]:
    if described(text, start, end, strong_only=True):
        return []  # "for example: <tool_call>…" shows the format, it does not call
    if end == body_end and not _CALL_START.match(text, body_start, body_end):
        return []  # an opening tag with no closing one and no call after it: the tag is only mentioned
    return region.claim(region.region_candidates(text, body_start, body_end, explicit=True), start, end)
