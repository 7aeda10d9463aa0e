"""Traces: one JSON line per event of a run, in .smallcode/traces/<id>.jsonl, secrets redacted, readable by the
user only (0600)."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent_core.safety.redact import redact_obj

log = logging.getLogger(__name__)

TraceListener = Callable[[str, dict[str, Any]], None]
"""Sees each entry as it is written (kind, data; not redacted), also when the trace file is off."""


def traces_dir(root: Path) -> Path:
    return root / ".smallcode" / "traces"


class TraceWriter:
    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.path = traces_dir(root) / f"{self.id}.jsonl"
        self.enabled = enabled
        self.listeners: list[TraceListener] = []
        """What else follows the run's entries (step outcomes for adaptive routing)."""

    def write(self, kind: str, **data: Any) -> None:
        for listener in list(self.listeners):
            try:
                listener(kind, data)
            except Exception:  # a listener's bug must not end the run
                log.exception("trace listener failed on %r", kind)
        if not self.enabled:
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        entry = redact_obj({"type": kind, "t": round(time.time(), 3), **data})
        # only the user may read a trace (it holds the code and commands of the run); never through a symlink
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")


def list_traces(root: Path) -> list[dict[str, Any]]:
    """Newest first: id, task, turns, success, size."""
    out = []
    for path in sorted(traces_dir(root).glob("*.jsonl"), reverse=True):
        summary: dict[str, Any] = {"id": path.stem, "task": None, "turns": 0, "success": None}
        for entry in read_trace(path):
            if entry.get("type") == "run_start":
                summary["task"] = entry.get("task")
            elif entry.get("type") == "turn":
                summary["turns"] += 1
            elif entry.get("type") == "run_end":
                summary["success"] = entry.get("result", {}).get("success")
        out.append(summary)
    return out


def read_trace(path: Path) -> list[dict[str, Any]]:
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line torn by a crash; the rest of the trace is still useful
    return entries


def first_messages(path: Path) -> list[dict[str, Any]] | None:
    """The messages of the trace's first model turn (its first prompt), or None when it has no turn."""
    turn = next((e for e in read_trace(path) if e.get("type") == "turn"), None)
    return list(turn["messages"]) if turn is not None and isinstance(turn.get("messages"), list) else None


def first_prompt(root: Path) -> list[dict[str, Any]] | None:
    """The first prompt of the project's oldest trace (a bench arm's first try), or None without one."""
    traces = sorted(traces_dir(root).glob("*.jsonl"))
    return first_messages(traces[0]) if traces else None


class TraceNotFound(Exception):
    """No single trace matches; the message says so and how to list them."""


def find_trace(root: Path, trace_id: str) -> Path:
    """The trace whose id is or starts with `trace_id`."""
    if not trace_id or "/" in trace_id or "\\" in trace_id or trace_id.startswith("."):
        raise TraceNotFound(f"{trace_id!r} is not a trace id; `smallcode trace list` shows them")
    matches = sorted(traces_dir(root).glob(f"{trace_id}*.jsonl"))
    if len(matches) != 1:
        what = "no trace" if not matches else f"{len(matches)} traces"
        raise TraceNotFound(f"{what} match {trace_id!r}; `smallcode trace list` shows them")
    return matches[0]
