"""What the agent's memory adds to the first message of a task: a few lines of evidence from earlier runs on
the same files or similar work, and (for models above the small tier) the repository map, fitted to a share
of the window. Neither ever holds a run up: the map is left out when the index is not ready in time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from agent_core.memory import evidence
from agent_core.memory.graph import lookup
from agent_core.memory.graph.index import CodeIndex
from agent_core.memory.graph.store import GraphStore

log = logging.getLogger(__name__)

MAP_WAIT = 3.0
"""Seconds the first message waits for the code index (a first build of a large project takes longer:
that run goes without a map and the graph tools wait for the index instead)."""
MAP_SHARE = 8
"""The map takes at most 1/MAP_SHARE of the window…"""
MAP_MAX_TOKENS = 1024
"""…and at most this many tokens (Aider's default map size)."""


def map_budget(window: int) -> int:
    return min(MAP_MAX_TOKENS, window // MAP_SHARE)


async def opening_memory(
    root: Path,
    task: str,
    named: list[str],
    shown: Iterable[Path],
    window: int,
    count: Callable[[str], int],
    with_map: bool,
) -> str:
    """Evidence and map text for the task's first message ("" when there is nothing to add).
    `named`: files the task names; `shown`: files already shown whole (left out of the map)."""
    parts: list[str] = []
    resolved = root.resolve()
    shown_rel = {
        p.resolve().relative_to(resolved).as_posix() for p in shown if p.resolve().is_relative_to(resolved)
    }
    try:
        lines = evidence.render(await asyncio.to_thread(evidence.relevant, root, task, named))
    except OSError:
        lines = ""
    if lines:
        parts.append(lines)
    if with_map:
        budget = map_budget(window) - (count(lines) if lines else 0)
        text = await _repo_map(root, task, shown_rel, budget, count)
        if text:
            parts.append(text)
    return "\n\n".join(parts)


async def _repo_map(root: Path, task: str, shown: set[str], budget: int, count: Callable[[str], int]) -> str:
    index = CodeIndex.for_root(root)
    if not await asyncio.to_thread(index.catch_up, None, MAP_WAIT) or index.error is not None:
        return ""

    def build() -> str:
        store = GraphStore(index.path)
        try:
            return lookup.repo_map(store, task, budget, count, exclude=shown)
        finally:
            store.close()

    try:
        return await asyncio.to_thread(build)
    except Exception as exc:  # the map is a help: a run never fails for want of it
        log.warning("no repository map: %s", exc)
        return ""
