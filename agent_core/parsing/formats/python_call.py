"""Python call syntax: Llama 3.2 `[f(k=v), g(k=v)]`, Llama 3.1 built-ins (`brave_search.call(query=...)`),
Liquid LFM2 (inside its tokens), Gemma ```tool_code (`print(default_api.f(...))`, `x = f(...)`), a `call:`
prefix, FunctionGemma's `call:f{k:<escape>v<escape>}`, and a bare `write_file(path="a.py", ...)` line.
Arguments are read with `ast` (never executed), so Python string escapes and literals work; raw newlines
inside one-line strings are escaped first.

Outside code fences a call counts only when it is plainly meant as one: a line that is nothing but a call
of a real tool, a `[...]` list of real tools' calls ending the reply, or a reply made only of call
statements (`print(f(...))`, `x = f(...)`). `print(foo(x))` inside an explanation is code, not a call."""

from __future__ import annotations

import ast
import re
from typing import Any

from agent_core.parsing.context import Ctx
from agent_core.parsing.scan import described, python_call_span, shown_after
from agent_core.parsing.toolset import ToolSet
from agent_core.parsing.types import Candidate
from agent_core.python_ast import parse_expression

_NAME = r"[A-Za-z_][\w.\-]*"
_CALL_HEAD = re.compile(rf"{_NAME}[ \t]*\(")
CALL_LIST_HEAD = re.compile(rf"\[[ \t\r\n]*{_NAME}[ \t]*\(")
# What may stand before a call in a statement: a `call:` label, an assignment (Gemma), `await`.
_PREFIX = re.compile(
    r"(?:(?:tool|function)[ _]?)?call[ \t]*:[ \t]*|action[ \t]*:[ \t]*|[A-Za-z_]\w*[ \t]*=(?!=)[ \t]*|await[ \t]+",
    re.I,
)
# A reply whose first line only names the block, as a fence's language would: `tool_code` then calls.
_LABEL_LINE = re.compile(r"[ \t]*(?:tool_code|tool_call|tool_calls|function_call)[ \t]*:?[ \t]*\n", re.I)
_MODULES = r"(?:(?:functions|default_api|tools|api)\.)?"
_SEPARATORS = " \t\r\n,;[]"
_LITERAL_NAMES = {"true": True, "false": False, "null": None, "none": None}
MAX_ARG_SOURCE = 200_000


def parse_call_list(
    text: str, start: int, end: int, explicit: bool, tools: ToolSet | None = None, tolerant: bool = False
) -> list[Candidate]:
    """Calls written one after another (optionally inside [...], separated by commas, `;` or newlines,
    each maybe behind a `call:` label or an assignment). Stops at the first thing that is not a call —
    or, `tolerant` (a code block meant for tools: ```tool_code, <|python_tag|>), skips that line. With
    `tools`, calls of unknown names are dropped when the block also calls a real tool (`x = math.pi(...)`
    beside the real call is the model's own code)."""
    found: list[Candidate] = []
    pos = start
    while pos < end and len(found) < 32:
        while pos < end and text[pos] in _SEPARATORS:
            pos += 1
        if pos >= end:
            break
        call = _statement(text, pos, end, explicit)
        if call is not None:
            found.append(call)
            pos = call.end
            continue
        if not tolerant:
            break
        eol = text.find("\n", pos, end)
        if eol < 0:
            break
        pos = eol + 1
    if tools is not None and len(found) > 1:
        known = [c for c in found if tools.resolve(c.name, fuzzy=False) is not None]
        if known:
            found = known
    return found


def _statement(text: str, pos: int, end: int, explicit: bool) -> Candidate | None:
    """One call at `pos`, maybe behind a prefix (`call:`, `x = `, `await`); None when there is none."""
    m = _CALL_HEAD.match(text, pos, end)
    if m is None:
        prefix = _PREFIX.match(text, pos, end)
        if prefix is None:
            return None
        m = _CALL_HEAD.match(text, prefix.end(), end)
        if m is None:
            return None
    call = read_call(text, m.start(), m.end() - 1, end, explicit)
    if call is not None:
        call.start = pos
    return call


def read_call(text: str, start: int, open_paren: int, end: int, explicit: bool) -> Candidate | None:
    name = text[start:open_paren].strip()
    stop, closed, source, open_quote = python_call_span(text, open_paren, end)
    if name == "print":  # Gemma: print(default_api.write_file(...)); print(result) is no call
        if not closed:  # only a call inside that the reply stopped in
            inner = parse_call_list(text, open_paren + 1, end, explicit)
            if len(inner) == 1 and inner[0].cut_off:
                inner[0].start = start
                return inner[0]
            return None
        inner = parse_call_list(text, open_paren + 1, stop - 1, explicit)
        if len(inner) == 1 and not text[inner[0].end : stop - 1].strip():
            inner[0].start, inner[0].end = start, stop
            return inner[0]
        return None
    cut_off = False
    if not closed:
        rest = source.rstrip()
        cut_off = not text[stop:].strip() and (open_quote or rest.endswith(("(", ",", "=", "[", "{")))
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
        cut_off=cut_off,
    )


def parse_arguments(source: str) -> tuple[dict[str, Any], list[Any], str | None]:
    """`(a, k=v, ...)` → (keyword arguments, positional arguments, problem)."""
    if len(source) > MAX_ARG_SOURCE:
        return {}, [], "the call is too long to read"
    code = "f" + source
    try:
        node = parse_expression(code).body
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


# ---------------------------------------------------------------------------------------------- FunctionGemma
_GEMMA_CALL = re.compile(rf"(<start_function_call>[ \t\r\n]*)?call[ \t]*:[ \t]*({_NAME})[ \t]*(?=\{{)")
_GEMMA_END = re.compile(r"[ \t\r\n]*<end_function_call>")
_ESCAPE = "<escape>"
_GEMMA_STOP = re.compile(r"[,}\]\n]|$")


def _gemma_calls(ctx: Ctx) -> list[Candidate]:
    """FunctionGemma: `<start_function_call>call:get_weather{location:<escape>Paris<escape>,days:2}
    <end_function_call>` (strings between <escape> tokens). Without the tokens, only on a line of its own."""
    text = ctx.text
    found: list[Candidate] = []
    for m in _GEMMA_CALL.finditer(text):
        if len(found) >= 32:
            break
        explicit = bool(m.group(1))
        if not explicit and (
            ctx.in_fence(m.start()) or text[text.rfind("\n", 0, m.start()) + 1 : m.start()].strip()
        ):
            continue
        try:
            args, pos = _gemma_value(text, m.end(), 0)
        except ValueError:
            args, pos = None, len(text)
        end = pos
        tail = _GEMMA_END.match(text, end)
        if tail is not None:
            end = tail.end()
        elif not explicit and text[end : text.find("\n", end) if "\n" in text[end:] else len(text)].strip():
            continue
        if not isinstance(args, dict):
            found.append(Candidate(m.start(), end, "python", explicit, name=m.group(2),
                                   problem="the arguments could not be read"))  # fmt: skip
            continue
        found.append(Candidate(m.start(), end, "python", explicit, name=m.group(2), args=args))
    return found


def _gemma_value(text: str, pos: int, depth: int) -> tuple[Any, int]:
    """One value at `pos`: <escape>string<escape>, {k:v,...}, [v,...] or a bare literal. Raises ValueError."""
    if depth > 8:
        raise ValueError("nested too deeply")
    if text.startswith(_ESCAPE, pos):
        close = text.find(_ESCAPE, pos + len(_ESCAPE))
        if close < 0:
            raise ValueError("unclosed string")
        return text[pos + len(_ESCAPE) : close], close + len(_ESCAPE)
    if pos < len(text) and text[pos] in "{[":
        closer = "}" if text[pos] == "{" else "]"
        obj: dict[str, Any] = {}
        items: list[Any] = []
        pos += 1
        while pos < len(text):
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if text.startswith(closer, pos):
                return (obj if closer == "}" else items), pos + 1
            if closer == "}":
                colon = text.find(":", pos)
                if colon < 0 or colon - pos > 100:
                    raise ValueError("no key")
                key = text[pos:colon].strip().strip("\"'")
                obj[key], pos = _gemma_value(text, colon + 1, depth + 1)
            else:
                value, pos = _gemma_value(text, pos, depth + 1)
                items.append(value)
        raise ValueError("unclosed")
    m = _GEMMA_STOP.search(text, pos, pos + 2000)
    if m is None:
        raise ValueError("no end of value")
    stop = m.start()
    raw = text[pos:stop].strip()
    if raw.lower() in _LITERAL_NAMES:
        return _LITERAL_NAMES[raw.lower()], stop
    try:
        return (float(raw) if any(c in raw for c in ".eE") else int(raw)), stop
    except ValueError:
        return raw, stop


# -------------------------------------------------------------------------------------------------- extract
def extract(ctx: Ctx) -> list[Candidate]:
    """Bare calls outside code fences (see the module docstring for when they count)."""
    text = ctx.text
    found = _gemma_calls(ctx)
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]") and CALL_LIST_HEAD.match(stripped):
        offset = text.index("[")
        calls = parse_call_list(text, offset + 1, offset + len(stripped) - 1, explicit=True)
        if calls:
            return found + calls
    label = _LABEL_LINE.match(text)
    if label is not None:  # `tool_code` on a line, then the calls: a fence without its backticks
        calls = parse_call_list(text, label.end(), len(text), True, ctx.tools, tolerant=True)
        if calls:
            calls[0].start = 0
            return found + calls
    names = ctx.tools.spellings()
    if not names:
        return found
    alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    only = _only_calls(ctx, alternatives)
    if only:
        return found + only
    found.extend(_lines(ctx, alternatives))
    found.extend(_trailing_list(ctx, alternatives))
    return found


def _known(ctx: Ctx, calls: list[Candidate]) -> bool:
    return all(c.name and ctx.tools.resolve(c.name, fuzzy=False) is not None for c in calls)


def _only_calls(ctx: Ctx, alternatives: str) -> list[Candidate]:
    """A reply made only of call statements of real tools: `print(default_api.f(x=1))`, `r = f(x=1)`,
    `call: f(x=1)`, one or several. (Each form alone in a longer reply is code being shown.)"""
    text = ctx.text
    head = re.compile(
        rf"[ \t]*(?:(?i:{_PREFIX.pattern})|print\([ \t]*)?{_MODULES}(?:{alternatives})(?:\.call)?[ \t]*\("
    )
    start = len(text) - len(text.lstrip())
    if head.match(text, start) is None:
        return []
    calls = parse_call_list(text, start, len(text), explicit=False)
    if not calls or text[calls[-1].end :].strip(" \t\r\n;") or not _known(ctx, calls):
        return []
    if any(c.cut_off for c in calls):
        return calls
    return calls if not described(text, calls[0].start, calls[-1].end, strong_only=True) else []


def _lines(ctx: Ctx, alternatives: str) -> list[Candidate]:
    """Lines that hold nothing but a real tool's call (or a `[f(k=v), g(k=v)]` list, Llama 3.2), maybe
    behind a `call:` label."""
    text = ctx.text
    head = re.compile(
        r"^[ \t]{0,3}(?P<label>(?i:(?:(?:tool|function)[ _]?)?call[ \t]*:[ \t]*|action[ \t]*:[ \t]*))?"
        rf"(?P<list>\[[ \t]*)?(?P<call>{_MODULES}(?:{alternatives})(?:\.call)?)[ \t]*\(",
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
        if m.group("list"):  # a line holding a [f(k=v), g(k=v)] list (Llama 3.2)
            calls = parse_call_list(text, m.end("list"), len(text), False)
            end = calls[-1].end if calls else pos
            while end < len(text) and text[end] in " \t\r\n":
                end += 1
            if calls and calls[-1].cut_off:
                found.extend(calls)
                break
            if calls and calls[-1].end >= len(text):
                break  # a call that never closes ran to the end: nothing after it is read again
            if not calls or not text.startswith("]", end):
                continue
            pos = end + 1
            calls[0].start, calls[-1].end = start, end + 1
        else:
            call = read_call(text, m.start("call"), m.end() - 1, len(text), False)
            if call is None:
                continue
            call.start = start
            calls = [call]
            pos = max(pos, call.end)
        rest = text[pos : pos + 200].split("\n", 1)[0].strip()
        if rest not in ("", ";", ",") or described(text, calls[0].start, calls[-1].end, strong_only=False):
            continue
        if shown_after(text, calls[0].start):
            continue
        found.extend(calls)
    return found


def _trailing_list(ctx: Ctx, alternatives: str) -> list[Candidate]:
    """`Let me look that up: [web_search(query="...")]` — a list of real tools' calls that ends the reply,
    after a lead-in that does not describe it ("such as", "for example", "would")."""
    text = ctx.text
    end = len(text.rstrip())
    if not text.endswith("]", 0, end):
        return []
    head = re.compile(rf"\[[ \t]*{_MODULES}(?:{alternatives})[ \t]*\(")
    for m in reversed(list(head.finditer(text))[-4:]):  # the list that ends the reply starts late
        if ctx.in_fence(m.start()) or not text[text.rfind("\n", 0, m.start()) + 1 : m.start()].strip():
            continue  # a list at a line start is read by _lines
        calls = parse_call_list(text, m.start() + 1, end, False)
        if not calls or text[calls[-1].end : end].strip() != "]" or not _known(ctx, calls):
            continue
        if described(text, m.start(), end, strong_only=False):
            return []
        calls[0].start, calls[-1].end = m.start(), end
        return calls
    return []


def _after_block_opener(text: str, pos: int) -> bool:
    """A call indented under `def ...:` or `if ...:` is code being shown, not a call being made."""
    before = text[max(0, pos - 200) : pos].rstrip()
    return before.endswith(":") and text[pos] in " \t"
