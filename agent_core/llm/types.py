"""Data the model client returns, independent of the wire format."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

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
    others: list[ChatResponse] = Field(default_factory=list)
    """The other choices when several were asked for (`n` > 1), in the server's order; their usage is in this
    one's (a server counts the prompt once for all of them)."""
    temperature: float | None = None
    """The temperature this choice was drawn at, when the server says (the embedded server does for `n` > 1,
    and honours a `temperatures` list, one per choice); None otherwise."""


class ModelClient(Protocol):
    """What the agent loop asks a model through: a ChatClient, or the steering in front of several
    (agent_core/llm/steering.py: routing tiers, cloud escalation, thinking budget)."""

    async def chat(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stream: bool = True,
        on_token: Callable[[str], Awaitable[None] | None] | None = None,
        on_reasoning: Callable[[str], Awaitable[None] | None] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> ChatResponse: ...

    async def takes_grammar(self) -> bool: ...
