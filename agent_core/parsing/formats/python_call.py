"""Python call syntax: Llama 3.2 `[f(k=v), g(k=v)]`, Liquid LFM2 (inside its tokens), Gemma ```tool_code,
and a bare `write_file(path="a.py", content="...")` line. Arguments are read with `ast` (never executed),
so Python string escapes and literals work; raw newlines inside one-line strings are escaped first."""

from __future__ import annotations

import ast
import re
from typing import Any

from agent_core.parsing.context import Ctx
from agent_core.parsing.scan import described, python_call_span
from agent_core.parsing.types import Candidate

_CALL_HEAD = re.compile(r"[A-Za-z_][\w.]*[ \t]*\(")
CALL_LIST_HEAD = re.compile(r"\[[ \t\r\n]*[A-Za-z_][\w.]*[ \t]*\(")
_SEPARATORS = " \t\r\n,;[]"
_LITERAL_NAMES = {"true": True, "false": False, "null": None, "none": None}
MAX_ARG_SOURCE = 200_000


def parse_call_list(text: str, start: int, end: int, explicit: bool) -> list[Candidate]:
    """Calls written one after another (optionally inside [...], separated by commas, `;` or newlines).
    Stops at the first thing that is not a call."""
    found: list[Candidate] = []
    pos = start
    while pos < end and len(found) < 32:
        while pos < end and text[pos] in _SEPARATORS:
            pos += 1
        m = _CALL_HEAD.match(text, pos, end)
        if m is None:
            break
        call = read_call(text, m.start(), m.end() - 1, end, explicit)
        if call is None:
            break
        found.append(call)
        pos = call.end
    return found


def read_call(text: str, start: int, open_paren: int, end: int, explicit: bool) -> Candidate | None:
    name = text[start:open_paren].strip()
    stop, closed, source = python_call_span(text, open_paren, end)
    if name == "print" and closed:  # Gemma: print(default_api.write_file(...))
        inner = parse_call_list(text, open_paren + 1, stop - 1, explicit)
        if len(inner) == 1:
            inner[0].start, inner[0].end = start, stop
            return inner[0]
    if not closed:
        source += ")"
    kwargs, positional, problem = parse_arguments(source)
    return Candidate(
        start=start,
        end=stop,
        family="python",
        explicit=explicit,
        name=name,
        args=kwargs,
        positional=positional,
        problem=problem,
    )


def parse_arguments(source: str) -> tuple[dict[str, Any], list[Any], str | None]:
    """`(a, k=v, ...)` → (keyword arguments, positional arguments, problem)."""
    if len(source) > MAX_ARG_SOURCE:
        return {}, [], "the call is too long to read"
    code = "f" + source
    try:
        node = ast.parse(code, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _split_arguments(source[1:-1])
    if not isinstance(node, ast.Call):
        return _split_arguments(source[1:-1])
    try:
        kwargs = {kw.arg: _value(kw.value, code) for kw in node.keywords if kw.arg}
        positional = [_value(a, code) for a in node.args]
    except (RecursionError, MemoryError, ValueError):
        return {}, [], "the arguments could not be read"
    if len(positional) == 1 and isinstance(positional[0], dict) and not kwargs:
        return positional[0], [], None  # write_file({"path": ..., "content": ...})
    return kwargs, positional, None


def _value(node: ast.expr, code: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        pass
    if isinstance(node, ast.Name):
        return _LITERAL_NAMES.get(node.id.lower(), node.id)
    if isinstance(node, ast.Dict):
        return {
            _value(k, code) if k is not None else None: _value(v, code)
            for k, v in zip(node.keys, node.values, strict=False)
        }
    if isinstance(node, ast.List | ast.Tuple):
        return [_value(e, code) for e in node.elts]
    # Unquoted text such as a.py or ls -la: keep it as written.
    return ast.get_source_segment(code, node) or ast.unparse(node)


def _split_arguments(inner: str) -> tuple[dict[str, Any], list[Any], str | None]:
    """Fallback when `ast` refuses (`bash(command=ls -la)`): split at top-level commas, k=v pairs."""
    kwargs: dict[str, Any] = {}
    positional: list[Any] = []
    for piece in _top_level_split(inner):
        key, sep, value = piece.partition("=")
        if sep and key.strip().isidentifier() and not key.strip().startswith(("'", '"')):
            kwargs[key.strip()] = _loose_value(value.strip())
        elif piece.strip():
            positional.append(_loose_value(piece.strip()))
    if not kwargs and not positional and inner.strip():
        return {}, [], "the arguments are not valid Python call syntax"
    return kwargs, positional, None


def _top_level_split(inner: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    quote = ""
    last = 0
    i = 0
    while i < len(inner):
        ch = inner[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if inner.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
        elif ch in "\"'":
            quote = ch * 3 if inner.startswith(ch * 3, i) else ch
            i += len(quote)
            continue
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[last:i])
            last = i + 1
        i += 1
    parts.append(inner[last:])
    return parts


def _loose_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        pass
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1]
    return _LITERAL_NAMES.get(text.lower(), text)


def extract(ctx: Ctx) -> list[Candidate]:
    """Bare calls outside code fences: a whole reply that is a `[f(k=v), ...]` list, or a line that starts
    with a real tool's name and holds nothing but the call."""
    text = ctx.text
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]") and CALL_LIST_HEAD.match(stripped):
        offset = text.index("[")
        calls = parse_call_list(text, offset + 1, offset + len(stripped) - 1, explicit=True)
        if calls:
            return calls
    names = [n for n in ctx.tools.names() if n.isidentifier()]
    if not names:
        return []
    head = re.compile(
        r"^[ \t]{0,3}(\[[ \t]*)?(?:(?:functions|default_api|tools)\.)?(?:"
        + "|".join(map(re.escape, names))
        + r")[ \t]*\(",
        re.M,
    )
    found: list[Candidate] = []
    pos = 0
    while len(found) < 32:
        m = head.search(text, pos)
        if m is None:
            break
        pos = m.end()
        if ctx.in_fence(m.start()) or _after_block_opener(text, m.start()):
            continue
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip(" \t"))
        if m.group(1):  # a line holding a [f(k=v), g(k=v)] list (Llama 3.2)
            calls = parse_call_list(text, start + len(m.group(1)), len(text), False)
            end = calls[-1].end if calls else pos
            while end < len(text) and text[end] in " \t":
                end += 1
            if not calls or not text.startswith("]", end):
                continue
            pos = end + 1
            calls[0].start, calls[-1].end = start, end + 1
        else:
            call = read_call(text, start, m.end() - 1, len(text), False)
            if call is None:
                continue
            calls = [call]
            pos = max(pos, call.end)
        rest = text[pos : pos + 200].split("\n", 1)[0].strip()
        if rest not in ("", ";", ",") or described(text, calls[0].start, calls[-1].end, strong_only=False):
            continue
        found.extend(calls)
    return found


def _after_block_opener(text: str, pos: int) -> bool:
    """A call indented under `def ...:` or `if ...:` is code being shown, not a call being made."""
    before = text[max(0, pos - 200) : pos].rstrip()
    return before.endswith(":") and text[pos] in " \t"
