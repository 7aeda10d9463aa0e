"""Special-token formats of other families, all spelled `<|tool…|>` (DeepSeek with full-width bars and
`▁`, which are normalised here):
- DeepSeek V3: `<｜tool▁call▁begin｜>function<｜tool▁sep｜>name\\n```json\\n{...}\\n```<｜tool▁call▁end｜>`
- DeepSeek V3.1: `<｜tool▁call▁begin｜>name<｜tool▁sep｜>{...}<｜tool▁call▁end｜>`
- Kimi: `<|tool_call_begin|>functions.name:0<|tool_call_argument_begin|>{...}<|tool_call_end|>`
- Liquid LFM2: `<|tool_call_start|>[name(k='v')]<|tool_call_end|>`
- Granite 3.x: `<|tool_call|>[{"name": ..., "arguments": {...}}]`
- Phi-4-mini: `functools[{"name": ..., "arguments": {...}}]`"""

from __future__ import annotations

import re

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.scan import bracket_span
from agent_core.parsing.types import Candidate

_TOKEN = re.compile(r"<[|｜]tool[_▁ ]([a-z_▁ ]{2,40})[|｜]>")
_FUNCTOOLS = re.compile(r"functools[ \t]*(?=\[)")
_OPEN = {"call_begin", "call_start", "call"}
_SEP = {"sep", "call_argument_begin", "call_arguments_begin"}


def extract(ctx: Ctx) -> list[Candidate]:
    text = ctx.text
    found: list[Candidate] = []
    open_at: re.Match[str] | None = None
    seps: list[re.Match[str]] = []
    for tok in _TOKEN.finditer(text):
        if len(found) >= 32:
            break
        kind = tok.group(1).replace("▁", "_").replace(" ", "_")
        if kind in _SEP:
            if open_at is not None and len(seps) < 4:
                seps.append(tok)
            continue
        if open_at is not None:
            found.extend(
                _call(text, open_at, seps, tok.start(), tok.end() if kind == "call_end" else tok.start())
            )
            open_at, seps = None, []
        if kind in _OPEN:
            open_at = tok
    if open_at is not None:
        found.extend(_call(text, open_at, seps, len(text), len(text)))
    for m in _FUNCTOOLS.finditer(text):
        if len(found) >= 32:
            break
        span = bracket_span(text, m.end(), len(text))
        c = region.decode_json(text, span.start, span.end, True)
        c.start = m.start()
        found.append(c)
    return found


def _call(
    text: str, head: re.Match[str], seps: list[re.Match[str]], body_end: int, end: int
) -> list[Candidate]:
    if not seps:
        cands = region.region_candidates(text, head.end(), body_end, explicit=True)
    else:
        name_part = text[head.end() : seps[0].start()].strip()
        rest_start = seps[0].end()
        if name_part == "function":  # DeepSeek V3: the name is the first line after the separator
            line_end = text.find("\n", rest_start, body_end)
            line_end = body_end if line_end < 0 else line_end
            name_part = text[rest_start:line_end].strip()
            rest_start = line_end
        body = region.region_candidates(text, rest_start, body_end, explicit=True)
        first = body[0] if body else None
        if first is not None and first.has_obj:
            cands = [Candidate(head.start(), end, "json", True, name=name_part, args=first.obj)]
        else:
            problem = first.problem if first is not None else None
            cands = [Candidate(head.start(), end, "json", True, name=name_part, args=None if problem else {},
                               problem=problem)]  # fmt: skip
    return region.claim(cands, head.start(), end)
