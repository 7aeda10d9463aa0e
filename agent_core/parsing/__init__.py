"""Forgiving tool-call parsing. `parse_tool_calls(text, tools)` is a public interface (DESIGN.md).

One module per format family under `formats/`; `repair` decodes broken JSON (json-repair);
`normalize` unwraps envelopes, resolves tool and argument names and coerces types; `messages` writes
what the model is told when a call it attempted cannot be used."""

from agent_core.parsing.core import ParseOutcome, ToolCall, parse_reply, parse_tool_calls

__all__ = ["ParseOutcome", "ToolCall", "parse_reply", "parse_tool_calls"]
