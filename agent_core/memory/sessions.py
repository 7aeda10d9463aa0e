"""Sessions: the conversation of an agent, auto-saved under .smallcode/sessions/, listable and resumable."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from agent_core.safety.redact import redact_obj
from agent_core.workspace import atomic_write


def sessions_dir(root: Path) -> Path:
    return root / ".smallcode" / "sessions"


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def save_session(root: Path, session_id: str, messages: list[dict[str, Any]], meta: dict[str, Any]) -> Path:
    path = sessions_dir(root) / f"{session_id}.json"
    data = {"id": session_id, "saved_at": time.time(), "meta": meta, "messages": messages}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # only the user may read a session (the whole conversation), whatever mode an older file had
    atomic_write(path, json.dumps(redact_obj(data), ensure_ascii=False, indent=1).encode("utf-8"), mode=0o600)
    return path


def list_sessions(root: Path) -> list[dict[str, Any]]:
    """Newest first: id, saved_at, first task, number of messages."""
    out = []
    for path in sorted(sessions_dir(root).glob("*.json"), reverse=True):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        messages = data.get("messages", [])
        task = next((m.get("content") for m in messages if m.get("role") == "user"), None)
        out.append(
            {
                "id": data.get("id", path.stem),
                "saved_at": data.get("saved_at"),
                "task": (task or "")[:120],
                "messages": len(messages),
            }
        )
    return out


def load_session(root: Path, session_id: str) -> list[dict[str, Any]]:
    path = sessions_dir(root) / f"{session_id}.json"
    if not path.is_file():
        matches = sorted(sessions_dir(root).glob(f"{session_id}*.json"))
        if len(matches) != 1:
            raise KeyError(f"no session {session_id!r}; /sessions lists them")
        path = matches[0]
    messages: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8")).get("messages", [])
    return messages
