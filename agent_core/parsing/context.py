"""What every format extractor gets: the text segment, the tools, where the code fences are, and the
user's task when the caller knows it."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_core.parsing.scan import Fence, FenceIndex, find_fences
from agent_core.parsing.toolset import ToolSet


@dataclass
class Ctx:
    text: str
    tools: ToolSet
    fences: list[Fence] = field(default_factory=list)
    task: str | None = None
    index: FenceIndex = field(init=False)

    def __post_init__(self) -> None:
        self.fences = find_fences(self.text)
        self.index = FenceIndex(self.fences)

    def in_fence(self, pos: int) -> bool:
        return self.index.containing(pos) is not None

    def only(self, start: int, end: int) -> bool:
        """Whether [start, end) is the whole reply, give or take surrounding whitespace."""
        return not self.text[:start].strip() and not self.text[end:].strip()
