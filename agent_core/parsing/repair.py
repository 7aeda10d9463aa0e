"""Decoding JSON that small models write: strict first, then the json-repair library, within bounds.

json-repair fixes trailing commas, single quotes, Python literals, unescaped quotes and newlines inside
strings and missing closing brackets. It is a recursive pure-Python parser, so input size and nesting
depth are capped before handing text to it."""

from __future__ import annotations

import json
from typing import Any

import json_repair

MAX_REPAIR_CHARS = 200_000
MAX_DEPTH = 40


class Unreadable(ValueError):
    """The text is not JSON even after repair; the message says what is wrong, in a few words."""


def nesting_depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        if ch in "{[":
            depth += 1
            if depth > best:
                best = depth
        elif ch in "}]":
            depth -= 1
    return best


def load_json(text: str) -> Any:
    """Decode `text` as JSON, repairing it when needed. Raises Unreadable."""
    text = text.strip()
    if not text:
        raise Unreadable("empty")
    try:
        return json.loads(text, strict=False)  # strict=False: raw newlines/tabs inside strings are fine
    except (ValueError, RecursionError) as exc:
        first_error = exc
    if len(text) > MAX_REPAIR_CHARS:
        raise Unreadable(f"too long to repair ({len(text)} characters)")
    if nesting_depth(text) > MAX_DEPTH:
        raise Unreadable("nested too deeply")
    try:
        value = json_repair.repair_json(text, return_objects=True, skip_json_loads=True)
    except Exception as exc:  # the library may raise anything on hostile input; never let it escape
        raise Unreadable(f"not valid JSON ({type(exc).__name__})") from exc
    if value == "" or value is None and text not in ("null", "None"):
        raise Unreadable(_describe(first_error))
    return value


def _describe(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    return "not valid JSON"
