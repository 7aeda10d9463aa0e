"""`/memory` (and the editor's smallcode.memory): the notes, the scratchpad, the evidence and the code index
of a workspace in one view, and the actions on them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agent_core.memory import evidence, notes, scratchpad
from agent_core.memory.graph.store import GraphStore, index_path

USAGE = (
    "usage: /memory [add TEXT | search WORDS | pad TEXT | clear [notes|scratchpad|evidence]] "
    "(no argument shows everything)"
)
SHOWN_NOTES = 10
SHOWN_EVIDENCE = 5
CLEARABLE = ("notes", "scratchpad", "evidence")


def memory_command(root: Path, words: list[str], obj: dict[str, Any]) -> tuple[bool, dict[str, Any], str]:
    """(ok, data, text) for `/memory WORDS…`; an editor may pass {"action", "text"} instead of words."""
    action = words[0].lower() if words else "show"
    rest = " ".join(words[1:]) or str(obj.get("text") or obj.get("query") or "")
    if action in ("show", "list"):
        data, text = overview(root)
        return True, data, text
    if action == "add":
        try:
            note = notes.add_note(root, rest)
        except ValueError as exc:
            return False, {}, f"{exc}; {USAGE}"
        return True, {"note": note}, f"remembered #{note['id']}"
    if action == "search":
        found = notes.search_notes(root, rest)
        text = "\n".join(f"#{n['id']} {n['text']}" for n in found) or f"no notes match {rest!r}"
        return True, {"notes": found}, text
    if action == "pad":
        kept = scratchpad.write_pad(root, rest)
        return True, {"scratchpad": kept}, "scratchpad saved" if kept else "scratchpad cleared"
    if action == "clear":
        if any(w not in CLEARABLE for w in words[1:]):
            return False, {}, USAGE
        what = words[1:] or list(CLEARABLE)
        cleared: dict[str, Any] = {}
        if "notes" in what:
            cleared["notes"] = notes.clear_notes(root)
        if "scratchpad" in what:
            cleared["scratchpad"] = bool(scratchpad.read_pad(root))
            scratchpad.write_pad(root, "")
        if "evidence" in what:
            cleared["evidence"] = evidence.clear_entries(root)
        parts = []
        if "notes" in cleared:
            parts.append(f"{cleared['notes']} note(s)")
        if "scratchpad" in cleared:
            parts.append("the scratchpad")
        if "evidence" in cleared:
            parts.append(f"{cleared['evidence']} evidence entr{'y' if cleared['evidence'] == 1 else 'ies'}")
        return True, {"cleared": cleared}, "forgot " + ", ".join(parts)
    return False, {}, USAGE


def overview(root: Path) -> tuple[dict[str, Any], str]:
    all_notes = notes.load_notes(root)
    pad = scratchpad.read_pad(root)
    entries = evidence.load_entries(root)
    index = index_stats(root)
    lines = [f"Notes ({len(all_notes)}; memory_remember or /memory add):"]
    lines += [f"  #{n.get('id')} {n['text']}" for n in all_notes[-SHOWN_NOTES:]] or ["  none yet"]
    lines.append("Scratchpad (the model's working notes):")
    lines += [f"  {line}" for line in pad.splitlines()] or ["  empty"]
    lines.append(f"Evidence ({len(entries)} runs that changed files; newest first):")
    shown = evidence.render(list(reversed(entries[-SHOWN_EVIDENCE:])))
    lines += [f"  {line}" for line in shown.splitlines()[1:]] or ["  none yet"]
    if index is None:
        lines.append(
            "Code index: not built yet (it builds with the first task of a model above the small tier)"
        )
    else:
        lines.append(
            f"Code index: {index['files']} files, {index['lines']} lines, {index['symbols']} definitions, "
            f"{index['references']} references (.smallcode/index.db, updated {index['updated']})"
        )
    data = {"notes": all_notes, "scratchpad": pad, "evidence": entries, "index": index}
    return data, "\n".join(lines)


def index_stats(root: Path) -> dict[str, Any] | None:
    path = index_path(root)
    if not path.is_file():
        return None
    store = GraphStore(path)
    try:
        counts = store.counts()
    finally:
        store.close()
    wal = Path(f"{path}-wal")
    mtime = max(path.stat().st_mtime, wal.stat().st_mtime if wal.is_file() else 0.0)
    updated = time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime))
    return {**counts, "updated": updated}
