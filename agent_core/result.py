"""RunResult: what one `SmallCode.run(task)` returns (public interface, see DESIGN.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.total_tokens += other.total_tokens


class ToolCallRecord(BaseModel):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    ok: bool
    ms: int
    error: str | None = None


class RunResult(BaseModel):
    response: str = ""
    success: bool = False
    files_created: list[str] = Field(default_factory=list)
    files_edited: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    duration_ms: int = 0
    turns: int = 0
