"""Snapshots and rollback: every edit of a turn can be reverted byte for byte.

Before a turn's first write to a file, the file's bytes, mode and existence are recorded under
`.smallcode/snapshots/`:

    blobs/<sha256[:2]>/<sha256>        content-addressed file contents (shared by every turn: deduplicated)
    <run>-<turn>/manifest.json         {id, run, turn, kind, created, undone, entries: [{path, existed, mode, sha256}]}

The manifest is rewritten (atomically) after each new entry, before the edit happens, so even a process
killed mid-turn leaves a manifest that rolls back everything it had started to change. `rollback` writes
the old bytes back atomically with their modes and removes files the turn created; before it does, it
snapshots the current state as a manifest of kind "undo", so an undo never loses anything either.

`SnapshottingWorkspace` wraps any Workspace and snapshots before the first write to each path in the
current turn; the loop marks turns with `begin_turn(n)`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_core.workspace import EditResult, LineWindow, Workspace, WorkspaceError, atomic_write

MAX_AGE_DAYS = 14.0
"""Snapshots older than this are pruned."""
MAX_TOTAL_BYTES = 200 * 1024 * 1024
"""Oldest snapshots are pruned until the store is below this size."""


class SnapshotError(Exception):
    """A snapshot cannot be taken or restored; the message is for the user."""


def snapshots_dir(root: Path) -> Path:
    return Path(root) / ".smallcode" / "snapshots"


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


@dataclass
class Entry:
    path: str
    """Workspace-relative POSIX path."""
    existed: bool
    mode: int | None = None
    """Permission bits (st_mode & 0o7777) when the file existed."""
    sha256: str | None = None


@dataclass
class Manifest:
    id: str
    run: str
    turn: int
    kind: str = "turn"
    """"turn" for an agent turn, "undo" for the state saved just before a rollback."""
    created: float = field(default_factory=time.time)
    undone: bool = False
    reverts: str | None = None
    """For kind "undo": the snapshot that was rolled back."""
    entries: list[Entry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run": self.run,
            "turn": self.turn,
            "kind": self.kind,
            "created": self.created,
            "undone": self.undone,
            "reverts": self.reverts,
            "entries": [e.__dict__ for e in self.entries],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        entries = [Entry(**e) for e in data.get("entries", [])]
        return cls(
            id=str(data["id"]),
            run=str(data.get("run", "")),
            turn=int(data.get("turn", 0)),
            kind=str(data.get("kind", "turn")),
            created=float(data.get("created", 0.0)),
            undone=bool(data.get("undone", False)),
            reverts=data.get("reverts"),
            entries=entries,
        )


class SnapshotStore:
    """The snapshot store of one workspace."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.dir = snapshots_dir(self.root)

    # blobs ------------------------------------------------------------------------------------------
    def _blob(self, digest: str) -> Path:
        return self.dir / "blobs" / digest[:2] / digest

    def put_blob(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        blob = self._blob(digest)
        if not blob.exists():  # content-addressed: the same bytes are stored once
            atomic_write(blob, data)
            with contextlib.suppress(OSError):
                os.chmod(blob, 0o600)  # snapshots may hold secrets: keep them private
        return digest

    def get_blob(self, digest: str) -> bytes:
        data = self._blob(digest).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise SnapshotError(f"snapshot blob {digest[:12]} is damaged")
        return data

    # manifests --------------------------------------------------------------------------------------
    def _manifest_path(self, snapshot_id: str) -> Path:
        return self.dir / snapshot_id / "manifest.json"

    def save(self, manifest: Manifest) -> None:
        data = json.dumps(manifest.to_json(), indent=1).encode("utf-8")
        atomic_write(self._manifest_path(manifest.id), data)

    def load(self, snapshot_id: str) -> Manifest:
        path = self._manifest_path(snapshot_id)
        if "/" in snapshot_id or snapshot_id in ("", ".", "..", "blobs"):
            raise SnapshotError(f"no snapshot {snapshot_id!r}")
        try:
            return Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise SnapshotError(f"no snapshot {snapshot_id!r}") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SnapshotError(f"snapshot {snapshot_id!r} cannot be read: {exc}") from None

    def manifests(self) -> list[Manifest]:
        """Every readable manifest, oldest first."""
        out: list[Manifest] = []
        if not self.dir.is_dir():
            return out
        for child in self.dir.iterdir():
            if child.name == "blobs" or not (child / "manifest.json").is_file():
                continue
            with contextlib.suppress(SnapshotError):
                out.append(self.load(child.name))
        return sorted(out, key=lambda m: (m.created, m.id))

    # taking and restoring ---------------------------------------------------------------------------
    def entry_for(self, path: Path) -> Entry:
        """The current state of `path` (absolute, inside the root), its bytes stored as a blob."""
        rel = path.relative_to(self.root).as_posix()
        try:
            st = path.lstat()
        except FileNotFoundError:
            return Entry(rel, existed=False)
        if not stat.S_ISREG(st.st_mode):
            raise SnapshotError(f"{rel} is not a regular file, so it cannot be snapshotted")
        digest = self.put_blob(path.read_bytes())
        return Entry(rel, existed=True, mode=stat.S_IMODE(st.st_mode), sha256=digest)

    def restore(self, manifest: Manifest, skip: Collection[str] = ()) -> dict[str, list[str]]:
        """Put every file of `manifest` back as it was (but those in `skip`); returns {restored, removed, failed}."""
        restored: list[str] = []
        removed: list[str] = []
        failed: list[str] = []
        for entry in manifest.entries:
            if entry.path in skip:
                continue
            path = self.root / entry.path
            try:
                if entry.existed:
                    assert entry.sha256 is not None
                    data = self.get_blob(entry.sha256)
                    if path.is_dir() and not path.is_symlink():
                        raise SnapshotError("it is a directory now; left as it is")
                    if path.is_symlink():
                        path.unlink()
                    atomic_write(path, data)
                    if entry.mode is not None:
                        os.chmod(path, entry.mode)
                    restored.append(entry.path)
                elif path.is_file() or path.is_symlink():
                    path.unlink()
                    removed.append(entry.path)
            except (OSError, SnapshotError, AssertionError) as exc:
                failed.append(f"{entry.path}: {exc}")
        return {"restored": restored, "removed": removed, "failed": failed}

    def rollback(self, snapshot_id: str, skip: Collection[str] = ()) -> dict[str, Any]:
        """Revert the files of one snapshot; the state just before is saved as an "undo" snapshot first.

        Files in `skip` are recorded in that backup but left alone (an editor restores them itself).
        """
        manifest = self.load(snapshot_id)
        backup = Manifest(
            id=f"{manifest.id}-undo-{uuid.uuid4().hex[:4]}",
            run=manifest.run,
            turn=manifest.turn,
            kind="undo",
            reverts=manifest.id,
        )
        for entry in manifest.entries:
            with contextlib.suppress(SnapshotError, OSError):
                backup.entries.append(self.entry_for(self.root / entry.path))
        self.save(backup)
        outcome = self.restore(manifest, skip)
        manifest.undone = True
        self.save(manifest)
        return {"snapshot": manifest.id, "turn": manifest.turn, "backup": backup.id, **outcome}

    def last_undoable(self) -> Manifest | None:
        for manifest in reversed(self.manifests()):
            if manifest.kind == "turn" and not manifest.undone and manifest.entries:
                return manifest
        return None

    # pruning ----------------------------------------------------------------------------------------
    def prune(
        self,
        max_age_days: float = MAX_AGE_DAYS,
        max_bytes: int = MAX_TOTAL_BYTES,
        keep: set[str] | None = None,
    ) -> list[str]:
        """Drop snapshots older than `max_age_days`, then the oldest until blobs fit in `max_bytes`.

        Snapshots named in `keep` (the current turn's) survive. Returns the ids removed.
        """
        keep = keep or set()
        manifests = self.manifests()
        cutoff = time.time() - max_age_days * 86400
        removed: list[str] = []
        alive = []
        for manifest in manifests:
            if manifest.created < cutoff and manifest.id not in keep:
                removed.append(manifest.id)
            else:
                alive.append(manifest)
        sizes = self._blob_sizes()

        def total(ms: list[Manifest]) -> int:
            used = {e.sha256 for m in ms for e in m.entries if e.sha256}
            return sum(sizes.get(d, 0) for d in used)

        while alive and total(alive) > max_bytes:
            victim = next((m for m in alive if m.id not in keep), None)
            if victim is None:
                break
            alive.remove(victim)
            removed.append(victim.id)
        for snapshot_id in removed:
            shutil.rmtree(self.dir / snapshot_id, ignore_errors=True)
        used = {e.sha256 for m in alive for e in m.entries if e.sha256}
        for digest in sizes:
            if digest not in used:
                with contextlib.suppress(OSError):
                    self._blob(digest).unlink()
        return removed

    def _blob_sizes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        blobs = self.dir / "blobs"
        if blobs.is_dir():
            for blob in blobs.glob("*/*"):
                with contextlib.suppress(OSError):
                    out[blob.name] = blob.stat().st_size
        return out


# --- the edit seam -------------------------------------------------------------------------------------


class SnapshottingWorkspace(Workspace):
    """Any Workspace, with each turn's files snapshotted before the turn first writes them.

    The loop calls `begin_turn(n)` at the start of every turn (turn numbers restart with each run: a turn
    number not above the last one starts a new run id). Writes before any `begin_turn` count as turn 1.
    """

    def __init__(self, inner: Workspace, *, enabled: bool = True, store: SnapshotStore | None = None) -> None:
        super().__init__(inner.root)
        self.inner = inner
        self.enabled = enabled
        self.store = store or SnapshotStore(self.root)
        self.run_id = new_run_id()
        self.turn = 0
        self.current: Manifest | None = None
        self._recorded: set[str] = set()
        self._pruned = False

    def __getattr__(self, name: str) -> Any:
        # Anything else an editor workspace offers (e.g. diff previews) passes through.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def begin_turn(self, turn: int, run_id: str | None = None) -> None:
        """Start snapshotting a new turn; nothing is written until the turn's first edit."""
        if run_id is not None:
            self.run_id = run_id
        elif turn <= self.turn:
            self.run_id = new_run_id()
        self.turn = turn
        self.current = None
        self._recorded = set()

    @property
    def snapshot_id(self) -> str | None:
        """The current turn's snapshot id, once it made an edit."""
        return self.current.id if self.current is not None else None

    def record(self, path: Path) -> None:
        """Snapshot `path` (absolute, confined) unless this turn already did; raise WorkspaceError if impossible."""
        if not self.enabled:
            return
        rel = path.relative_to(self.root).as_posix()
        if rel in self._recorded:
            return
        if self.turn == 0:
            self.begin_turn(1)
        try:
            if not self._pruned:
                self._pruned = True
                self.store.prune()
            if self.current is None:
                self.current = Manifest(id=f"{self.run_id}-{self.turn}", run=self.run_id, turn=self.turn)
            entry = self.store.entry_for(path)
            self.current.entries.append(entry)
            self.store.save(self.current)
        except (OSError, SnapshotError) as exc:
            if self.current is not None and self.current.entries and self.current.entries[-1].path == rel:
                self.current.entries.pop()
            raise WorkspaceError(
                f"could not snapshot {rel} before editing it ({exc}); the edit was not made"
            ) from None
        self._recorded.add(rel)

    async def read_text(self, path: Path) -> str:
        return await self.inner.read_text(path)

    async def read_lines(self, path: Path, first: int, last: int) -> LineWindow:
        return await self.inner.read_lines(path, first, last)

    async def exists(self, path: Path) -> bool:
        return await self.inner.exists(path)

    async def write_text(self, path: Path, text: str, *, label: str = "") -> EditResult:
        self.record(path)
        return await self.inner.write_text(path, text, label=label)

    async def delete(self, path: Path) -> EditResult:
        """Delete a file, snapshotted first (the inner workspace's `delete` if it has one)."""
        self.record(path)
        inner_delete = getattr(self.inner, "delete", None)
        if inner_delete is not None:
            result: EditResult = await inner_delete(path)
            return result
        try:
            path.unlink()
        except FileNotFoundError:
            return EditResult(False, f"{path.relative_to(self.root).as_posix()} does not exist")
        return EditResult(True)

    def rollback_run(self) -> list[dict[str, Any]]:
        """Revert every edit the current run made through this workspace, newest turn first (a fresh attempt
        at the task starts from the files as they were). Changes made by shell commands are not covered."""
        outcomes = []
        mine = [
            m for m in self.store.manifests() if m.run == self.run_id and m.kind == "turn" and not m.undone
        ]
        for manifest in sorted(mine, key=lambda m: m.turn, reverse=True):
            if manifest.entries:
                outcomes.append(self.store.rollback(manifest.id))
        self.current = None
        self._recorded = set()
        return outcomes

    def rollback_turn(self) -> dict[str, Any] | None:
        """Revert every edit of the current turn (for auto-rollback on a validation hard-fail)."""
        if self.current is None:
            return None
        outcome = self.store.rollback(self.current.id)
        self.current = None
        self._recorded = set()
        return outcome


# --- module-level helpers for commands -----------------------------------------------------------------


def rollback(root: Path, snapshot_id: str) -> dict[str, Any]:
    """Revert the files of snapshot `snapshot_id` ("<run>-<turn>") in workspace `root`."""
    return SnapshotStore(root).rollback(snapshot_id)


@dataclass
class RestoreItem:
    path: str
    """Workspace-relative POSIX path."""
    data: bytes | None
    """The bytes undo puts back; None when the turn created the file (undo removes it)."""
    mode: int | None = None


@dataclass
class UndoPlan:
    snapshot: str
    turn: int
    items: list[RestoreItem]
    """Every file of the turn whose old state could be read."""


def plan_undo(root: Path) -> UndoPlan | None:
    """What `undo_last` would restore, changing nothing (None: nothing to undo).

    For an editor that restores its open documents itself before `apply_undo` does the rest.
    """
    store = SnapshotStore(root)
    manifest = store.last_undoable()
    if manifest is None:
        return None
    items: list[RestoreItem] = []
    for entry in manifest.entries:
        if not entry.existed:
            items.append(RestoreItem(entry.path, None))
            continue
        with contextlib.suppress(OSError, SnapshotError):  # apply_undo reports it as failed
            items.append(RestoreItem(entry.path, store.get_blob(entry.sha256 or ""), entry.mode))
    return UndoPlan(manifest.id, manifest.turn, items)


def apply_undo(root: Path, plan: UndoPlan, done_elsewhere: Collection[str] = ()) -> dict[str, Any]:
    """Undo `plan`'s turn on disk (backup first, then mark it undone), except the files in `done_elsewhere`,
    which the caller already restored (an editor's buffers); they are reported as restored or removed.

    Returns {ok, text, snapshot, turn, restored, removed, failed, backup}; `text` is one line for people.
    """
    skip = set(done_elsewhere)
    outcome = SnapshotStore(root).rollback(plan.snapshot, skip)
    for item in plan.items:
        if item.path in skip:
            outcome["restored" if item.data is not None else "removed"].append(item.path)
    parts = []
    if outcome["restored"]:
        parts.append(f"restored {', '.join(outcome['restored'])}")
    if outcome["removed"]:
        parts.append(f"removed {', '.join(outcome['removed'])}")
    if outcome["failed"]:
        parts.append(f"FAILED {'; '.join(outcome['failed'])}")
    text = f"undid turn {plan.turn} ({plan.snapshot}): " + ("; ".join(parts) or "no changes")
    return {"ok": not outcome["failed"], "text": text, **outcome}


def undo_last(root: Path) -> dict[str, Any]:
    """Revert the last turn that made edits and is not undone yet.

    Returns {ok, text, snapshot, turn, restored, removed, failed, backup}; `text` is one line for people.
    """
    plan = plan_undo(root)
    if plan is None:
        return {
            "ok": False,
            "text": "nothing to undo: no snapshot of an agent turn with edits",
            "restored": [],
            "removed": [],
            "failed": [],
        }
    return apply_undo(root, plan)
