"""Reading the traces a test's runs wrote under `<root>/.smallcode/traces/`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_core.observe.trace import read_trace


def trace_entries(root: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """Entries (of this kind, or all) from every run's trace, in the order they were written (two runs may
    start in the same second, and their files' names then sort by a random suffix)."""
    found = [
        e
        for p in (root / ".smallcode" / "traces").glob("*.jsonl")
        for e in read_trace(p)
        if kind is None or e["type"] == kind
    ]
    return sorted(found, key=lambda e: float(e["t"]))
