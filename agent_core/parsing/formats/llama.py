"""Llama 3.x: `<|python_tag|>` followed by JSON (`{"name": ..., "parameters": ...}`, several separated by
`;`) or Python calls, up to <|eom_id|>/<|eot_id|>. (Bare `{"name", "parameters"}` objects are read by
formats.bare_json, `<function=name>{json}</function>` by formats.qwen_xml, `[f(k=v)]` by
formats.python_call.)"""

from __future__ import annotations

import re

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.types import Candidate

_TOKENS = re.compile(r"<\|(python_tag|eom_id|eot_id|end_of_text)\|>")


def extract(ctx: Ctx) -> list[Candidate]:
    text = ctx.text
    found: list[Candidate] = []
    open_at: re.Match[str] | None = None
    for tok in _TOKENS.finditer(text):
        if open_at is not None:
            found.extend(_block(text, open_at, tok.start(), tok.end()))
            open_at = None
        if tok.group(1) == "python_tag":
            open_at = tok
    if open_at is not None:
        found.extend(_block(text, open_at, len(text), len(text)))
    return found[:32]


def _block(text: str, head: re.Match[str], body_end: int, end: int) -> list[Candidate]:
    return region.claim(
        region.region_candidates(text, head.end(), body_end, explicit=True), head.start(), end
    )
