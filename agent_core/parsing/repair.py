"""Decoding JSON that small models write: strict first, then the json-repair library, within bounds.

json-repair fixes trailing commas, single quotes, Python literals, unescaped quotes and newlines inside
strings and missing closing brackets. It is a recursive pure-Python parser, so input size and nesting
depth are capped before handing text to it."""

from __future__ import annotations

import json
import re
from typing import Any

import json_repair

MAX_REPAIR_CHARS = 200_000
MAX_DEPTH = 40


# A string value followed by code rather than `,` `}` `]`: `"Hello, {}".format(name)`, `"a" + name`.
# json-repair would silently drop the code and keep a string the model did not mean; ask again instead.
_CODE_AFTER_STRING = re.compile(
    r"""(?<![\\])"[ \t]*(?:\.[ \t]*[A-Za-z_]\w*[ \t]*\([^()"\n]*\)|[+%][ \t]*[A-Za-z_][\w.]*)[ \t]*(?=[,}\]\n])"""
)


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
    quoted = escape_stray_quotes(text)
    if quoted != text:
        try:
            return json.loads(quoted, strict=False)
        except (ValueError, RecursionError):
            pass  # not the only problem: json-repair gets the original text below
    split = close_run_on_strings(text)
    if split != text:
        try:
            return json.loads(split, strict=False)
        except (ValueError, RecursionError):
            pass
    code = _CODE_AFTER_STRING.search(text)
    if code:
        snippet = code.group(0)[1:].strip()[:40]
        raise Unreadable(
            f"not plain JSON: a string is followed by code ({snippet}); "
            "write each value as one finished JSON string"
        )
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


def escape_stray_quotes(text: str) -> str:
    """Escape a `"` inside a string that cannot be its end: one followed by neither `,` `:` `}` `]`, the
    end of the text, nor (across a line break) the next key's quote. Small models write code such as
    `import (\n\t"fmt\"` without escaping every quote; json-repair would cut the string there.
    One pass, linear."""
    out: list[str] = []
    in_string = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if in_string and ch == "\\":
            out.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"':
            if not in_string:
                in_string = True
            elif _closes(text, i + 1):
                in_string = False
            else:
                out.append('\\"')
                i += 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _closes(text: str, j: int) -> bool:
    newline = False
    while j < len(text) and text[j] in " \t\r\n":
        newline = newline or text[j] == "\n"
        j += 1
    return j >= len(text) or text[j] in ",:}]" or (newline and text[j] == '"')


# Inside a string: `"key": <value>` — the next field, after a string whose closing quote and comma were
# left out (`{"path": "todo.md "content": "x"}`).
_QUOTE_OR_ESCAPE = re.compile(r'[\\"]')
_NEXT_FIELD = re.compile(
    r"""[ \t]*"([A-Za-z_][\w\-]{0,40})"[ \t]*:[ \t]*(?=["{\[\-\d]|true\b|false\b|null\b)"""
)


def close_run_on_strings(text: str) -> str:
    """Close a string that runs on into the next field: `"todo.md "content": "x"` becomes
    `"todo.md", "content": "x"` (trailing spaces and a stray comma dropped from the value). Only used when
    the result then decodes as plain JSON. One pass over the quotes, linear."""
    out: list[str] = []
    last = 0
    in_string = False
    skip_to = 0
    for m in _QUOTE_OR_ESCAPE.finditer(text):
        i = m.start()
        if i < skip_to:
            continue
        if text[i] == "\\":
            if in_string:
                skip_to = i + 2
            continue
        if not in_string:
            in_string = True
        elif _closes(text, i + 1):
            in_string = False
        elif i > 0 and text[i - 1] in " \t," and _NEXT_FIELD.match(text, i):
            j = i
            while j > last and text[j - 1] in " \t,":
                j -= 1
            out.append(text[last:j])
            out.append('", ')
            last = i  # this quote now opens the next key
    out.append(text[last:])
    return "".join(out)


_SIGNIFICANT = re.compile(r'[\\"{}\[\]]')


def stops_mid_value(text: str) -> bool:
    """Whether unfinished JSON stops in the middle of a value: inside a string, or right after `:` `,`
    `{` `[` with nested brackets still open. (`{"command": "ls"` only lacks its closing braces: every value
    is finished, so that is not a stop mid-value.)"""
    in_string = False
    depth = 0
    skip_to = 0
    for m in _SIGNIFICANT.finditer(text):
        i = m.start()
        if i < skip_to:
            continue
        ch = text[i]
        if in_string:
            if ch == "\\":
                skip_to = i + 2
            elif ch == '"' and _closes(text, i + 1):
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return in_string or (depth > 0 and text.rstrip()[-1:] in (":", ",", "{", "["))
