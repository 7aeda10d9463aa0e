"""XML-style calls:
- Qwen3-Coder: `<function=write_file><parameter=path>a.py</parameter>...</function>` (usually inside
  <tool_call>), and `<function name="write_file">` / `<parameter name="path">` spellings;
- Llama 3.1: `<function=write_file>{"path": "a.py"}</function>`;
- `<invoke name="write_file">...</invoke>`;
- elements named after a real tool: `<write_file><path>a.py</path><content>...</content></write_file>`.
Open and close tags are paired in one pass (linear on unbalanced input)."""

from __future__ import annotations

import re
from typing import Any

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.scan import described
from agent_core.parsing.types import Candidate

_NAME = (
    r"""(?:=[ \t]*["']?([^\s"'<>]{1,100})["']?|[ \t]+name[ \t]*=[ \t]*["']?([^\s"'<>]{1,100})["']?)[ \t]*>"""
)
_FUNC = re.compile(rf"<(?:function|invoke){_NAME}|</(?:function|invoke)>", re.I)
_PARAM = re.compile(rf"<(?:parameter|param|arg|argument){_NAME}|</(?:parameter|param|arg|argument)>", re.I)


def extract(ctx: Ctx) -> list[Candidate]:
    found = _function_calls(ctx.text)
    found.extend(_tool_elements(ctx))
    # "for example: <function=...>" shows the format, it does not call
    return [c for c in found if not described(ctx.text, c.start, c.end, strong_only=True)]


def _function_calls(text: str) -> list[Candidate]:
    found: list[Candidate] = []
    open_at: re.Match[str] | None = None
    for tag in _FUNC.finditer(text):
        if len(found) >= 32:
            break
        closing = tag.group(0).startswith("</")
        if open_at is not None:
            found.append(_call(text, open_at, tag.start(), tag.end() if closing else tag.start()))
            open_at = None
        if not closing:
            open_at = tag
    if open_at is not None:
        found.append(_call(text, open_at, len(text), len(text)))
    return found


def _call(text: str, head: re.Match[str], body_end: int, end: int) -> Candidate:
    name = head.group(1) or head.group(2)
    body = text[head.end() : body_end]
    stripped = body.strip()
    if stripped.startswith(("{", "[")):
        inner = region.decode_json(text, head.end() + body.index(stripped[0]), body_end, True, "xml")
        args: Any = inner.obj if inner.has_obj else None
        return Candidate(head.start(), end, "xml", True, name=name, args=args, problem=inner.problem)
    return Candidate(head.start(), end, "xml", True, name=name, args=read_parameters(body, _PARAM))


def read_parameters(body: str, tags: re.Pattern[str]) -> dict[str, Any]:
    """`<parameter=k>v</parameter>` pairs (one newline trimmed at each end of v, as Qwen3-Coder writes)."""
    params: dict[str, Any] = {}
    open_at: re.Match[str] | None = None
    for tag in tags.finditer(body):
        if open_at is not None:
            params[_tag_name(open_at)] = _trim(body[open_at.end() : tag.start()])
            open_at = None
        if not tag.group(0).startswith("</"):
            open_at = tag
    if open_at is not None:
        params[_tag_name(open_at)] = _trim(body[open_at.end() :])
    return params


def _tag_name(m: re.Match[str]) -> str:
    groups = [g for g in m.groups() if g]
    return groups[0] if groups else ""


def _trim(value: str) -> str:
    if value.startswith("\n"):
        value = value[1:]
    if value.endswith("\n"):
        value = value[:-1]
    return value


def _tool_elements(ctx: Ctx) -> list[Candidate]:
    """<write_file><path>a.py</path><content>…</content></write_file> for real tool names only."""
    names = [n for n in ctx.tools.names() if re.fullmatch(r"[\w\-.]+", n)]
    if not names:
        return []
    alternatives = "|".join(map(re.escape, names))
    tags = re.compile(rf"<(/?)({alternatives})>")
    text = ctx.text
    found: list[Candidate] = []
    open_at: re.Match[str] | None = None
    for tag in tags.finditer(text):
        if len(found) >= 32:
            break
        if tag.group(1):
            if open_at is not None and open_at.group(2) == tag.group(2):
                found.append(_element(ctx, open_at, tag.start(), tag.end()))
                open_at = None
            continue
        if open_at is not None:
            found.append(_element(ctx, open_at, tag.start(), tag.start()))
        open_at = tag
    if open_at is not None:
        found.append(_element(ctx, open_at, len(text), len(text)))
    # An unclosed element with no parameters is a mention (`use <read_file> to ...`), not a call.
    return [
        c for c in found if c.args or c.problem or ctx.text.startswith("</", c.end - len(c.name or "") - 3)
    ]


def _element(ctx: Ctx, head: re.Match[str], body_end: int, end: int) -> Candidate:
    name = head.group(2)
    body = ctx.text[head.end() : body_end]
    if body.strip().startswith("{"):
        inner = region.decode_json(ctx.text, head.end() + body.index("{"), body_end, True, "xml")
        return Candidate(head.start(), end, "xml", True, name=name, args=inner.obj if inner.has_obj else None,
                         problem=inner.problem)  # fmt: skip
    info = ctx.tools.get(name)
    params = [p for p in (info.params if info else {}) if re.fullmatch(r"[\w\-.]+", p)]
    if not params:
        return Candidate(head.start(), end, "xml", True, name=name, args={})
    tags = re.compile(rf"<({'|'.join(map(re.escape, params))})>|</(?:{'|'.join(map(re.escape, params))})>")
    return Candidate(head.start(), end, "xml", True, name=name, args=read_parameters(body, tags))
