"""Tool specs: a name, a description, a pydantic argument model, and an async `run`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from agent_core.config import Settings
from agent_core.workspace import Workspace

if TYPE_CHECKING:
    from agent_core.extend.plugins import PluginHost
    from agent_core.planning.store import PlanStore
    from agent_core.tools.shell import ShellSession


def describe_call(name: str, args: dict[str, Any], width: int = 70) -> str:
    """A one-line label for a call, for people and for result headers: `write_file hello.py`."""
    target = str(args.get("path") or args.get("command") or args.get("pattern") or "").replace("\n", " ")
    return f"{name} {target[:width]}{'…' if len(target) > width else ''}".rstrip()


class ToolError(Exception):
    """A tool could not do what was asked; the message is written for the model (what to do instead)."""


class ToolArgs(BaseModel):
    """Base of every argument model: unknown arguments are ignored, not fatal (small models add extras)."""

    model_config = ConfigDict(extra="ignore")


class ToolOutput(BaseModel):
    text: str
    ok: bool = True
    created: list[str] = Field(default_factory=list)
    """Workspace-relative paths this call created."""
    edited: list[str] = Field(default_factory=list)
    """Workspace-relative paths this call changed."""


@dataclass
class ToolContext:
    """What tools may use. One per agent; lives as long as the agent (the shell persists in it)."""

    root: Path
    settings: Settings
    workspace: Workspace
    read_paths: set[Path] = field(default_factory=set)
    """Files the agent has read (or written) in this session: the write guard's memory."""
    guard_warned: set[Path] = field(default_factory=set)
    """Files whose first unread write was refused; a second attempt goes through."""
    protected: Callable[[str], bool] | None = None
    """Workspace-relative files the model may not edit in this run (tests that judge it); None: all editable."""
    shell: ShellSession | None = None
    plan: PlanStore | None = None
    """The session's TODO plan (plan/todo tools); created on first use when the agent attached none."""
    confirm: Callable[[str, str], Awaitable[bool]] | None = None
    """Asks the user `(command, reason) -> allowed?` for ask-list shell commands (and MCP tools of servers not
    marked trusted, and `/plugin install`); None refuses them."""
    hooks: PluginHost | None = None
    """Plugins' hooks around each tool call (agent_core/extend/plugins.py); None: no plugins."""

    async def aclose(self) -> None:
        if self.shell is not None:
            await self.shell.close()
            self.shell = None


class Tool(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    Args: ClassVar[type[ToolArgs]]

    @abstractmethod
    async def run(self, args: Any, ctx: ToolContext) -> ToolOutput: ...

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The OpenAI `tools` entry for this tool."""
        params = cls.Args.model_json_schema()
        params.pop("title", None)
        for prop in params.get("properties", {}).values():
            prop.pop("title", None)
        return {
            "type": "function",
            "function": {"name": cls.name, "description": cls.description, "parameters": params},
        }
