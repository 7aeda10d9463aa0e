"""Talking to models: the OpenAI-compatible client, the embedded server, profiles."""

from agent_core.llm.types import ChatResponse, Message, ModelError, NativeToolCall

__all__ = ["ChatResponse", "Message", "ModelError", "NativeToolCall"]
