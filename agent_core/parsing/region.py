"""Decoding the inside of a marked region (a <tool_call> tag, a special-token block, a fence): JSON
object(s), Python call(s), a YAML-like mapping, or `name {json}`."""

from __future__ import annotations

import re

from agent_core.parsing.formats import python_call, yaml_like
from agent_core.parsing.repair import Unreadable, load_json, stops_mid_value
from agent_core.parsing.scan import bracket_span
from agent_core.parsing.toolset import ToolSet
from agent_core.parsing.types import Candidate, Family, LazyFlag

_NAME_IN_JSON = re.compile(r"""["']?name["']?[ \t]*:[ \t]*["']([\w.\-]{1,80})["']""")
# `write_file {...}`, `write_file\n{...}`, `function get_weather\n```json\n{...}` (DeepSeek without its separator)
_NAME_THEN_JSON = re.compile(
    r"(?:function[ \t:]+)?([A-Za-z_][\w.\-]{0,80})[ \t]*(?:\n[ \t]*)?(?:```[\w\-]*[ \t]*\n[ \t]*)?(?=\{)"
)
_INNER_FENCE = re.compile(r"```[\w\-]*[ \t]*\n?")
_WRAPPER = re.compile(r"<([A-Za-z_][\w\-]{0,40})>")
# `{"name": "x", "arguments": {` — the shape the prompt asks for; nothing else starts that way by chance.
_ENVELOPE_HEAD = re.compile(
    r"""\{\s*["']name["']\s*:\s*["'][\w.\-]{1,80}["']\s*,\s*["'](arguments|parameters)["']\s*:\s*\{"""
)


def json_candidates(
    text: str, start: int, end: int, explicit: bool, family: Family = "json"
) -> list[Candidate]:
    """Every top-level JSON value between start and end (JSON lines, or one value)."""
    found: list[Candidate] = []
    pos = start
    while pos < end and len(found) < 32:
        nxt = _next_opener(text, pos, end)
        if nxt < 0:
            break
        span = bracket_span(text, nxt, end)
        found.append(decode_json(text, span.start, span.end, explicit, family))
        pos = span.end
    return found


def _next_opener(text: str, pos: int, end: int) -> int:
    a = text.find("{", pos, end)
    b = text.find("[", pos, end)
    if a < 0 or b < 0:
        return max(a, b)
    return min(a, b)


def decode_json(text: str, start: int, end: int, explicit: bool, family: Family = "json") -> Candidate:
    chunk = text[start:end]
    head = _ENVELOPE_HEAD.match(chunk, 0, 200)
    attempt = head.group(1) if head else ""
    cut_off: bool | LazyFlag = LazyFlag(lambda: stops_mid_value(chunk)) if at_end(text, end) else False
    try:
        value = load_json(chunk)
    except Unreadable as exc:
        name = _NAME_IN_JSON.search(chunk[:400])
        return Candidate(
            start, end, family, explicit,
            name=name.group(1) if name else None,
            args=chunk if name else None,
            problem=str(exc),
            attempt=attempt,
            cut_off=cut_off,
        )  # fmt: skip
    return Candidate(start, end, family, explicit, obj=value, has_obj=True, attempt=attempt, cut_off=cut_off)


def at_end(text: str, pos: int) -> bool:
    """Nothing but whitespace (or a fence line) follows `pos`: the reply stopped there."""
    rest = text[pos:].strip()
    return not rest or rest.strip("`~") == ""


def region_candidates(
    text: str, start: int, end: int, explicit: bool, tools: ToolSet | None = None, depth: int = 0
) -> list[Candidate]:
    """Candidates inside [start, end). An explicit region that holds nothing readable yields one
    candidate with a problem, so the model is told. In an explicit region Python-style calls may sit among
    other code (`x = f(...)` then `print(x)`): lines that hold no call are passed over."""
    while start < end and text[start] in " \t\r\n":
        start += 1
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    if start >= end:
        return []
    m = _INNER_FENCE.match(text, start, end)
    if m:  # a fence inside a tag: <tool_call>```json {...}```</tool_call>
        start = m.end()
        if text.endswith("```", start, end):
            end -= 3
    wrapper = _WRAPPER.match(text, start, end)
    if wrapper is not None and text.endswith(f"</{wrapper.group(1)}>", start, end) and depth < 3:
        # <tool_call><function>{...}</function></tool_call>, <tool_call><json>...</json></tool_call>
        inner_end = end - len(wrapper.group(1)) - 3
        return region_candidates(text, wrapper.end(), inner_end, explicit, tools, depth + 1)
    head = text[start]
    if head in "{[" and not python_call.CALL_LIST_HEAD.match(text, start, end):
        return json_candidates(text, start, end, explicit)
    if (
        text.startswith("<function", start)
        or text.startswith("<invoke", start)
        or text.startswith("<parameter", start)
    ):
        return []  # XML calls: formats.qwen_xml reads those
    calls = python_call.parse_call_list(text, start, end, explicit, tools, tolerant=explicit)
    if calls:
        return calls
    named = _NAME_THEN_JSON.match(text, start, end)
    if named:  # Functionary-style "write_file\n{...}" or "write_file {...}"
        span = bracket_span(text, named.end(), end)
        body = decode_json(text, named.end(), span.end, explicit)
        name, cut = named.group(1), body.cut_off
        if body.has_obj:
            return [Candidate(start, end, "json", explicit, name=name, args=body.obj, cut_off=cut)]
        return [Candidate(start, end, "json", explicit, name=name, problem=body.problem, cut_off=cut)]
    mapping = yaml_like.parse_block(text[start:end])
    if mapping is not None:
        return [Candidate(start, end, "json", explicit, obj=mapping, has_obj=True)]
    if not explicit:
        return []
    return [Candidate(start, end, "json", explicit, problem="it is neither JSON nor a function call")]


def claim(cands: list[Candidate], start: int, end: int) -> list[Candidate]:
    """Stretch the first and last candidate over the block's markers (tags, tokens, fence lines), so no
    other format reads them again; siblings inside one block keep their own, non-overlapping spans."""
    if cands:
        cands[0].start = min(cands[0].start, start)
        cands[-1].end = max(cands[-1].end, end)
    return cands
