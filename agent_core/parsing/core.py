"""The forgiving parser: native calls first, then every format family over the reply text, then repair
and normalization against the tool schemas. Never raises; input beyond MAX_CHARS is not read."""

from __future__ import annotations

import logging
from typing import Any

from agent_core.llm.types import NativeToolCall
from agent_core.parsing.context import Ctx
from agent_core.parsing.formats import extractors
from agent_core.parsing.normalize import resolve
from agent_core.parsing.think import split_thinking
from agent_core.parsing.toolset import ToolSet
from agent_core.parsing.types import Candidate, ParseOutcome, ToolCall

__all__ = ["ParseOutcome", "ToolCall", "parse_reply", "parse_tool_calls"]

MAX_CHARS = 400_000
"""Longer replies are cut before parsing (a bounded cost on runaway output)."""

log = logging.getLogger(__name__)


def parse_tool_calls(text: str, tools: list[dict[str, Any]]) -> list[ToolCall]:
    """Every tool call the model meant to make in `text` (public interface, DESIGN.md)."""
    return parse_reply(text, [], tools).calls


def parse_reply(
    content: str, native: list[NativeToolCall], tools: list[dict[str, Any]], reasoning: str = ""
) -> ParseOutcome:
    """Calls from one model reply: native tool_calls first, else parsed from the text (the answer first,
    then its <think> part / `reasoning` only when the answer has none). `errors` are messages for the
    model about calls it clearly attempted but that could not be recovered."""
    try:
        toolset = ToolSet(tools if isinstance(tools, list) else [])
        if native:
            outcome = _native(native, toolset)
            if outcome.calls:
                return outcome
            from_text = _parse_text(content if isinstance(content, str) else "", reasoning, toolset)
            return from_text if from_text.calls else outcome
        return _parse_text(content if isinstance(content, str) else "", reasoning, toolset)
    except Exception:  # a parser bug must never take the agent loop down
        log.exception("tool-call parser failed")
        return ParseOutcome()


def _native(native: list[NativeToolCall], toolset: ToolSet) -> ParseOutcome:
    outcome = ParseOutcome()
    for nc in native[:32]:
        c = Candidate(0, 0, "json", True, name=nc.name, args=nc.arguments if nc.arguments != "" else {})
        r = resolve(c, toolset)
        for call in r.calls:
            call.id = nc.id or None
        outcome.calls.extend(r.calls)
        outcome.errors.extend(r.errors)
    return outcome


def _parse_text(text: str, reasoning: str, toolset: ToolSet) -> ParseOutcome:
    text = text[:MAX_CHARS]
    answer, thinking = split_thinking(text)
    outcome = parse_segment(answer, toolset)
    if outcome.calls:
        return outcome
    for hidden in (thinking, reasoning[:MAX_CHARS] if isinstance(reasoning, str) else ""):
        if hidden.strip():
            inner = parse_segment(hidden, toolset)
            if inner.calls:
                return inner
    return outcome


def parse_segment(text: str, toolset: ToolSet) -> ParseOutcome:
    """All formats over one piece of text; overlapping readings go to the higher-priority format, and only
    readings that became a call or an error claim their text."""
    if not text.strip():
        return ParseOutcome()
    ctx = Ctx(text, toolset)
    ordered: list[tuple[int, Candidate]] = []
    for priority, (name, extract) in enumerate(extractors()):
        try:
            found = extract(ctx)
        except Exception:  # one broken format reader must not hide the others
            log.exception("tool-call format %s failed", name)
            continue
        ordered.extend((priority, c) for c in found)
    ordered.sort(key=lambda pc: (pc[0], pc[1].start))
    claimed: list[tuple[int, int]] = []
    accepted: list[tuple[int, list[ToolCall], list[str]]] = []
    for _, c in ordered:
        if any(c.start < e and s < c.end for s, e in claimed) or len(claimed) >= 64:
            continue
        r = resolve(c, toolset)
        if r.status == "none":
            continue
        claimed.append((c.start, max(c.end, c.start + 1)))
        accepted.append((c.start, r.calls, r.errors))
    accepted.sort(key=lambda a: a[0])
    outcome = ParseOutcome()
    for _, calls, errors in accepted:
        outcome.calls.extend(calls)
        outcome.errors.extend(errors)
    return outcome
