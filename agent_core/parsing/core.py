"""The forgiving parser: native calls first, then every format family over the reply text, then repair
and normalization against the tool schemas. Never raises; input beyond MAX_CHARS is not read.

A reply cut off by the token limit (finish_reason "length") or ending inside an unfinished call is never
run: the outcome then holds no call and a message telling the model how to continue."""

from __future__ import annotations

import logging
from typing import Any

from agent_core.llm.types import NativeToolCall
from agent_core.parsing import messages
from agent_core.parsing.context import Ctx
from agent_core.parsing.formats import extractors
from agent_core.parsing.normalize import resolve
from agent_core.parsing.think import split_thinking
from agent_core.parsing.toolset import ToolSet
from agent_core.parsing.turns import own_turn
from agent_core.parsing.types import Candidate, Family, ParseOutcome, Resolution, ToolCall

__all__ = ["ParseOutcome", "ToolCall", "parse_reply", "parse_tool_calls"]

MAX_CHARS = 400_000
"""Longer replies are cut before parsing (a bounded cost on runaway output)."""

CUT_OFF_REASONS = ("length", "max_tokens")
"""finish_reason values that mean the reply hit the token limit (OpenAI-compatible servers send "length")."""

log = logging.getLogger(__name__)


def parse_tool_calls(text: str, tools: list[dict[str, Any]]) -> list[ToolCall]:
    """Every tool call the model meant to make in `text` (public interface, DESIGN.md)."""
    return parse_reply(text, [], tools).calls


def parse_reply(
    content: str,
    native: list[NativeToolCall],
    tools: list[dict[str, Any]],
    reasoning: str = "",
    finish_reason: str | None = None,
    task: str | None = None,
) -> ParseOutcome:
    """Calls from one model reply: native tool_calls first, else parsed from the text (the answer first,
    then its <think> part / `reasoning` only when the answer has none). `errors` are messages for the
    model about calls it clearly attempted but that could not be recovered.

    `finish_reason` "length" (the reply hit the token limit) means nothing in it runs: no calls, and a
    message saying it was cut off and how to continue. `task` (the user's request, when known) lets a reply
    that is only a ```bash block run as a command only when the task asks for something to be done."""
    try:
        toolset = ToolSet(tools if isinstance(tools, list) else [])
        text = content if isinstance(content, str) else ""
        task = task if isinstance(task, str) else None
        if native:
            outcome = _native(native, toolset)
            if not outcome.calls:
                from_text = _parse_text(text, reasoning, toolset, task)
                outcome = from_text if from_text.calls else outcome
        else:
            outcome = _parse_text(text, reasoning, toolset, task)
    except Exception:  # a parser bug must never take the agent loop down
        log.exception("tool-call parser failed")
        toolset, outcome = ToolSet([]), ParseOutcome()
    if finish_reason in CUT_OFF_REASONS:
        return _cut_off(outcome, toolset)
    return outcome


def _cut_off(outcome: ParseOutcome, toolset: ToolSet) -> ParseOutcome:
    """The reply stopped at the token limit: whatever it holds is unfinished, so nothing runs."""
    last: tuple[str | None, Family] = outcome.attempts[-1] if outcome.attempts else (None, "json")
    name, family = last
    tool = toolset.get(name) if name else None
    return ParseOutcome(
        errors=[messages.cut_off(tool, family, toolset, limit=True)], attempts=outcome.attempts
    )


def _native(native: list[NativeToolCall], toolset: ToolSet) -> ParseOutcome:
    outcome = ParseOutcome()
    for nc in native[:32]:
        c = Candidate(0, 0, "json", True, name=nc.name, args=nc.arguments if nc.arguments != "" else {})
        r = resolve(c, toolset)
        for call in r.calls:
            call.id = nc.id or None
        outcome.calls.extend(r.calls)
        outcome.errors.extend(r.errors)
        if r.tool:
            outcome.attempts.append((r.tool, "json"))
    return outcome


def _parse_text(text: str, reasoning: str, toolset: ToolSet, task: str | None = None) -> ParseOutcome:
    text = text[:MAX_CHARS]
    answer, thinking = split_thinking(text)
    outcome = parse_segment(own_turn(answer), toolset, task)
    if outcome.calls or any(e.startswith(messages.CUT_OFF_LEAD) for e in outcome.errors):
        return outcome  # (an answer cut off mid-call runs nothing, whatever its thinking holds)
    for hidden in (thinking, reasoning[:MAX_CHARS] if isinstance(reasoning, str) else ""):
        if hidden.strip():
            inner = parse_segment(own_turn(hidden), toolset, task)
            if inner.calls:
                return inner
    return outcome


def parse_segment(text: str, toolset: ToolSet, task: str | None = None) -> ParseOutcome:
    """All formats over one piece of text; overlapping readings go to the higher-priority format, and only
    readings that became a call or an error claim their text."""
    if not text.strip():
        return ParseOutcome()
    ctx = Ctx(text, toolset, task=task)
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
    accepted: list[tuple[int, Candidate, Resolution]] = []
    for _, c in ordered:
        if any(c.start < e and s < c.end for s, e in claimed) or len(claimed) >= 64:
            continue
        r = resolve(c, toolset)
        if r.status == "none":
            continue
        claimed.append((c.start, max(c.end, c.start + 1)))
        accepted.append((c.start, c, r))
    accepted.sort(key=lambda a: a[0])
    outcome = ParseOutcome()
    for _, c, r in accepted:
        outcome.calls.extend(r.calls)
        outcome.errors.extend(r.errors)
        outcome.attempts.extend((call.name, c.family) for call in r.calls)
        if not r.calls and r.tool:
            outcome.attempts.append((r.tool, c.family))
    if any(c.cut_off for _, c, _ in accepted):
        # The reply stops inside a call: none of it runs (an earlier call may depend on the unfinished one).
        told = [e for e in outcome.errors if e.startswith(messages.CUT_OFF_LEAD)]
        return ParseOutcome(errors=told[:1], attempts=outcome.attempts)
    return outcome
