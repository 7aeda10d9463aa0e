"""Markdown fences: ```tool_call / ```tool / ```function (explicit), Gemma ```tool_code (Python calls),
```json and unlabelled fences (a call only when the JSON names a real tool), ```yaml (YAML-like calls).

Fences in a programming language (```python, ```js, …) are code in an answer, not calls — with two
exceptions, both only when the fence is the whole reply (or follows a one-line "Let me run …:" lead-in):
- ```python holding nothing but calls of offered tools (`print(default_api.f(...))`, Gemma);
- ```bash / ```sh / ```console when a shell tool is offered: the model means to run the command. Not when
  the user's task (if known) asks how to do something rather than to do it."""

from __future__ import annotations

import re

from agent_core.parsing import region
from agent_core.parsing.context import Ctx
from agent_core.parsing.formats import python_call
from agent_core.parsing.scan import WEAK_CUES, Fence, described
from agent_core.parsing.toolset import ToolInfo
from agent_core.parsing.types import Candidate

TOOL_LANGS = {
    "tool_call", "tool_calls", "tool", "tools", "tool_code", "function", "functions", "function_call",
    "functioncall", "toolcall", "call", "tool-call", "tool-code",
}  # fmt: skip
DATA_LANGS = {"", "json", "json5", "jsonc", "jsonl", "yaml", "yml", "text", "txt", "plaintext"}
PYTHON_LANGS = {"python", "py", "python3"}
SHELL_LANGS = {"bash", "sh", "shell", "zsh", "console", "terminal", "shell-session", "shellsession"}
SHELL_TOOLS = (
    "bash", "shell", "run_shell_command", "execute_command", "run_command", "run_terminal_cmd", "terminal",
    "execute_bash", "run_bash", "exec", "shell_exec", "execute_shell",
)  # fmt: skip

# A one-line lead-in that announces the block as something the model does now.
_INTENT = re.compile(
    r"(?:I['’]ll|I will|I['’]m going to|I am going to|Let me|Let['’]s|Now,? I['’]ll|First,? I['’]ll|"
    r"Next,? I['’]ll|Running|Executing|I['’]ll now|Now let me|OK,? let me|Okay,? let me)\b[^\n]{0,160}$",
    re.I,
)
# A task that asks how something is done (an explanation), not for it to be done.
_HOW_TO = re.compile(
    r"^\s*(?:how (?:do|does|can|could|would|should|to|is|are)|what(?:['’]s| is| are)? the (?:command|way|syntax)|"
    r"which command|(?:can|could) you (?:explain|tell me how|show me how)|explain|describe|tell me how|"
    r"show me how)\b",
    re.I,
)


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
        elif fence.lang in PYTHON_LANGS:
            found.extend(_python_only_calls(ctx, fence))
            continue
        elif fence.lang in SHELL_LANGS:
            found.extend(_shell(ctx, fence))
            continue
        else:
            continue
        cands = region.region_candidates(ctx.text, fence.body_start, fence.body_end, explicit, ctx.tools)
        if fence.lang.startswith("json"):
            for c in cands:  # told what went wrong in the block style it wrote
                c.family = "json_fence" if c.family == "json" else c.family
        found.extend(region.claim(cands, fence.start, fence.end))
    return found


def alone(ctx: Ctx, fence: Fence) -> bool:
    """The fence is the whole reply, or follows only a short first-person lead-in that announces it
    ("Let me run the tests:"), with nothing after it."""
    if ctx.text[fence.end :].strip():
        return False
    lead = ctx.text[: fence.start].strip()
    if not lead:
        return True
    return "\n" not in lead and bool(_INTENT.search(lead)) and not WEAK_CUES.search(lead)


def _python_only_calls(ctx: Ctx, fence: Fence) -> list[Candidate]:
    if not alone(ctx, fence):
        return []
    text = ctx.text
    calls = python_call.parse_call_list(text, fence.body_start, fence.body_end, explicit=False)
    if not calls or text[calls[-1].end : fence.body_end].strip(" \t\r\n;"):
        return []  # something besides calls: code being shown
    if not all(c.name and ctx.tools.resolve(c.name, fuzzy=False) for c in calls):
        return []
    return region.claim(calls, fence.start, fence.end)


def shell_tool(ctx: Ctx) -> tuple[ToolInfo, str] | None:
    """The offered tool that runs a shell command, and its command parameter."""
    for name in SHELL_TOOLS:
        tool = ctx.tools.get(name)
        if tool is not None:
            param = _command_param(tool)
            if param:
                return tool, param
    fitting = [(t, p) for t in ctx.tools.tools.values() if (p := _command_param(t)) and len(t.required) <= 1]
    return fitting[0] if len(fitting) == 1 else None


def _command_param(tool: ToolInfo) -> str | None:
    for param in ("command", "cmd", "commands", "script"):
        if param in tool.params and (not tool.required or tool.required == [param]):
            return param
    return None


def _shell(ctx: Ctx, fence: Fence) -> list[Candidate]:
    found = shell_tool(ctx)
    if found is None or not alone(ctx, fence):
        return []
    if ctx.task is not None and _HOW_TO.search(ctx.task):
        return []  # the user asked how to do it: the block answers the question
    tool, param = found
    lines = ctx.text[fence.body_start : fence.body_end].strip("\n").split("\n")
    if fence.lang in ("console", "shell-session", "shellsession", "terminal") or any(
        ln.lstrip().startswith("$ ") for ln in lines
    ):
        # A session transcript: the commands are the `$ ` lines; the rest is their output.
        lines = [ln.lstrip()[2:] for ln in lines if ln.lstrip().startswith("$ ")]
    command = "\n".join(lines).strip()
    if not command or all(ln.lstrip().startswith("#") or not ln.strip() for ln in command.split("\n")):
        return []
    return [Candidate(fence.start, fence.end, "text", False, name=tool.name, args={param: command})]
