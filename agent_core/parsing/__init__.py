"""Tool-call parsing. `parse_tool_calls(text, tools)` is a public interface (DESIGN.md)."""

from agent_core.parsing.core import ParseOutcome, ToolCall, parse_reply, parse_tool_calls

__all__ = ["ParseOutcome", "ToolCall", "parse_reply", "parse_tool_calls"]
