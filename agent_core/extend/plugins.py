"""Plugins: Python objects found through the entry point group `smallcode.plugins` and the user's plugins
directory (~/.config/smallcode/plugins/*.py). A project's own folder is not a plugin source: a plugin is code
running inside SmallCode, and a cloned repository must not get that by being opened.

An entry point (or a module's `plugin` attribute, else the module itself) is a plugin, or a class or
zero-argument function making one. Every part is optional:

    name: str
    tools() -> list[Tool]                    tools offered to the model (not to models of 4B and under)
    commands() -> {name: handler}            slash commands; handler(agent, words) -> str | CommandResult
    before_request(messages, tools)          before each model request (the messages and tool schemas sent)
    after_request(reply)                     after it (a ChatResponse)
    before_tool(name, arguments)             before each tool call; returning a string refuses the call
                                             and that string is the result the model sees
    after_tool(name, arguments, output)      after it (a ToolOutput)
    on_error(error)                          a failed tool call, or a run ended by a model or settings error

Hooks may be plain or async functions. A hook that raises is logged and skipped: a plugin's bug never ends a run.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from agent_core.safety import trust

log = logging.getLogger("smallcode.plugins")

GROUP = "smallcode.plugins"
HOOKS = ("before_request", "after_request", "before_tool", "after_tool", "on_error")


def plugins_dir() -> Path:
    return trust.user_config_file().parent / "plugins"


@dataclass
class LoadedPlugin:
    name: str
    source: str
    obj: Any = None
    error: str | None = None
    tools: list[Any] = field(default_factory=list)
    commands: dict[str, Callable[..., Any]] = field(default_factory=dict)


def _instantiate(obj: Any) -> Any:
    if isinstance(obj, ModuleType):
        obj = getattr(obj, "plugin", obj)
    if inspect.isclass(obj) or (inspect.isfunction(obj) and not inspect.signature(obj).parameters):
        obj = obj()
    return obj


def _describe(name: str, source: str, load: Callable[[], Any]) -> LoadedPlugin:
    plugin = LoadedPlugin(name=name, source=source)
    try:
        plugin.obj = _instantiate(load())
        plugin.name = str(getattr(plugin.obj, "name", "") or name)
        plugin.tools = list(_call(plugin.obj, "tools") or [])
        plugin.commands = dict(_call(plugin.obj, "commands") or {})
    except Exception as exc:  # a broken plugin is listed with its error, never fatal
        plugin.obj, plugin.error = None, f"{type(exc).__name__}: {exc}"
        log.warning("plugin %s (%s) not loaded: %s", name, source, plugin.error)
    return plugin


def _call(obj: Any, attr: str) -> Any:
    fn = getattr(obj, attr, None)
    return fn() if callable(fn) else fn


def _load_file(path: Path) -> ModuleType:
    name = f"smallcode_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def discover() -> list[LoadedPlugin]:
    """Every plugin: entry points first, then the plugins directory's files (sorted)."""
    found = [
        _describe(ep.name, f"entry point {ep.value}", ep.load)
        for ep in importlib.metadata.entry_points(group=GROUP)
    ]
    folder = plugins_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.py")):
            found.append(_describe(path.stem, str(path), functools.partial(_load_file, path)))
    return found


class PluginHost:
    """The loaded plugins and their hooks, called in order."""

    def __init__(self, plugins: list[LoadedPlugin] | None = None) -> None:
        self.plugins = plugins if plugins is not None else []
        self.builtin: list[LoadedPlugin] = []
        """SmallCode's own hooks (trust decay): called first, like a plugin's, but not listed as plugins."""

    def attach(self, obj: Any) -> None:
        """Add a built-in hook object (any of the HOOKS methods)."""
        self.builtin.append(
            LoadedPlugin(name=str(getattr(obj, "name", type(obj).__name__)), source="built in", obj=obj)
        )

    @classmethod
    def load(cls) -> PluginHost:
        return cls(discover())

    def tools(self) -> list[Any]:
        return [t for p in self.plugins for t in p.tools]

    def commands(self) -> dict[str, Callable[..., Any]]:
        return {name: fn for p in self.plugins for name, fn in p.commands.items()}

    async def _each(self, hook: str, *args: Any) -> list[Any]:
        answers = []
        for plugin in [*self.builtin, *self.plugins]:
            fn = getattr(plugin.obj, hook, None) if plugin.obj is not None else None
            if not callable(fn):
                continue
            try:
                answer = fn(*args)
                if inspect.isawaitable(answer):
                    answer = await answer
                answers.append(answer)
            except Exception as exc:
                log.warning("plugin %s: %s failed: %s: %s", plugin.name, hook, type(exc).__name__, exc)
        return answers

    async def before_request(self, messages: list[Any], tools: list[dict[str, Any]]) -> None:
        await self._each("before_request", messages, tools)

    async def after_request(self, reply: Any) -> None:
        await self._each("after_request", reply)

    async def before_tool(self, name: str, arguments: dict[str, Any]) -> str | None:
        """A refusal (the first string a hook returned), or None to run the call."""
        refusals = [a for a in await self._each("before_tool", name, arguments) if isinstance(a, str) and a]
        return refusals[0] if refusals else None

    async def after_tool(self, name: str, arguments: dict[str, Any], output: Any) -> None:
        await self._each("after_tool", name, arguments, output)

    async def on_error(self, error: str) -> None:
        await self._each("on_error", error)

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "name": p.name,
                "source": p.source,
                "loaded": p.obj is not None,
                "error": p.error,
                "tools": [getattr(t, "name", str(t)) for t in p.tools],
                "commands": sorted(p.commands),
                "hooks": [h for h in HOOKS if callable(getattr(p.obj, h, None))],
            }
            for p in self.plugins
        ]
