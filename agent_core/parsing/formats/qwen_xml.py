"""XML-style calls:
- Qwen3-Coder: `<function=write_file><parameter=path>a.py</parameter>...</function>` (usually inside
  <tool_call>), and `<function name="write_file">` / `<parameter name="path">` spellings;
- Llama 3.1: `<function=write_file>{"path": "a.py"}</function>`;
- `<invoke name="write_file">...</invoke>`;
- elements named after a real tool: `<write_file><path>a.py</path><content>...</content></write_file>`,
  `<read_file path="a.py"/>` (attributes), and `<bash>ls -la</bash>` (the body is the one required
  argument not given otherwise);
- an invented tag around what is plainly one tool's argument: `<terminal_command>ls</terminal_command>`
  means bash's `command` when bash is the only tool that takes a command.
Values written with HTML entities (`&gt;`, `&lt;`, `&amp;`, `&quot;`) are decoded when the value holds no
raw tag characters (if it does, the entities are the file's own text). Malformed parameter tags that fold
the value into the tag (`<parameter=path=a.py>`, `<parameter=city="Oslo"/>`, `<parameter=command ls>`,
`<parameter=command` with no `>` before the value on the next line, `</parameter=path>`) are read too.
An XML call whose parameters cannot be read is reported, never run without them. Open and close tags are
paired in one pass (linear on unbalanced input)."""

from __future__ import annotations

import html
import re
from typing import Any

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.normalize import ALIASES
from agent_core.parsing.scan import described
from agent_core.parsing.toolset import ToolInfo, ToolSet, snake
from agent_core.parsing.types import Candidate

_NAME = (
    r"""(?:=[ \t]*["']?([^\s"'<>]{1,100})["']?|[ \t]+name[ \t]*=[ \t]*["']?([^\s"'<>]{1,100})["']?)[ \t]*>"""
)
_FUNC = re.compile(rf"<(?:function|invoke){_NAME}|</(?:function|invoke)>", re.I)
# A parameter's opening tag: `<parameter=k>`, `<parameter name="k">`; or malformed, the value folded into
# it: `<parameter=k=v>`, `<parameter=k="v"/>`; or no `>` at all, the value on the next line.
_PARAM = re.compile(
    r"""<(?:parameter|param|arg|argument)(?:=[ \t]*["']?([^\s"'<>=/]{1,100})["']?|[ \t]+name[ \t]*=[ \t]*["']?([^\s"'<>=/]{1,100})["']?)"""
    r"""(?:[ \t]*>|(?:[ \t]*=|[ \t]+value[ \t]*=|[ \t]+)[ \t]*(?P<folded>"[^"\n]{0,2000}"|'[^'\n]{0,2000}'|[^>\n]{0,2000}?)[ \t]*(?P<selfclose>/?)>|[ \t]*(?P<nogt>\n))"""
    r"""|</(?:parameter|param|arg|argument)(?:[ \t]*=[^>\n]{0,100})?>""",
    re.I,
)
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|apos|#\d{1,6}|#x[0-9a-fA-F]{1,6});")
_TOOL_CALL_CLOSE = "</tool_call>"
_STRUCTURAL = {
    "tool_call", "tool_calls", "tool", "tools", "toolcall", "function_call", "function_calls", "functioncall",
    "tool_use", "function", "invoke", "parameter", "param", "arg", "argument", "think", "thinking",
    "reasoning", "answer", "response", "result", "output",
    # HTML: an element of a page or snippet, never an argument (<script> is no shell command)
    "html", "head", "body", "script", "style", "title", "div", "span", "p", "a", "b", "i", "u", "em",
    "strong", "code", "pre", "kbd", "samp", "var", "blockquote", "ul", "ol", "li", "table", "tr", "td", "th",
    "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "nav", "header", "footer", "main", "form",
    "button", "label", "select", "option", "textarea", "template", "noscript", "svg", "text", "small",
}  # fmt: skip


def extract(ctx: Ctx) -> list[Candidate]:
    found = _function_calls(ctx)
    found.extend(_tool_elements(ctx))
    found.extend(_argument_tags(ctx))
    # "for example: <function=...>" shows the format, it does not call
    return [c for c in found if not described(ctx.text, c.start, c.end, strong_only=True)]


def decode_entities(value: str) -> str:
    """`a &amp;&amp; b &gt; c` → `a && b > c`, unless the value also holds raw `<`/`>` (then the model
    wrote markup whose entities belong to it, as in an HTML file)."""
    if "&" not in value or not _ENTITY.search(value) or "<" in value or ">" in value:
        return value
    return html.unescape(value)


def _function_calls(ctx: Ctx) -> list[Candidate]:
    text = ctx.text
    found: list[Candidate] = []
    open_at: re.Match[str] | None = None
    for tag in _FUNC.finditer(text):
        if len(found) >= 32:
            break
        closing = tag.group(0).startswith("</")
        if open_at is not None:
            found.append(_call(ctx, open_at, tag.start(), tag.end() if closing else tag.start()))
            open_at = None
        if not closing:
            open_at = tag
    if open_at is not None:
        found.append(_call(ctx, open_at, len(text), len(text)))
    return found


def _call(ctx: Ctx, head: re.Match[str], body_end: int, end: int) -> Candidate:
    text = ctx.text
    name = head.group(1) or head.group(2)
    stop = text.find(_TOOL_CALL_CLOSE, head.end(), body_end)
    if stop >= 0:  # </function> left out, but the <tool_call> around it is closed
        body_end = end = stop
    body = text[head.end() : body_end]
    stripped = body.strip()
    if stripped.startswith(("{", "[")):
        inner = region.decode_json(text, head.end() + body.index(stripped[0]), body_end, True, "xml")
        args: Any = inner.obj if inner.has_obj else None
        return Candidate(head.start(), end, "xml", True, name=name, args=args, problem=inner.problem,
                         cut_off=inner.cut_off)  # fmt: skip
    params, open_value = read_parameters(body, _PARAM)
    cut_off = open_value and body_end == len(text)
    info = ctx.tools.get(ctx.tools.resolve(name) or "")
    if not params and stripped and info is not None:
        # <function=bash><command>ls</command></function>, or <function=bash>ls</function>
        params, open_value = _element_parameters(info, body)
        cut_off = open_value and body_end == len(text)
        if not params:
            params = _single_argument(info, body) or {}
    if not params and stripped:
        return Candidate(head.start(), end, "xml", True, name=name, cut_off=cut_off,
                         problem="its parameters could not be read")  # fmt: skip
    return Candidate(head.start(), end, "xml", True, name=name, args=params, cut_off=cut_off)


def read_parameters(body: str, tags: re.Pattern[str]) -> tuple[dict[str, Any], bool]:
    """`<parameter=k>v</parameter>` pairs (one newline trimmed at each end of v, as Qwen3-Coder writes),
    and whether the last value was left open (no closing tag, nothing after it: the reply stopped there)."""
    params: dict[str, Any] = {}
    open_at: re.Match[str] | None = None
    for tag in tags.finditer(body):
        if open_at is not None:
            params[_tag_name(open_at)] = _value(open_at, body[open_at.end() : tag.start()])
            open_at = None
        if tag.group(0).startswith("</"):
            continue
        if _group(tag, "selfclose"):
            params[_tag_name(tag)] = _value(tag, "")
            continue
        open_at = tag
    if open_at is not None:
        params[_tag_name(open_at)] = _value(open_at, body[open_at.end() :])
        return params, True
    return params, False


def _group(m: re.Match[str], name: str) -> str | None:
    return m.groupdict().get(name)


def _tag_name(m: re.Match[str]) -> str:
    for i in range(1, min(2, m.re.groups) + 1):
        if m.group(i):
            return m.group(i)
    return ""


def _value(tag: re.Match[str], raw: str) -> str:
    folded = _group(tag, "folded")
    if folded is not None and not raw.strip():
        folded = folded.strip()
        if len(folded) >= 2 and folded[0] == folded[-1] and folded[0] in "\"'":
            folded = folded[1:-1]
        return decode_entities(folded)
    return decode_entities(_trim(raw))


def _trim(value: str) -> str:
    if value.startswith("\n"):
        value = value[1:]
    if value.endswith("\n"):
        value = value[:-1]
    return value


def _tool_elements(ctx: Ctx) -> list[Candidate]:
    """<write_file><path>a.py</path><content>…</content></write_file> for real tool names only."""
    names = [n for n in ctx.tools.spellings() if re.fullmatch(r"[\w\-.]+", n)]
    if not names:
        return []
    alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    tags = re.compile(rf"<(/?)({alternatives})(?P<attrs>{_ATTRS})[ \t\r\n]*(?P<self>/?)>")
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
            open_at = None
        if tag.group("self"):  # <read_file path="a.py"/>: the whole call in one tag
            found.append(_element(ctx, tag, tag.end(), tag.end()))
            continue
        open_at = tag
    if open_at is not None:
        found.append(_element(ctx, open_at, len(text), len(text)))
    # An unclosed element with no parameters is a mention (`use <read_file> to ...`), not a call.
    return [
        c for c in found if c.args or c.problem or ctx.text.startswith("</", c.end - len(c.name or "") - 3)
    ]


_OPEN_TAG = re.compile(r"<([A-Za-z_][\w\-]{0,60})>")


def _only_child(body: str) -> str | None:
    """The text of `<x>text</x>` when that element is all the body holds."""
    body = body.strip()
    m = _OPEN_TAG.match(body)
    if m is None or not body.endswith(f"</{m.group(1)}>"):
        return None
    inner = body[m.end() : len(body) - len(m.group(1)) - 3]
    return None if "<" in inner else inner


_ATTRS = r"""(?:[ \t\r\n]+[A-Za-z_][\w\-]{0,60}[ \t]*=[ \t]*(?:"[^"\n]{0,4000}"|'[^'\n]{0,4000}'|[^\s"'<>/]{1,400}))*"""
_ATTR = re.compile(r"""([A-Za-z_][\w\-]{0,60})[ \t]*=[ \t]*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"'<>/]+))""")


def _attributes(source: str) -> dict[str, Any]:
    """`path="a.py" start_line=3` → {"path": "a.py", "start_line": "3"} (types are fitted later)."""
    return {
        m.group(1): decode_entities(next(g for g in m.groups()[1:] if g is not None))
        for m in _ATTR.finditer(source)
    }


def _element(ctx: Ctx, head: re.Match[str], body_end: int, end: int) -> Candidate:
    name = ctx.tools.resolve(head.group(2), fuzzy=False) or head.group(2)
    attrs = _attributes(head.group("attrs") or "")
    body = ctx.text[head.end() : body_end]
    if attrs and not body.strip():
        return Candidate(head.start(), end, "xml", True, name=name, args=attrs)
    if body.strip().startswith("{"):
        inner = region.decode_json(ctx.text, head.end() + body.index("{"), body_end, True, "xml")
        return Candidate(head.start(), end, "xml", True, name=name, args=inner.obj if inner.has_obj else None,
                         problem=inner.problem, cut_off=inner.cut_off)  # fmt: skip
    info = ctx.tools.get(name)
    if info is None or not info.params:
        return Candidate(head.start(), end, "xml", True, name=name, args={})
    args, open_value = _element_parameters(info, body)
    if not args:
        args, open_value = read_parameters(body, _PARAM)  # <bash><parameter=command>ls</parameter></bash>
    cut_off = open_value and body_end == len(ctx.text)
    if not args and body.strip():
        single = _single_argument(info, body, attrs)
        if single is not None:
            args = single
    return Candidate(head.start(), end, "xml", True, name=name, args={**attrs, **args}, cut_off=cut_off)


def _element_parameters(tool: ToolInfo, body: str) -> tuple[dict[str, Any], bool]:
    """`<path>a.py</path><content>...</content>`: child elements named after the tool's parameters."""
    params = [p for p in tool.params if re.fullmatch(r"[\w\-.]+", p)]
    if not params:
        return {}, False
    names = "|".join(map(re.escape, params))
    return read_parameters(body, re.compile(rf"<({names})>|</(?:{names})>"))


def _single_argument(tool: ToolInfo, body: str, given: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """`<bash>ls</bash>`, `<bash><terminal_command>ls</terminal_command></bash>`, `<write_file path="a">text
    </write_file>`: a body that can only be the one required argument not given otherwise."""
    required = tool.required or (list(tool.params)[:1] if len(tool.params) == 1 else [])
    required = [r for r in required if r not in (given or {})]
    if len(required) != 1:
        return None
    value = _only_child(body)
    if value is None:
        if "<" in body and ">" in body:
            return None  # other markup: not plainly one value
        value = body
    value = _trim(value)
    if "\n" not in value.strip():
        value = value.strip()  # one line: a command, a path
    return {required[0]: decode_entities(value)}


_TAG_WORDS = {"command": ("terminal", "console", "sh")}
"""Beyond the argument aliases: words a tag around a shell command is named with (`<terminal>`)."""
_ANY_TAG = re.compile(r"</?([A-Za-z_][\w\-]{0,60})>")
_WRAPPERS = {
    "tool_call",
    "tool_calls",
    "tool",
    "tools",
    "toolcall",
    "function_call",
    "function_calls",
    "tool_use",
}


def _argument_tags(ctx: Ctx) -> list[Candidate]:
    """`<terminal_command>npm test</terminal_command>`: an invented tag whose name says which argument it
    holds, for the one tool that takes that argument (and needs nothing else). On a line of its own, in a
    reply whose only other tags are tool-call wrappers (inside other markup it is that markup's element);
    never inside a code fence."""
    text = ctx.text
    found: list[Candidate] = []
    if "</" not in text:
        return found
    tags = list(_ANY_TAG.finditer(text))[:64]
    for i, m in enumerate(tags):
        if len(found) >= 8 or m.group(0).startswith("</") or i + 1 >= len(tags):
            continue
        close = tags[i + 1]
        if close.group(0) != f"</{m.group(1)}>" or "<" in text[m.end() : close.start()]:
            continue
        tag = m.group(1)
        if snake(tag) in _STRUCTURAL or ctx.tools.resolve(tag, fuzzy=False) or ctx.in_fence(m.start()):
            continue
        others = [t for j, t in enumerate(tags) if j not in (i, i + 1)]
        if any(snake(t.group(1)) not in _WRAPPERS for t in others):
            continue
        target = _tool_for_tag(ctx.tools, tag)
        if target is None:
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", close.end())
        line_end = len(text) if line_end < 0 else line_end
        on_own_line = not text[line_start : m.start()].strip() and not text[close.end() : line_end].strip()
        if not on_own_line or described(text, m.start(), close.end(), strong_only=False):
            continue
        tool, param = target
        value = decode_entities(text[m.end() : close.start()].strip())
        if value:
            found.append(Candidate(m.start(), close.end(), "xml", False, name=tool.name, args={param: value}))
    return found


def _tool_for_tag(tools: ToolSet, tag: str) -> tuple[ToolInfo, str] | None:
    """The one tool whose only required parameter the tag's name plainly means: the parameter's name, an
    alias of it, or a word of the tag (`terminal_command` → command); and no other tool takes it."""
    words = set(snake(tag).split("_"))
    fits: list[tuple[ToolInfo, str]] = []
    for tool in tools.tools.values():
        if len(tool.required) != 1:
            continue
        param = tool.required[0]
        names = {param, *ALIASES.get(param, ()), *_TAG_WORDS.get(param, ())}
        if (snake(tag) in names or words & names) and len(tools.owners(param)) == 1:
            fits.append((tool, param))
    return fits[0] if len(fits) == 1 else None
