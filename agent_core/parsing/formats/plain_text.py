"""Calls written in prose, only when unambiguous:
- "I'll call write_file with path hello.py and content ```…```", "Let me use read_file on src/app.py":
  first-person intent, a real tool's exact name, every required argument named (or the single required one
  given after "on"/"for"), nothing hedged ("would", "could", "if", "for example");
- ReAct: `Action: write_file` followed by `Action Input: {...}` (or a plain value)."""

from __future__ import annotations

import re
from typing import Any

from agent_core.parsing.context import Ctx
from agent_core.parsing.scan import WEAK_CUES, bracket_span
from agent_core.parsing.toolset import ToolInfo
from agent_core.parsing.types import Candidate

_INTENT = re.compile(
    r"\b(?:I['’]ll|I will|I['’]m going to|I am going to|[Ll]et me|[Ll]et['’]s|[Nn]ow I['’]ll|I['’]m|I am|[Cc]alling|[Uu]sing)"
    r"(?:[ \t]+now)?[ \t]+(?:(?:call|use|run|invoke|execute|calling|using)[ \t]+)?(?:the[ \t]+)?"
    r"`?([A-Za-z_][\w\-]{1,60})`?(?:[ \t]+(?:tool|function))?[ \t]+(with|using|passing|on|for)\b[ \t]*:?"
)
_ACTION = re.compile(r"^[ \t]*Action[ \t]*:[ \t]*`?([\w.\-]{1,80})`?[ \t]*$", re.M | re.I)
_ACTION_INPUT = re.compile(r"[ \t]*Action[ _]Input[ \t]*:[ \t]*", re.I)
_HEDGES = re.compile(
    r"\b(?:if|would|could|might|should|can|may|maybe|perhaps|not|never|don['’]t|won['’]t)\b", re.I
)
_SEPARATOR = re.compile(r"[ \t]*(?:,[ \t]*and|,|and|;)[ \t]+")
MAX_SENTENCE = 4000


def extract(ctx: Ctx) -> list[Candidate]:
    found = _react(ctx)
    attempts = 0
    for m in _INTENT.finditer(ctx.text):
        if attempts >= 8:
            break
        if ctx.in_fence(m.start()) or ctx.tools.resolve(m.group(1), fuzzy=False) is None:
            continue
        attempts += 1
        c = _intent_call(ctx, m)
        if c is not None:
            found.append(c)
    return found


def _react(ctx: Ctx) -> list[Candidate]:
    text = ctx.text
    found: list[Candidate] = []
    for m in _ACTION.finditer(text):
        if len(found) >= 8:
            break
        nxt = m.end() + 1
        im = _ACTION_INPUT.match(text, nxt)
        if im is None or ctx.in_fence(m.start()):
            continue
        pos = im.end()
        if pos < len(text) and text[pos] in "{[":
            span = bracket_span(text, pos, len(text))
            args: Any = text[span.start : span.end]
            end = span.end
        else:
            eol = text.find("\n", pos)
            end = len(text) if eol < 0 else eol
            args = text[pos:end].strip().strip("`\"'")
        found.append(Candidate(m.start(), end, "json", True, name=m.group(1), args=args))
    return found


def _intent_call(ctx: Ctx, m: re.Match[str]) -> Candidate | None:
    text = ctx.text
    name = ctx.tools.resolve(m.group(1), fuzzy=False)
    tool = ctx.tools.get(name) if name else None
    if tool is None:
        return None
    sentence_start = max(text.rfind(".", 0, m.start()), text.rfind("\n", 0, m.start()), 0)
    if _HEDGES.search(text, sentence_start, m.start()) or WEAK_CUES.search(text, sentence_start, m.start()):
        return None
    parsed = _arguments(text, m.end(), tool, single=m.group(2) in ("on", "for"))
    if parsed is None:
        return None
    args, end = parsed
    if any(p not in args or args[p] in ("", None) for p in tool.required):
        return None  # not every required argument is there: ambiguous, so not a call
    return Candidate(m.start(), end, "text", False, name=name, args=args)


def _arguments(text: str, pos: int, tool: ToolInfo, single: bool) -> tuple[dict[str, Any], int] | None:
    limit = min(len(text), pos + MAX_SENTENCE)
    names = sorted(tool.params, key=len, reverse=True)
    if not names:
        return None
    param = re.compile(
        r"[ \t]*(?:the[ \t]+)?(?:argument[ \t]+|parameter[ \t]+)?`?("
        + "|".join(map(re.escape, names))
        + r")`?"
        r"(?:[ \t]*[=:][ \t]*|[ \t]+(?:set[ \t]+to|as|of|being|=)[ \t]+|[ \t]+)"
    )
    args: dict[str, Any] = {}
    if single and len(tool.required) == 1 and not param.match(text, pos, limit):
        value, end = _value(text, pos, limit)
        return ({tool.required[0]: value}, end) if value else None
    while pos < limit:
        pm = param.match(text, pos, limit)
        if pm is None:
            break
        value, pos = _value(text, pm.end(), limit, stop=param)
        args[pm.group(1)] = value
        sep = _SEPARATOR.match(text, pos, limit)
        if sep is None:
            break
        pos = sep.end()
    if not args or _HEDGES.search(text[pos : pos + 60].split("\n", 1)[0]):
        return None
    return args, pos


def _value(text: str, pos: int, limit: int, stop: re.Pattern[str] | None = None) -> tuple[str, int]:
    """A quoted/backticked value, a fenced block (after a colon or newline), or a bare one."""
    while pos < limit and text[pos] in " \t":
        pos += 1
    if text.startswith("```", pos) or (text.startswith("\n```", pos)) or text.startswith(":\n```", pos):
        open_at = text.find("```", pos)
        body = text.find("\n", open_at) + 1
        close = text.find("\n```", body)
        close = len(text) if close < 0 else close
        end = text.find("\n", close + 1)
        return text[body:close], len(text) if end < 0 else end
    if pos < limit and text[pos] in "\"'`":
        quote = text[pos]
        close = text.find(quote, pos + 1, limit)
        if close > pos:
            return text[pos + 1 : close], close + 1
    # Bare: up to the next ", and <param>", " and <param>", end of sentence or line.
    end = pos
    while end < limit:
        ch = text[end]
        if ch == "\n" or (ch in ".;" and (end + 1 >= len(text) or text[end + 1] in " \n")):
            break
        if ch in ",a" and stop is not None:
            sep = _SEPARATOR.match(text, end if ch == "," else end - 1, limit)
            if sep is not None and stop.match(text, sep.end(), limit):
                break
        end += 1
    return text[pos:end].strip().strip(","), end
