"""Mistral / Devstral: `[TOOL_CALLS][{"name": ..., "arguments": {...}}]`, the newer
`[TOOL_CALLS]write_file[ARGS]{...}` (optionally `[CALL_ID]abc123` before `[ARGS]`), `name[ARGS]{...}`
with the special token stripped by the server, and LM Studio's `[TOOL_REQUEST]{...}[END_TOOL_REQUEST]`."""

from __future__ import annotations

import re

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.scan import bracket_span
from agent_core.parsing.types import Candidate

_MARK = re.compile(r"\[(TOOL_CALLS|TOOL_REQUEST|END_TOOL_REQUEST)\]|</s>")
_ARGS = re.compile(r"([A-Za-z_][\w.\-]{0,80})(?:\[CALL_ID\][\w\-]{0,64})?\[ARGS\]")


def extract(ctx: Ctx) -> list[Candidate]:
    text = ctx.text
    found: list[Candidate] = []
    for m in _ARGS.finditer(text):
        if len(found) >= 32:
            break
        found.append(_named(text, m))
    marks = list(_MARK.finditer(text))[:64]
    for i, mark in enumerate(marks):
        if mark.group(1) not in ("TOOL_CALLS", "TOOL_REQUEST"):
            continue
        body_end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        end = (
            marks[i + 1].end()
            if i + 1 < len(marks) and marks[i + 1].group(1) == "END_TOOL_REQUEST"
            else body_end
        )
        body = text[mark.end() : body_end]
        if "[ARGS]" in body:
            # name[ARGS]{...} calls are read above; claim the marker with the first of them
            for c in found:
                if mark.end() <= c.start < body_end:
                    c.start = mark.start()
                    break
            continue
        cands = region.region_candidates(text, mark.end(), body_end, explicit=True)
        found.extend(region.claim(cands, mark.start(), end))
    return found


def _named(text: str, m: re.Match[str]) -> Candidate:
    pos = m.end()
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    if pos < len(text) and text[pos] in "{[":
        span = bracket_span(text, pos, len(text))
        body = region.decode_json(text, span.start, span.end, True)
        args = body.obj if body.has_obj else None
        return Candidate(m.start(), span.end, "json", True, name=m.group(1), args=args, problem=body.problem,
                         cut_off=body.cut_off)  # fmt: skip
    stop = text.find("[TOOL_CALLS]", pos)
    stop = len(text) if stop < 0 else stop
    return Candidate(m.start(), stop, "json", True, name=m.group(1), args=text[pos:stop].strip())
