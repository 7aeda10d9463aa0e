"""The tools a reply may call: names, titles and parameter schemas, and forgiving name resolution."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

_PREFIXES = ("functions.", "function.", "default_api.", "tools.", "tool.", "api.", "mcp.")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s\-./:]+")
# Llama 3.1's built-in tools go by these names whatever the tool offered for the job is called
# (`brave_search.call(query=...)` for the web search tool). Only these exact names: SmallCode's own
# `search` (file contents) is never a web search.
_BUILTIN_NAMES = {
    "brave_search": ("web_search", "search_web", "internet_search"),
    "code_interpreter": ("python", "ipython", "run_python", "execute_python", "python_interpreter"),
    "python": ("code_interpreter", "ipython"),
    "ipython": ("code_interpreter", "python"),
}


def snake(name: str) -> str:
    """`writeFile`, `Write File`, `write-file` → `write_file`."""
    return _SEPARATORS.sub("_", _CAMEL.sub("_", name.strip())).strip("_").lower()


@dataclass
class ToolInfo:
    name: str
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Parameter name → its JSON schema, in schema order."""
    required: list[str] = field(default_factory=list)
    title: str | None = None


class ToolSet:
    """Built from an OpenAI `tools` list; tolerant of malformed entries (they are skipped)."""

    def __init__(self, tools: list[dict[str, Any]] | None) -> None:
        self.tools: dict[str, ToolInfo] = {}
        for entry in tools or []:
            info = _tool_info(entry)
            if info is not None and info.name not in self.tools:
                self.tools[info.name] = info
        self._by_key: dict[str, str] = {}
        for info in self.tools.values():
            for key in (info.name, info.title):
                if key:
                    self._by_key.setdefault(snake(key), info.name)

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def names(self) -> list[str]:
        return list(self.tools)

    def spellings(self) -> list[str]:
        """Every tool name as written, and with `-` and `_` swapped (models mix the two up)."""
        out: list[str] = []
        for name in self.tools:
            for spelled in (name, name.replace("-", "_"), name.replace("_", "-")):
                if spelled not in out:
                    out.append(spelled)
        return out

    def owners(self, param: str) -> list[ToolInfo]:
        """The tools that take a parameter of this name."""
        return [t for t in self.tools.values() if param in t.params]

    def get(self, name: str) -> ToolInfo | None:
        return self.tools.get(name)

    def resolve(self, raw: Any, fuzzy: bool = True) -> str | None:
        """The real tool a written name means: exact, prefixed (`functions.x`), differently cased or
        separated, the tool's title, words swapped (`file_write`), `_tool` suffix, or (fuzzy) a close
        spelling. None when nothing fits well enough."""
        if not isinstance(raw, str):
            return None
        name = raw.strip().strip("`'\"").strip()
        if not name or len(name) > 100:
            return None
        if name in self.tools:
            return name
        lowered = name
        for prefix in _PREFIXES:
            if lowered.lower().startswith(prefix):
                lowered = lowered[len(prefix) :]
        lowered = lowered.removesuffix(".call")  # Llama 3.1 built-in tools: brave_search.call(...)
        key = snake(lowered.split(":")[0].removesuffix("()"))
        for candidate in (key, key.removesuffix("_tool"), key.removeprefix("tool_")):
            if candidate in self._by_key:
                return self._by_key[candidate]
        for other in _BUILTIN_NAMES.get(key, ()):
            if other in self._by_key:
                return self._by_key[other]
        words = sorted(key.split("_"))
        swapped = [n for k, n in self._by_key.items() if sorted(k.split("_")) == words]
        if len(set(swapped)) == 1:
            return swapped[0]
        if not fuzzy:
            return None
        scored = sorted(
            ((difflib.SequenceMatcher(None, key, k).ratio(), n) for k, n in self._by_key.items()),
            reverse=True,
        )
        if scored and scored[0][0] >= 0.8 and (len(scored) == 1 or scored[0][0] - scored[1][0] >= 0.05):
            return scored[0][1]
        return None


def _tool_info(entry: Any) -> ToolInfo | None:
    if not isinstance(entry, dict):
        return None
    inner = entry.get("function")
    fn: dict[str, Any] = inner if isinstance(inner, dict) else entry
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        return None
    params = fn.get("parameters") or fn.get("input_schema") or fn.get("inputSchema") or {}
    props = params.get("properties") if isinstance(params, dict) else None
    required = params.get("required") if isinstance(params, dict) else None
    title = fn.get("title") or entry.get("title")
    return ToolInfo(
        name=name,
        params={k: v if isinstance(v, dict) else {} for k, v in (props or {}).items() if isinstance(k, str)}
        if isinstance(props, dict)
        else {},
        required=[r for r in required if isinstance(r, str)] if isinstance(required, list) else [],
        title=title if isinstance(title, str) else None,
    )
