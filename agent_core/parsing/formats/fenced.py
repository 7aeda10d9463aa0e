"""Markdown fences: ```tool_call / ```tool / ```function (explicit), Gemma ```tool_code (Python calls),
```json and unlabelled fences (a call only when the JSON names a real tool), ```yaml (YAML-like calls).
Fences in a programming language (```python, ```js, …) are code in an answer, never calls."""

from __future__ import annotations

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.scan import described
from agent_core.parsing.types import Candidate

TOOL_LANGS = {
    "tool_call", "tool_calls", "tool", "tools", "tool_code", "function", "functions", "function_call",
    "functioncall", "toolcall", "call", "tool-call", "tool-code",
}  # fmt: skip
DATA_LANGS = {"", "json", "json5", "jsonc", "jsonl", "yaml", "yml", "text", "txt", "plaintext"}


def extract(ctx: Ctx) -> list[Candidate]:
    found: list[Candidate] = []
    for fence in ctx.fences:
        if len(found) >= 32:
            break
        if fence.lang in TOOL_LANGS:
            explicit = True
            if described(ctx.text, fence.start, fence.end, strong_only=True):
                continue
        elif fence.lang in DATA_LANGS:
            explicit = False
            if described(ctx.text, fence.start, fence.end, strong_only=False):
                continue  # "for example: ```json …```" shows a call, it does not make one
        else:
            continue
        cands = region.region_candidates(ctx.text, fence.body_start, fence.body_end, explicit)
        if fence.lang.startswith("json"):
            for c in cands:  # told what went wrong in the block style it wrote
                c.family = "json_fence" if c.family == "json" else c.family
        found.extend(region.claim(cands, fence.start, fence.end))
    return found
