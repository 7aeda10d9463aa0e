"""Minimal parser: native calls, bare / ```json-fenced JSON, Hermes <tool_call>. (The forgiving one replaces it.)"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from agent_core.llm.types import NativeToolCall


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass
class ParseOutcome:
    calls: list[ToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Messages for the model about calls it clearly tried to make but that could not be recovered."""


def _tool_names(tools: list[dict[str, Any]]) -> set[str]:
    return {t.get("function", t).get("name", "") for t in tools}


def _as_call(obj: Any, names: set[str]) -> ToolCall | None:
    if not isinstance(obj, dict):
        return None
    if "function" in obj and isinstance(obj["function"], dict):
        obj = obj["function"]
    name = obj.get("name")
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return None
    if name in names and isinstance(args, dict):
        return ToolCall(name=name, arguments=args)
    return None


_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.S)
_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)\n```", re.S)


def parse_tool_calls(text: str, tools: list[dict[str, Any]]) -> list[ToolCall]:
    names = _tool_names(tools)
    candidates = _HERMES.findall(text) or _FENCE.findall(text) or [text.strip()]
    calls: list[ToolCall] = []
    for chunk in candidates:
        try:
            obj = json.loads(chunk)
        except json.JSONDecodeError:
            continue
        for item in obj if isinstance(obj, list) else [obj]:
            call = _as_call(item, names)
            if call:
                calls.append(call)
    return calls


def parse_reply(content: str, native: list[NativeToolCall], tools: list[dict[str, Any]]) -> ParseOutcome:
    """Calls from one model reply: native tool_calls first, else parsed from the text."""
    names = _tool_names(tools)
    if native:
        outcome = ParseOutcome()
        for nc in native:
            call = _as_call({"name": nc.name, "arguments": nc.arguments or {}}, names)
            if call:
                call.id = nc.id or None
                outcome.calls.append(call)
            else:
                outcome.errors.append(
                    f"Could not use the call to {nc.name!r}: unknown tool or arguments that are not a JSON object. "
                    f"Call one of {', '.join(sorted(names))} with a JSON object of arguments."
                )
        return outcome
    return ParseOutcome(calls=parse_tool_calls(content, tools))
