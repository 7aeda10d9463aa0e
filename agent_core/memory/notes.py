"""Remembered notes (`memory_remember`, `/memory add`) and their search (`memory_load`).

The notes live in .smallcode/memory.json (redacted, readable by the user only): the durable copy, and all
there is where SQLite lacks FTS5. Where it has FTS5, a search index of them sits in .smallcode/index.db and
is rebuilt whenever the file changed, so the file stays the one truth (edit it, delete it: search follows).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from functools import cache
from pathlib import Path
from typing import Any

from agent_core.memory.graph.store import index_path
from agent_core.memory.textsearch import BM25, words
from agent_core.safety.redact import redact, redact_obj
from agent_core.workspace import atomic_write

MAX_NOTE_CHARS = 2000


def _path(root: Path) -> Path:
    return root / ".smallcode" / "memory.json"


def load_notes(root: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(_path(root).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return []
    notes = data.get("notes", []) if isinstance(data, dict) else []
    return [n for n in notes if isinstance(n, dict) and isinstance(n.get("text"), str)]


def add_note(root: Path, text: str) -> dict[str, Any]:
    """Remember `text` (secrets redacted); raises ValueError for an empty or oversized note."""
    text = text.strip()
    if not text:
        raise ValueError("the note is empty: give the fact to remember as text")
    if len(text) > MAX_NOTE_CHARS:
        raise ValueError(
            f"the note has {len(text)} characters; keep it under {MAX_NOTE_CHARS} (one fact per note)"
        )
    notes = load_notes(root)
    note = {
        "id": max((int(n.get("id", 0)) for n in notes), default=0) + 1,
        "text": redact(text),
        "at": time.time(),
    }
    notes.append(note)
    _save(root, notes)
    return note


def clear_notes(root: Path) -> int:
    count = len(load_notes(root))
    _save(root, [])
    return count


def _save(root: Path, notes: list[dict[str, Any]]) -> None:
    # every note redacted again (an older file may predate a redaction rule); only the user may read it
    data = json.dumps(redact_obj({"notes": notes}), indent=1, ensure_ascii=False).encode("utf-8")
    atomic_write(_path(root), data, mode=0o600)


def search_notes(root: Path, query: str, limit: int = 5) -> list[dict[str, Any]]:
    """The notes that best match `query`, best first; the newest ones for an empty query."""
    notes = load_notes(root)
    if not notes or not words(query):
        return list(reversed(notes))[:limit]
    if fts5_available():
        try:
            return _search_fts(root, notes, query, limit)
        except sqlite3.Error:
            pass  # an unwritable or damaged index: the file alone still answers
    return _search_plain(notes, query, limit)


@cache
def fts5_available() -> bool:
    try:
        with sqlite3.connect(":memory:") as db:
            db.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
        return True
    except sqlite3.Error:
        return False


def _search_plain(notes: list[dict[str, Any]], query: str, limit: int) -> list[dict[str, Any]]:
    scores = BM25([words(n["text"]) for n in notes]).scores(words(query))
    ranked = sorted(
        ((s, -i) for i, s in enumerate(scores) if s > 0), reverse=True
    )  # ties: the newer note first
    return [notes[-i] for _, i in ranked[:limit]]


def _search_fts(root: Path, notes: list[dict[str, Any]], query: str, limit: int) -> list[dict[str, Any]]:
    path = index_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.blake2b(json.dumps(notes, sort_keys=True).encode("utf-8"), digest_size=16).hexdigest()
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS notes_meta(key TEXT PRIMARY KEY, value TEXT)")
        db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(text, note UNINDEXED, "
            "tokenize='porter unicode61')"
        )
        row = db.execute("SELECT value FROM notes_meta WHERE key='digest'").fetchone()
        if row is None or row[0] != digest:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM notes_fts")
            db.executemany(
                "INSERT INTO notes_fts(text, note) VALUES (?, ?)",
                [(n["text"], i) for i, n in enumerate(notes)],
            )
            db.execute("INSERT OR REPLACE INTO notes_meta VALUES ('digest', ?)", (digest,))
            db.execute("COMMIT")
        terms = " OR ".join(f'"{t}"' for t in dict.fromkeys(re.findall(r"\w+", query.lower())))
        rows = db.execute(
            "SELECT note FROM notes_fts WHERE notes_fts MATCH ? ORDER BY bm25(notes_fts), note DESC LIMIT ?",
            (terms, limit),
        ).fetchall()
    finally:
        db.close()
    return [notes[i] for (i,) in rows if 0 <= i < len(notes)]
