"""The evidence store: for each run that touched files, the kind of task, the files, what was tried (edit and
shell calls, those that failed and why) and how its checks ended, in .smallcode/evidence.json (redacted,
readable by the user only). The start of a similar task (same files, or the same kind and similar words)
shows the matching entries in a few lines, failures first, so a model need not repeat a dead end."""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from agent_core.memory.textsearch import words
from agent_core.result import RunResult
from agent_core.safety.redact import redact_obj
from agent_core.workspace import atomic_write

log = logging.getLogger(__name__)

MAX_ENTRIES = 200
SHOWN = 3
_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fix", ("fix", "bug", "broken", "error", "fail", "crash", "wrong", "regress", "issue")),
    ("test", ("test", "coverage", "tdd")),
    ("refactor", ("refactor", "renam", "rename", "move", "extract", "clean", "split", "simplif")),
    ("docs", ("doc", "readme", "comment", "docstring")),
    ("feature", ("add", "implement", "creat", "create", "support", "new", "make", "write", "build")),
)
_FAILURE_LINES = (
    re.compile(r"Error|Exception|assert|panic|expected", re.IGNORECASE),
    re.compile(r"FAILED|FAIL:"),
)
"""What says why a check failed, best first (the assertion or error before the name of a failing test)."""
TRIED_TOOLS = ("write_file", "patch", "edit blocks", "bash")


def _path(root: Path) -> Path:
    return root / ".smallcode" / "evidence.json"


def task_kind(task: str) -> str:
    """fix, test, refactor, docs, feature or other: by the task's first telling word."""
    for word in re.findall(r"[a-z]+", task.lower()):
        for kind, stems in _KINDS:
            if any(word.startswith(s) for s in stems):
                return kind
    return "other"


def load_entries(root: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(_path(root).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return []
    entries = data.get("entries", []) if isinstance(data, dict) else []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("files"), list)]


def record_run(root: Path, task: str, result: RunResult) -> dict[str, Any] | None:
    """Keep what this run tried and how it ended; None when it touched no file (nothing to learn from)."""
    files = list(dict.fromkeys(result.files_created + result.files_edited))
    if not files:
        return None
    checks = result.checks
    if checks is not None and checks.status not in ("none", "no_tests", "unavailable"):
        outcome = "passed" if checks.status == "passed" else "failed"
        why = checks.summary or checks.status
        detail = _failure_line(checks.output_tail) if outcome == "failed" else ""
        if detail:
            why = f"{why}: {detail}"
    else:
        outcome, why = ("done" if result.success else "failed"), ""
    entry = {
        "at": time.time(),
        "kind": task_kind(task),
        "task": " ".join(task.split())[:160],
        "files": files[:10],
        "outcome": outcome,
        "why": why[:300],
        "tried": _tried(result),
        "turns": result.turns,
    }
    entries = [*load_entries(root), entry][-MAX_ENTRIES:]
    data = json.dumps(redact_obj({"entries": entries}), indent=1, ensure_ascii=False).encode("utf-8")
    try:
        atomic_write(_path(root), data, mode=0o600)
    except OSError as exc:  # a read-only workspace: the run's result stands, only the lesson is lost
        log.warning("evidence not kept: %s", exc)
        return None
    return entry


def _tried(result: RunResult) -> str:
    calls = [c for c in result.tool_calls if c.name in TRIED_TOOLS]
    counts = Counter(c.name for c in calls)
    parts = []
    for name, n in counts.items():
        failed = [c for c in calls if c.name == name and not c.ok]
        part = f"{name} ×{n}"
        if failed:
            reason = (failed[-1].error or "").split(".")[0][:80]
            part += f" ({len(failed)} failed{': ' + reason if reason else ''})"
        parts.append(part)
    return ", ".join(parts)


def _failure_line(tail: str) -> str:
    lines = [line.strip() for line in reversed(tail.splitlines()) if line.strip()]
    for pattern in _FAILURE_LINES:
        for line in lines:
            if pattern.search(line):
                return line[:160]
    return ""


def clear_entries(root: Path) -> int:
    count = len(load_entries(root))
    atomic_write(_path(root), json.dumps({"entries": []}).encode("utf-8"), mode=0o600)
    return count


def relevant(root: Path, task: str, files: list[str], limit: int = SHOWN) -> list[dict[str, Any]]:
    """Entries about the same files, or of the same kind with similar words; failures, then the newest first."""
    kind = task_kind(task)
    task_words = set(words(task))
    wanted = set(files)
    scored = []
    for entry in load_entries(root):
        overlap = len(wanted & set(entry["files"]))
        similar = _jaccard(task_words, set(words(str(entry.get("task", "")))))
        same_kind = entry.get("kind") == kind
        if not overlap and not (same_kind and similar >= 0.3):
            continue
        score = (
            3 * overlap
            + similar * 2
            + (1 if same_kind else 0)
            + (1 if entry.get("outcome") == "failed" else 0)
        )
        scored.append((score, float(entry.get("at", 0)), entry))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [entry for _, _, entry in scored[:limit]]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def render(entries: list[dict[str, Any]]) -> str:
    """A few lines for the start of a task ("" when there is nothing to say)."""
    if not entries:
        return ""
    lines = ["Earlier runs on similar work (avoid repeating what failed):"]
    for e in entries:
        day = time.strftime("%Y-%m-%d", time.localtime(float(e.get("at", 0))))
        line = f"- {day} {e.get('kind', '?')} {', '.join(e['files'][:3])}: {e.get('outcome', '?')}"
        if e.get("why"):
            line += f" — {e['why']}"
        if e.get("tried"):
            line += f"; tried {e['tried']}"
        lines.append(line[:400])
    return "\n".join(lines)
