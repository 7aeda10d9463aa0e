"""The scratchpad: short notes kept for the project in .smallcode/memory.json (shown by /memory)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from agent_core.safety.redact import redact, redact_obj
from agent_core.workspace import atomic_write


def _path(root: Path) -> Path:
    return root / ".smallcode" / "memory.json"


def load_notes(root: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(_path(root).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return [n for n in data.get("notes", []) if isinstance(n, dict) and "text" in n]


def add_note(root: Path, text: str) -> dict[str, Any]:
    notes = load_notes(root)
    note = {
        "id": max((int(n.get("id", 0)) for n in notes), default=0) + 1,
        "text": redact(text.strip()),
        "at": time.time(),
    }
    notes.append(note)
    # every note redacted again (an older file may predate a redaction rule); only the user may read it
    data = json.dumps(redact_obj({"notes": notes}), indent=1, ensure_ascii=False).encode("utf-8")
    atomic_write(_path(root), data, mode=0o600)
    return note


def clear_notes(root: Path) -> int:
    count = len(load_notes(root))
    atomic_write(_path(root), json.dumps({"notes": []}).encode("utf-8"), mode=0o600)
    return count
