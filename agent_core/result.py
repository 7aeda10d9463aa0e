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


class Checks(BaseModel):
    """The last verification of a run: the test command and what it found."""

    command: str | None = None
    passed: int = 0
    failed: int = 0
    output_tail: str = ""
    status: str = "none"
    """passed, failed, no_tests, timeout, unavailable, error, syntax, or none (nothing to run)."""
    summary: str = ""
    """One line for people, e.g. "checks passed: 12 tests (`python -m pytest`)"."""
    restored_tests: list[str] = Field(default_factory=list)
    """Test files the run changed that were put back before checking (the task did not ask to change them)."""


class RunResult(BaseModel):
    response: str = ""
    success: bool = False
    """True only when the checks passed, or when there were none to run (then `verified` is false)."""
    verified: bool = False
    """Whether the project's tests ran and passed after the run's changes."""
    checks: Checks | None = None
    files_created: list[str] = Field(default_factory=list)
    files_edited: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    duration_ms: int = 0
    turns: int = 0
