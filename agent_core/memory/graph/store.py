"""The code graph's SQLite file, .smallcode/index.db: files (with mtime, size and hash for incremental
updates), their definitions, references and imports. Derived data: a damaged or outdated file is rebuilt."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agent_core.memory.graph.extract import FileFacts

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, language TEXT, mtime_ns INTEGER, size INTEGER,
    hash TEXT, lines INTEGER);
CREATE TABLE IF NOT EXISTS symbols(
    id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, name TEXT, qualname TEXT, kind TEXT, line INTEGER,
    end_line INTEGER, signature TEXT, doc TEXT);
CREATE INDEX IF NOT EXISTS symbols_name ON symbols(name);
CREATE INDEX IF NOT EXISTS symbols_file ON symbols(file_id);
CREATE TABLE IF NOT EXISTS refs(file_id INTEGER NOT NULL, name TEXT, kind TEXT, scope TEXT, line INTEGER,
    count INTEGER);
CREATE INDEX IF NOT EXISTS refs_name ON refs(name);
CREATE INDEX IF NOT EXISTS refs_file ON refs(file_id);
CREATE TABLE IF NOT EXISTS imports(file_id INTEGER NOT NULL, target TEXT, line INTEGER);
CREATE INDEX IF NOT EXISTS imports_file ON imports(file_id);
"""


@dataclass(frozen=True)
class FileState:
    mtime_ns: int
    size: int
    hash: str


@dataclass(frozen=True)
class Symbol:
    id: int
    path: str
    name: str
    qualname: str
    kind: str
    line: int
    end_line: int
    signature: str
    doc: str


@dataclass(frozen=True)
class Ref:
    path: str
    name: str
    kind: str
    scope: str
    line: int
    count: int


def index_path(root: Path) -> Path:
    return root / ".smallcode" / "index.db"


class GraphStore:
    """One connection to a workspace's index.db; each thread opens its own."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = self._open()
        except sqlite3.DatabaseError:  # not a database (damaged, or something else at that name): rebuild
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    Path(f"{path}{suffix}").unlink()
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")  # readers (the tools) never wait for the indexer
        db.execute("PRAGMA synchronous=NORMAL")
        version = None
        with contextlib.suppress(sqlite3.OperationalError):
            row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            version = row[0] if row else None
        if version != SCHEMA_VERSION:
            for table in ("meta", "files", "symbols", "refs", "imports"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
        db.executescript(_SCHEMA)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        return db

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('generation', "
            "COALESCE((SELECT value FROM meta WHERE key='generation'), 0) + 1)"
        )
        self.db.execute("COMMIT")

    # writing (inside transaction()) ------------------------------------------------------------------
    def file_states(self) -> dict[str, FileState]:
        rows = self.db.execute("SELECT path, mtime_ns, size, hash FROM files")
        return {path: FileState(mtime, size, digest) for path, mtime, size, digest in rows}

    def put_file(self, path: str, state: FileState, facts: FileFacts) -> None:
        self.remove_file(path)
        cur = self.db.execute(
            "INSERT INTO files(path, language, mtime_ns, size, hash, lines) VALUES (?, ?, ?, ?, ?, ?)",
            (path, facts.language, state.mtime_ns, state.size, state.hash, facts.lines),
        )
        file_id = cur.lastrowid
        self.db.executemany(
            "INSERT INTO symbols(file_id, name, qualname, kind, line, end_line, signature, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (file_id, d.name, d.qualname, d.kind, d.line, d.end_line, d.signature, d.doc)
                for d in facts.definitions
            ],
        )
        self.db.executemany(
            "INSERT INTO refs VALUES (?, ?, ?, ?, ?, ?)",
            [(file_id, r.name, r.kind, r.scope, r.line, r.count) for r in facts.references],
        )
        self.db.executemany(
            "INSERT INTO imports VALUES (?, ?, ?)", [(file_id, t, line) for t, line in facts.imports]
        )

    def touch_file(self, path: str, state: FileState) -> None:
        """Same contents, new mtime (a `touch`, a checkout that put back the same bytes)."""
        self.db.execute(
            "UPDATE files SET mtime_ns=?, size=? WHERE path=?", (state.mtime_ns, state.size, path)
        )

    def remove_file(self, path: str) -> None:
        row = self.db.execute("SELECT id FROM files WHERE path=?", (path,)).fetchone()
        if row is None:
            return
        for table in ("symbols", "refs", "imports"):
            self.db.execute(f"DELETE FROM {table} WHERE file_id=?", row)
        self.db.execute("DELETE FROM files WHERE id=?", row)

    # reading ----------------------------------------------------------------------------------------
    def generation(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def counts(self) -> dict[str, int]:
        one = self.db.execute
        return {
            "files": one("SELECT COUNT(*) FROM files").fetchone()[0],
            "lines": one("SELECT COALESCE(SUM(lines), 0) FROM files").fetchone()[0],
            "symbols": one("SELECT COUNT(*) FROM symbols").fetchone()[0],
            "references": one("SELECT COALESCE(SUM(count), 0) FROM refs").fetchone()[0],
        }

    def symbols(self, where: str = "", params: tuple[object, ...] = ()) -> list[Symbol]:
        sql = (
            "SELECT s.id, f.path, s.name, s.qualname, s.kind, s.line, s.end_line, s.signature, s.doc "
            "FROM symbols s JOIN files f ON f.id = s.file_id"
        )
        rows = self.db.execute(f"{sql} {where}", params)
        return [Symbol(*row) for row in rows]

    def refs(self, where: str = "", params: tuple[object, ...] = ()) -> list[Ref]:
        sql = "SELECT f.path, r.name, r.kind, r.scope, r.line, r.count FROM refs r JOIN files f ON f.id = r.file_id"
        return [Ref(*row) for row in self.db.execute(f"{sql} {where}", params)]

    def imports_of(self, path: str) -> list[str]:
        rows = self.db.execute(
            "SELECT i.target FROM imports i JOIN files f ON f.id = i.file_id WHERE f.path=?", (path,)
        )
        return [row[0] for row in rows]

    def paths(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT path FROM files ORDER BY path")]
