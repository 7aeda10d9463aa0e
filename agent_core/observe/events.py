"""A tiny event bus: `agent.on("tool_start", callback)`.

Events (public): tool_start {name, args}, tool_end {name, ms, ok}, token {text}, turn {n}, error {error}.
Internal ones (plan_*, edit, …) use the same bus; those with a `text` for people: status {text},
model_switch {from, to, from_tier, tier, failure_rate, text} (adaptive routing), cloud {provider, model, call,
max_calls, tokens, text} (a step escalated to a cloud model). A failing callback is logged, never breaks the run.
"""

from __future__ import annotations

import inspect
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Callback = Callable[[dict[str, Any]], Awaitable[None] | None]

EVENTS = ("tool_start", "tool_end", "token", "turn", "error")


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Callback]] = defaultdict(list)

    def on(self, event: str, callback: Callback) -> None:
        self._subscribers[event].append(callback)

    def off(self, event: str, callback: Callback) -> None:
        if callback in self._subscribers.get(event, []):
            self._subscribers[event].remove(callback)

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        for callback in list(self._subscribers.get(event, ())) + list(self._subscribers.get("*", ())):
            try:
                result = callback(
                    {"event": event, **payload} if callback in self._subscribers.get("*", ()) else payload
                )
                if inspect.isawaitable(result):
                    await result
            except Exception:  # a subscriber's bug must not end the agent's run
                log.exception("event subscriber for %r failed", event)
