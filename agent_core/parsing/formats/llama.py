"""Llama 3.x: `<|python_tag|>` followed by JSON (`{"name": ..., "parameters": ...}`, several separated by
`;`) or Python calls — custom tools, or the built-ins `brave_search.call(query=...)` /
`wolfram_alpha.call(query=...)` — up to <|eom_id|>/<|eot_id|>. Plain Python code after the tag is Llama 3.1's
code_interpreter: it becomes a call of the offered code tool, if there is one. (Bare `{"name",
"parameters"}` objects are read by formats.bare_json, `<function=name>{json}</function>` by
formats.qwen_xml, `[f(k=v)]` by formats.python_call.)"""

from __future__ import annotations

import re

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.toolset import ToolSet
from agent_core.parsing.types import Candidate

_TOKENS = re.compile(r"<\|(python_tag|eom_id|eot_id|end_of_text)\|>")
_CODE_TOOLS = ("code_interpreter", "python", "ipython", "run_python", "execute_python", "python_interpreter")


def extract(ctx: Ctx) -> list[Candidate]:
    text = ctx.text
    found: list[Candidate] = []
    open_at: re.Match[str] | None = None
    for tok in _TOKENS.finditer(text):
        if open_at is not None:
            found.extend(_block(ctx, open_at, tok.start(), tok.end()))
            open_at = None
        if tok.group(1) == "python_tag":
            open_at = tok
    if open_at is not None:
        found.extend(_block(ctx, open_at, len(text), len(text)))
    return found[:32]


def _block(ctx: Ctx, head: re.Match[str], body_end: int, end: int) -> list[Candidate]:
    text = ctx.text
    cands = region.region_candidates(text, head.end(), body_end, True, ctx.tools)
    code = _code_tool(ctx.tools)
    body = text[head.end() : body_end].strip()
    if code is not None and body and body[0] not in "{[" and not _calls_a_tool(cands, ctx.tools):
        tool, param = code  # <|python_tag|>import math\nprint(math.pi): code for the interpreter
        cands = [Candidate(head.start(), end, "python", True, name=tool, args={param: body})]
    return region.claim(cands, head.start(), end)


def _calls_a_tool(cands: list[Candidate], tools: ToolSet) -> bool:
    return any(c.name and tools.resolve(c.name, fuzzy=False) for c in cands) or any(c.has_obj for c in cands)


def _code_tool(tools: ToolSet) -> tuple[str, str] | None:
    for name in _CODE_TOOLS:
        tool = tools.get(name)
        if tool is not None:
            required = tool.required or list(tool.params)[:1]
            if len(required) == 1:
                return name, required[0]
    return None
