"""Tools the model can call. Names and argument names are a public interface (DESIGN.md)."""

from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from agent_core.tools.registry import ToolRegistry

__all__ = ["Tool", "ToolArgs", "ToolContext", "ToolError", "ToolOutput", "ToolRegistry", "default_tools"]


def default_tools() -> list[Tool]:
    """The core tool set: read_file, write_file, patch, bash, search, find_files."""
    from agent_core.tools.files import FindFilesTool, PatchTool, ReadFileTool, WriteFileTool
    from agent_core.tools.search import SearchTool
    from agent_core.tools.shell import BashTool

    return [ReadFileTool(), WriteFileTool(), PatchTool(), BashTool(), SearchTool(), FindFilesTool()]
