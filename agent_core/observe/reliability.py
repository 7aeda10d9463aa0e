"""How reliable each model and tool has been lately in this workspace, kept across runs.

One JSON file, `.smallcode/reliability.json`: for each key (`model:NAME` steps, `ladder:NAME` the steps served for
a primary model by whichever tier, `edits:NAME` whether a model's edits kept the syntax, `tool:NAME` calls) the
last WINDOW outcomes and lifetime totals. Adaptive routing and trust decay read failure rates from it; /model and
/stats show them. A missing or broken file is an empty record (it is only a hint, never worth failing a run).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from agent_core.workspace import atomic_write

log = logging.getLogger(__name__)

WINDOW = 10
"""Outcomes a rate is computed over: recent enough that a model recovers, long enough not to flap."""
MIN_CALLS = 3
"""Fewer outcomes than this give no rate (one early failure says little)."""
MAX_KEYS = 200
"""Keys kept (the least recently used go): model names come from settings, but stay bounded."""


def reliability_file(root: Path) -> Path:
    return root / ".smallcode" / "reliability.json"


class Reliability:
    """Recent outcomes per key; every `record` is saved at once (several agents may share a workspace)."""

    def __init__(self, root: Path, *, persist: bool = True) -> None:
        self.path = reliability_file(root)
        self.persist = persist
        self._data: dict[str, dict[str, Any]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            self._data = {}
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8")) if self.persist else {}
            except (OSError, ValueError):
                raw = {}
            for key, entry in (raw.get("keys", {}) if isinstance(raw, dict) else {}).items():
                recent = entry.get("recent") if isinstance(entry, dict) else None
                if isinstance(key, str) and isinstance(recent, list):
                    self._data[key] = {
                        "recent": [bool(x) for x in recent][-WINDOW:],
                        "calls": _count(entry.get("calls")),
                        "failures": _count(entry.get("failures")),
                    }
        return self._data

    def record(self, outcomes: dict[str, bool]) -> None:
        """One outcome for each key (saved together)."""
        data = self._load()
        for key, ok in outcomes.items():
            entry = data.pop(key, None) or {"recent": [], "calls": 0, "failures": 0}
            entry["recent"] = [*entry["recent"], ok][-WINDOW:]
            entry["calls"] += 1
            entry["failures"] += 0 if ok else 1
            data[key] = entry  # re-inserted: the dict's order is least recently used first
        while len(data) > MAX_KEYS:
            data.pop(next(iter(data)))
        self._save()

    def recent(self, key: str) -> list[bool]:
        entry = self._load().get(key)
        return list(entry["recent"]) if entry else []

    def failure_rate(self, key: str) -> float | None:
        """Share of failures among the recent outcomes; None with fewer than MIN_CALLS of them."""
        recent = self.recent(key)
        if len(recent) < MIN_CALLS:
            return None
        return recent.count(False) / len(recent)

    def summary(self, prefix: str) -> dict[str, dict[str, Any]]:
        """{name: {recent, failed, rate, calls, failures}} for the keys `prefix:NAME` (rate None: too few)."""
        out = {}
        for key, entry in self._load().items():
            if key.startswith(prefix + ":"):
                recent = entry["recent"]
                out[key.split(":", 1)[1]] = {
                    "recent": len(recent),
                    "failed": recent.count(False),
                    "rate": self.failure_rate(key),
                    "calls": entry["calls"],
                    "failures": entry["failures"],
                }
        return out

    def _save(self) -> None:
        if not self.persist or self._data is None:
            return
        try:
            text = json.dumps({"version": 1, "window": WINDOW, "keys": self._data}, indent=1)
            atomic_write(self.path, text.encode("utf-8"))
        except OSError as exc:  # a read-only workspace still routes, for this session
            log.debug("could not save %s: %s", self.path, exc)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def rate_text(rate: float | None, failed: int, recent: int) -> str:
    """`0.40 (4 of the last 10 failed)`, or `— (2 calls so far)` below MIN_CALLS."""
    if rate is None:
        return f"— ({recent} call{'s' if recent != 1 else ''} so far)"
    return f"{rate:.2f} ({failed} of the last {recent} failed)"
