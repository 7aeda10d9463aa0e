"""YAML-like calls, forgivingly read (small models' YAML is rarely valid YAML):

    tool: write_file            name: write_file
    path: hello.py              arguments:
    content: |                    path: hello.py
      print("hello")              content: "print('hello')"

Used for ```yaml fences, for regions inside tool-call markers, and for a reply that starts with such a
mapping (`extract`)."""

from __future__ import annotations

import ast
import re
from typing import Any

from agent_core.parsing.context import Ctx
from agent_core.parsing.repair import Unreadable, load_json
from agent_core.parsing.scan import described
from agent_core.parsing.types import Candidate

_KEY = re.compile(r"([ \t]*)([A-Za-z_][\w\-]*(?: [A-Za-z_][\w\-]*){0,2})[ \t]*:(?:[ \t]+|$)")
NAME_KEYS = ("tool", "name", "tool_name", "function", "action")
MAX_LINES = 2_000


def parse_block(text: str) -> dict[str, Any] | None:
    """A mapping with a tool-name key, or None when the text is not a YAML-like call."""
    mapping, _ = parse_mapping(text.split("\n")[:MAX_LINES], 0)
    if not mapping or not any(isinstance(mapping.get(k), str) for k in NAME_KEYS):
        return None
    return mapping


def parse_mapping(lines: list[str], first: int, depth: int = 0) -> tuple[dict[str, Any], int]:
    """Read `key: value` lines from `first` at one indentation; returns (mapping, index after it).
    Nesting deeper than a few levels is kept as text (calls are shallow; this bounds the work)."""
    out: dict[str, Any] = {}
    i = first
    indent: int | None = None
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        m = _KEY.match(line)
        if m is None:
            break
        level = len(m.group(1).expandtabs(2))
        if indent is None:
            indent = level
        if level != indent:
            break
        key = m.group(2).strip().lower().replace(" ", "_").replace("-", "_")
        rest = line[m.end() :].strip()
        block, after = _indented_block(lines, i + 1, level)
        if rest in ("|", "|-", "|+", ">", ">-"):
            value: Any = "\n".join(block)
            if rest in ("|", "|+") and block:
                value += "\n"
            elif rest.startswith(">"):
                value = " ".join(part.strip() for part in block)
            i = after
        elif not rest and block:
            nested, used = parse_mapping(block, 0, depth + 1) if depth < 4 else ({}, 0)
            value = nested if nested and used >= len(block) else "\n".join(block)
            i = after
        else:
            value = _scalar(rest)
            i += 1
        out[key] = value
    return out, i


def _indented_block(lines: list[str], start: int, level: int) -> tuple[list[str], int]:
    """The lines after a key that are indented deeper than it (blank lines included), dedented."""
    end = start
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > level):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    block = lines[start:end]
    widths = [len(x) - len(x.lstrip()) for x in block if x.strip()]
    cut = min(widths) if widths else 0
    return [x[cut:] for x in block], end


def _scalar(text: str) -> Any:
    if not text:
        return ""
    if text[0] in "{[":
        try:
            return load_json(text)
        except Unreadable:
            return text
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return text[1:-1]
    return text


_START = re.compile(
    r"^(?:tool|name|tool_name|function|action)[ \t]*:[ \t]*`?([\w.\-]+)`?[ \t]*$", re.M | re.I
)


def extract(ctx: Ctx) -> list[Candidate]:
    """An unfenced mapping whose first line names a real tool exactly (`tool: write_file`)."""
    text = ctx.text
    found: list[Candidate] = []
    consumed = attempts = 0
    for m in _START.finditer(text):
        if attempts >= 16:
            break
        if (
            m.start() < consumed
            or ctx.in_fence(m.start())
            or ctx.tools.resolve(m.group(1), fuzzy=False) is None
        ):
            continue
        attempts += 1
        lines = text[m.start() :].split("\n", MAX_LINES)[:MAX_LINES]
        mapping, used = parse_mapping(lines, 0)
        end = m.start() + sum(len(x) + 1 for x in lines[:used])
        end = consumed = min(end, len(text))
        if mapping and not described(text, m.start(), m.start(), strong_only=False):
            found.append(Candidate(m.start(), end, "text", False, obj=mapping, has_obj=True))
    return found
