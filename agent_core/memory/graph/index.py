"""Keeping .smallcode/index.db up to date: in a background thread, incrementally (a file is parsed again only
when its mtime or size changed and then its hash did), over the files .gitignore does not hide.

`CodeIndex.for_root(root)` is the one index of a workspace in this process: the agent asks it to refresh at
the start of a run and before each graph tool call, with the editor's unsaved buffers (the workspace seam's
`unsaved_texts`), and readers (the graph tools, the repository map) open the database themselves, so no
request ever waits for a parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from agent_core.memory.graph.extract import extract
from agent_core.memory.graph.languages import language_of
from agent_core.memory.graph.store import FileState, GraphStore, index_path
from agent_core.tools.files import IgnoreRules, walk_files
from agent_core.workspace import looks_binary

log = logging.getLogger(__name__)

MAX_INDEXED_BYTES = 1_000_000
"""Larger files (bundles, generated code) are left out: their definitions are noise and parsing them slow."""
BATCH = 100
"""Files written per transaction during a full build (readers see the index fill up as it goes)."""


@dataclass
class UpdateStats:
    parsed: int = 0
    unchanged: int = 0
    removed: int = 0
    seconds: float = 0.0
    failed: list[str] = field(default_factory=list)


class CodeIndex:
    _instances: ClassVar[dict[Path, CodeIndex]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def for_root(cls, root: Path) -> CodeIndex:
        root = root.resolve()
        with cls._instances_lock:
            if root not in cls._instances:
                cls._instances[root] = cls(root)
            return cls._instances[root]

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.path = index_path(self.root)
        self.error: str | None = None
        """Why the index cannot be written (a read-only workspace, a full disk), if it cannot."""
        self.last: UpdateStats | None = None
        self._cond = threading.Condition()
        self._full = False
        self._paths: set[str] = set()
        self._texts: dict[str, str] = {}
        self._buffered: set[str] = set()
        """Files last indexed from an editor buffer (sync_buffers)."""
        self._busy = False
        self._built = False
        self._thread: threading.Thread | None = None

    # scheduling: any thread, returns at once ---------------------------------------------------------
    def refresh(self) -> None:
        """Bring the whole index up to date in the background (a cheap stat walk when little changed)."""
        with self._cond:
            self._full = True
            self._wake()

    def notify(self, paths: Iterable[str | Path]) -> None:
        """These files changed on disk (saved, edited by the agent, deleted): update them in the background."""
        with self._cond:
            self._paths.update(p for p in (self._relative(p) for p in paths) if p)
            self._wake()

    def notify_text(self, path: str | Path, text: str) -> None:
        """An editor buffer's unsaved text: index it as the file's contents until the file changes on disk."""
        rel = self._relative(path)
        if rel:
            with self._cond:
                if len(text) > MAX_INDEXED_BYTES:  # too big to index from disk, so from a buffer too
                    self._paths.add(rel)
                else:
                    self._texts[rel] = text
                self._wake()

    def sync_buffers(self, texts: Mapping[Path, str]) -> None:
        """The editor's unsaved buffers as they are now: index their text, and go back to the disk for files
        whose buffers were indexed before and are unsaved no more (saved, or closed without saving)."""
        buffers = {rel: text for rel, text in ((self._relative(p), t) for p, t in texts.items()) if rel}
        with self._cond:
            gone = self._buffered - buffers.keys()
            self._buffered = set(buffers)
            self._texts.update(buffers)
            self._paths.update(gone)
            if buffers or gone:
                self._wake()

    def catch_up(self, unsaved: Mapping[Path, str] | None = None, timeout: float | None = None) -> bool:
        """Bring the whole index up to date, with the editor's unsaved buffers when given, and wait for it at
        most `timeout` seconds; whether it finished. Call it from a thread, not an event loop."""
        self.refresh()
        if unsaved is not None:
            self.sync_buffers(unsaved)
        return self.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no work is queued or running; False on timeout. Call it from a thread, not an event loop."""
        with self._cond:
            return self._cond.wait_for(self._idle, timeout)

    @property
    def built(self) -> bool:
        """Whether one full pass has finished in this process (before it the index may be partial or stale)."""
        return self._built

    def _idle(self) -> bool:
        return not (self._busy or self._full or self._paths or self._texts)

    def _wake(self) -> None:  # with self._cond held
        self._cond.notify_all()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="smallcode-index", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        store: GraphStore | None = None
        try:
            while True:
                with self._cond:
                    if self._idle():
                        self._thread = None
                        self._cond.notify_all()
                        return
                    full, paths, texts = self._full, self._paths, self._texts
                    self._full, self._paths, self._texts = False, set(), {}
                    self._busy = True
                try:
                    store = store or GraphStore(self.path)
                    if full:
                        self.last = self.update_all(store)
                    if paths or texts:
                        self.update_paths(paths, texts, store)
                    self.error = None
                except Exception as exc:  # the index is a help, never a reason for a run to fail
                    if self.error is None:
                        log.warning("code index of %s not updated: %s", self.root, exc)
                    self.error = str(exc) or type(exc).__name__
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        finally:
            if store is not None:
                store.close()

    # the work: synchronous (the worker thread, tests, the benchmark) ------------------------------------
    def update_all(self, store: GraphStore | None = None) -> UpdateStats:
        """Walk the workspace and bring every file's entry up to date."""
        started = time.perf_counter()
        stats = UpdateStats()
        with self._store(store) as db:
            known = db.file_states()
            seen: set[str] = set()
            todo: list[str] = []
            for rel in walk_files(self.root, rules=IgnoreRules(self.root)):
                if language_of(rel) is None:
                    continue
                seen.add(rel)
                state = known.get(rel)
                info = _stat(self.root / rel)
                if info is None:
                    continue
                if state is not None and (state.mtime_ns, state.size) == (info.st_mtime_ns, info.st_size):
                    stats.unchanged += 1
                else:
                    todo.append(rel)
            gone = sorted(set(known) - seen)
            with db.transaction():
                for rel in gone:
                    db.remove_file(rel)
            stats.removed = len(gone)
            for start in range(0, len(todo), BATCH):
                with db.transaction():
                    for rel in todo[start : start + BATCH]:
                        self._update_one(db, rel, known.get(rel), None, stats)
        self._built = True
        stats.seconds = time.perf_counter() - started
        return stats

    def update_paths(
        self, paths: Iterable[str], texts: dict[str, str] | None = None, store: GraphStore | None = None
    ) -> UpdateStats:
        """Update the given workspace-relative files (from disk, or from `texts` where given)."""
        started = time.perf_counter()
        stats = UpdateStats()
        texts = texts or {}
        rules = IgnoreRules(self.root)
        with self._store(store) as db:
            known = db.file_states()
            with db.transaction():
                for rel in sorted({*paths, *texts}):
                    if language_of(rel) is None:
                        continue
                    if rules.ignored(rel, False) or not (rel in texts or (self.root / rel).is_file()):
                        if rel in known:
                            db.remove_file(rel)
                            stats.removed += 1
                        continue
                    self._update_one(db, rel, known.get(rel), texts.get(rel), stats)
        stats.seconds = time.perf_counter() - started
        return stats

    def _update_one(
        self, db: GraphStore, rel: str, old: FileState | None, text: str | None, stats: UpdateStats
    ) -> None:
        language = language_of(rel)
        assert language is not None
        info = _stat(self.root / rel)
        if text is not None:
            data: bytes | None = text.encode("utf-8")
        else:
            data = _read(self.root, rel)
        if data is None or info is None and text is None:
            if old is not None:
                db.remove_file(rel)
                stats.removed += 1
            return
        state = FileState(
            info.st_mtime_ns if info else 0,
            info.st_size if info else -1,
            hashlib.blake2b(data, digest_size=16).hexdigest(),
        )
        if old is not None and old.hash == state.hash:
            db.touch_file(rel, state)
            stats.unchanged += 1
            return
        try:
            facts = extract(data, language)
        except Exception as exc:  # a grammar that chokes on one file leaves the others indexed
            stats.failed.append(f"{rel}: {exc}")
            return
        db.put_file(rel, state, facts)
        stats.parsed += 1

    @contextlib.contextmanager
    def _store(self, store: GraphStore | None):  # type: ignore[no-untyped-def]
        if store is not None:
            yield store
            return
        own = GraphStore(self.path)
        try:
            yield own
        finally:
            own.close()

    def _relative(self, path: str | Path) -> str:
        """A workspace-relative POSIX path, or "" for one outside the workspace."""
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        try:
            return Path(os.path.normpath(candidate)).relative_to(self.root).as_posix()
        except ValueError:
            return ""


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _read(root: Path, rel: str) -> bytes | None:
    """A regular file's bytes inside the workspace; None for a symlink that leads out, a FIFO, a device, a
    binary or an oversized file."""
    path = root / rel
    try:
        if path.is_symlink() and root not in Path(os.path.realpath(path)).parents:
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_INDEXED_BYTES:
                return None
            data = handle.read(MAX_INDEXED_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_INDEXED_BYTES or looks_binary(data):
        return None
    return data
