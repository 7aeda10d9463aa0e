"""SmallCode: a coding agent that makes small local language models effective.

from agent_core import SmallCode, RunResult
result = SmallCode(model="qwen2.5-coder-7b", base_url="http://localhost:1234/v1").run_sync("create hello.py")
"""

from agent_core.agent import SmallCode
from agent_core.config import ConfigError, Settings
from agent_core.observe.events import EVENTS
from agent_core.result import RunResult, ToolCallRecord, Usage

events = EVENTS

__all__ = ["EVENTS", "ConfigError", "RunResult", "Settings", "SmallCode", "ToolCallRecord", "Usage", "events"]
