"""Special-token formats of other families, all spelled `<|tool…|>`:
- DeepSeek V3 / R1: `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>name\\n```json\\n{...}\\n```
  <｜tool▁call▁end｜><｜tool▁calls▁end｜>`
- DeepSeek V3.1: `<｜tool▁call▁begin｜>name<｜tool▁sep｜>{...}<｜tool▁call▁end｜>`
- Kimi: `<|tool_call_begin|>functions.name:0<|tool_call_argument_begin|>{...}<|tool_call_end|>`
- Liquid LFM2: `<|tool_call_start|>[name(k='v')]<|tool_call_end|>`
- Granite 3.x: `<|tool_call|>[{"name": ..., "arguments": {...}}]`
- Phi-4-mini: `functools[{"name": ..., "arguments": {...}}]`

Small models (DeepSeek-R1 distills above all) garble these tokens, so a token is read by its words, not its
spelling: ASCII or full-width bars, `▁`, `_`, spaces or markdown-escaped `\\_` between the words, the words
in any order (`<｜begin▁tool▁call｜>`), a bar missing or both (`<tool_call_start>`, LFM2 without its pipes).
Only the outer tokens present (`<｜tool▁calls▁begin｜>function<｜tool▁sep｜>...`) or no opening token at
all (`function<｜tool▁sep｜>name ...`) still make a call. Between tokens there must be a call (a name before a
separator, JSON, a Python call): tokens named in prose are not calls."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.scan import bracket_span
from agent_core.parsing.types import Candidate

_TOKEN = re.compile(r"<([|｜]?)[ \t]*([A-Za-z][A-Za-z▁_ \\]{2,60}?)[ \t]*([|｜]?)>")
_FUNCTOOLS = re.compile(r"functools[ \t]*(?=\[)")
_WORD_SPLIT = re.compile(r"[▁_ \\]+")
_CALL_START = re.compile(
    r"[ \t\r\n]*(?:[{\[`]|[A-Za-z_][\w.\-]*[ \t]*\(|(?:function[ \t:]+|functions\.)?[A-Za-z_][\w.\-:]*[ \t]*\n?[ \t]*"
    r"(?:```[\w\-]*[ \t]*\n[ \t]*)?\{)"
)


@dataclass
class _Tok:
    start: int
    end: int
    kind: str  # open | sep | end


def _kind(m: re.Match[str]) -> str | None:
    words = {w.lower() for w in _WORD_SPLIT.split(m.group(2)) if w}

    def has(*stems: str) -> bool:  # by word stem, so `beginn`, `seperator`, `tools` still count
        return any(w.startswith(stems) for w in words)

    if not has("tool"):
        return None
    piped = bool(m.group(1) or m.group(3))
    if has("response", "output", "result"):
        return "end"  # a tool result turn starts: any open call is over
    if has("sep") or (has("arg") and has("begin", "start")):
        return "sep"
    if has("end"):
        return "end"
    if has("begin", "start"):
        return "open"
    if piped and words <= {"tool", "tools", "call", "calls"} and len(words) == 2:
        return "open"  # Granite <|tool_call|>; without bars it is Hermes' <tool_call> tag (formats.hermes)
    return None


def _tokens(text: str) -> list[_Tok]:
    found: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        kind = _kind(m)
        if kind is not None:
            found.append(_Tok(m.start(), m.end(), kind))
            if len(found) >= 256:
                break
    return found


def extract(ctx: Ctx) -> list[Candidate]:
    text = ctx.text
    found: list[Candidate] = []
    open_at: _Tok | None = None
    seps: list[_Tok] = []
    prev_end = 0
    for tok in _tokens(text):
        if len(found) >= 32:
            break
        after, prev_end = prev_end, tok.end
        if tok.kind == "sep":
            if open_at is None:  # no opening token: the call starts on the separator's line
                line = max(text.rfind("\n", 0, tok.start) + 1, after)
                if not re.fullmatch(r"[ \t]*[A-Za-z_][\w.\-:]*[ \t]*", text[line : tok.start]):
                    continue
                open_at, seps = _Tok(line, line, "open"), []
            if len(seps) < 4:
                seps.append(tok)
            continue
        if open_at is not None:
            if tok.kind == "open" and not seps and not text[open_at.end : tok.start].strip():
                open_at = _Tok(open_at.start, tok.end, "open")  # calls-begin then call-begin: one opener
                continue
            found.extend(_call(text, open_at, seps, tok.start, tok.end if tok.kind == "end" else tok.start))
            open_at, seps = None, []
        if tok.kind == "open":
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


def _call(text: str, head: _Tok, seps: list[_Tok], body_end: int, end: int) -> list[Candidate]:
    if not seps:
        if not _CALL_START.match(text, head.end, body_end):
            return []  # the tokens are only mentioned
        cands = region.region_candidates(text, head.end, body_end, explicit=True)
    else:
        name_part = text[head.end : seps[0].start].strip()
        rest_start = seps[0].end
        if name_part in ("function", ""):  # DeepSeek V3 / R1: the name is the first line after the separator
            line_end = text.find("\n", rest_start, body_end)
            line_end = body_end if line_end < 0 else line_end
            name_part = text[rest_start:line_end].strip()
            rest_start = line_end
        body = region.region_candidates(text, rest_start, body_end, explicit=True)
        first = body[0] if body else None
        if first is not None and first.has_obj:
            cands = [
                Candidate(
                    head.start, end, "json", True, name=name_part, args=first.obj, cut_off=first.cut_off
                )
            ]
        else:
            problem = first.problem if first is not None else None
            cands = [Candidate(head.start, end, "json", True, name=name_part, args=None if problem else {},
                               problem=problem, cut_off=first.cut_off if first is not None else False)]  # fmt: skip
    return region.claim(cands, head.start, end)
