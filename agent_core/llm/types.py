"""Data the model client returns, independent of the wire format."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent_core.result import Usage

Message = dict[str, Any]
"""An OpenAI chat message ({"role", "content", ...}); kept as a dict because it goes straight on the wire."""


class ModelError(Exception):
    """The model server failed; `str(exc)` is one line a user can act on (no traceback)."""


class NativeToolCall(BaseModel):
    id: str = ""
    name: str
    arguments: str | dict[str, Any] = ""
    """As the server sent it: usually a JSON string, sometimes an object."""


class ChatResponse(BaseModel):
    content: str = ""
    reasoning: str = ""
    """`reasoning_content` (thinking) when the server separates it."""
    tool_calls: list[NativeToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str | None = None
    model: str | None = None
