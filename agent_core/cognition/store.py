"""The declared prompts' results cache and call log: SQLite (stdlib sqlite3) in .smallcode/cognition.db.

`cache` keeps validated outputs until they expire; `calls` has one row per call (a cache hit, an answer, a
failure, a budget stop) with its attempts and tokens, for /cognition. The store is a help, never a
requirement: a locked or damaged database is logged and the call goes on without it. The file is readable
by the user only (results are derived from the project's code).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY, prompt TEXT NOT NULL, value TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY, t REAL NOT NULL, prompt TEXT NOT NULL, outcome TEXT NOT NULL,
    attempts INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    ms INTEGER NOT NULL, model TEXT, error TEXT, repaired INTEGER NOT NULL DEFAULT 0
);
"""
OUTCOMES = ("ok", "hit", "failed", "budget")
"""A call's outcome: a valid answer, a cache hit, no valid answer (or the server failed), a budget stop."""


@dataclass
class CallRecord:
    prompt: str
    outcome: str
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ms: int = 0
    model: str | None = None
    error: str | None = None
    repaired: bool = False
    """The answer needed json-repair (or a bare value wrapped) before it validated."""


class CognitionStore:
    def __init__(self, root: Path) -> None:
        self.path = Path(root) / ".smallcode" / "cognition.db"

    @contextlib.contextmanager
    def _db(self, create: bool = True) -> Iterator[sqlite3.Connection | None]:
        """A connection in one transaction, or None when the database cannot be used (logged)."""
        if not create and not self.path.is_file():
            yield None
            return
        db = None
        yielded = False
        try:
            if not self.path.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
            db = sqlite3.connect(self.path, timeout=5)
            db.executescript(SCHEMA)
            with db:
                yielded = True
                yield db
        except (sqlite3.Error, OSError) as exc:
            log.warning("the declared prompts' store %s cannot be used: %s", self.path, exc)
            if not yielded:
                yield None
        finally:
            if db is not None:
                db.close()

    def get(self, key: str) -> Any | None:
        """A cached value that has not expired, or None."""
        with self._db(create=False) as db:
            if db is None:
                return None
            row = db.execute("SELECT value, expires FROM cache WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            if row[1] < time.time():
                db.execute("DELETE FROM cache WHERE key = ?", (key,))
                return None
            try:
                return json.loads(row[0])
            except ValueError:
                return None
        return None

    def put(self, key: str, prompt: str, value: Any, ttl: float) -> None:
        now = time.time()
        with self._db() as db:
            if db is not None:
                db.execute(
                    "INSERT OR REPLACE INTO cache (key, prompt, value, created, expires) VALUES (?, ?, ?, ?, ?)",
                    (key, prompt, json.dumps(value, ensure_ascii=False), now, now + ttl),
                )

    def record(self, call: CallRecord) -> None:
        with self._db() as db:
            if db is not None:
                db.execute(
                    "INSERT INTO calls (t, prompt, outcome, attempts, prompt_tokens, completion_tokens, ms, "
                    "model, error, repaired) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        time.time(),
                        call.prompt,
                        call.outcome,
                        call.attempts,
                        call.prompt_tokens,
                        call.completion_tokens,
                        call.ms,
                        call.model,
                        call.error,
                        int(call.repaired),
                    ),
                )

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per prompt: calls, hits, ok, failures, budget stops, repaired answers, tokens, the last error, and
        its live cache entries."""
        out: dict[str, dict[str, Any]] = {}
        with self._db(create=False) as db:
            if db is None:
                return out
            rows = db.execute(
                "SELECT prompt, outcome, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(repaired) "
                "FROM calls GROUP BY prompt, outcome"
            ).fetchall()
            for prompt, outcome, count, prompt_tokens, completion_tokens, repaired in rows:
                entry = out.setdefault(prompt, _empty())
                entry["calls"] += count
                entry[_COLUMN.get(outcome, "ok")] += count
                entry["prompt_tokens"] += prompt_tokens or 0
                entry["completion_tokens"] += completion_tokens or 0
                entry["repaired"] += repaired or 0
            for prompt, error in db.execute(
                "SELECT prompt, error FROM calls WHERE error IS NOT NULL AND id IN "
                "(SELECT MAX(id) FROM calls WHERE error IS NOT NULL GROUP BY prompt)"
            ).fetchall():
                out.setdefault(prompt, _empty())["last_error"] = error
            for prompt, count in db.execute(
                "SELECT prompt, COUNT(*) FROM cache WHERE expires >= ? GROUP BY prompt", (time.time(),)
            ).fetchall():
                out.setdefault(prompt, _empty())["cached"] = count
        return out


_COLUMN = {"hit": "hits", "failed": "failures", "budget": "budget_stops"}


def _empty() -> dict[str, Any]:
    return {
        "calls": 0,
        "hits": 0,
        "ok": 0,
        "failures": 0,
        "budget_stops": 0,
        "repaired": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cached": 0,
        "last_error": None,
    }
