"""The edit seam with checkpoints (see checkpoints.py), and the /undo and /diff commands built on them.

`CheckpointingWorkspace` wraps any Workspace: before a turn's first edit or shell command the work tree is
committed (`start`); after a shell command that changed files, again (`shell`); when the turn ends (`turn`).
The loop marks turns with `begin_turn(n)` and shell commands with `before_shell` / `after_shell` (the
Workspace interface; other workspaces do nothing then); the agent ends its last turn with `finish_turn`.
Its own rollbacks (a worse edit, a fresh attempt) undo the turns it started, by their checkpoint ids.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from agent_core.safety.checkpoints import CheckpointError, CheckpointStore, Meta, UndoPlan, new_run_id
from agent_core.workspace import EditResult, LineWindow, Workspace, WorkspaceError

log = logging.getLogger(__name__)


class CheckpointingWorkspace(Workspace):
    """Any Workspace, with each turn's changes committed to the workspace's checkpoint store.

    Turn numbers restart with each run: a turn number not above the last one starts a new run id. Edits
    before any `begin_turn` count as turn 1. With `enabled=False` nothing is recorded (SMALLCODE_SNAPSHOT).
    """

    def __init__(
        self, inner: Workspace, *, enabled: bool = True, store: CheckpointStore | None = None
    ) -> None:
        super().__init__(inner.root)
        self.inner = inner
        self.enabled = enabled
        self.store = store or CheckpointStore(self.root)
        self.run_id = new_run_id()
        self.turn = 0
        self.start: str | None = None
        """The current turn's `start` checkpoint id, once the turn changed something."""
        self.run_starts: list[str] = []
        """Every `start` of this run (rollback_run undoes them)."""
        self._recorded: set[str] = set()
        self._originals: dict[str, str | None] = {}

    # turns ------------------------------------------------------------------------------------------
    def begin_turn(self, turn: int, run_id: str | None = None) -> None:
        """End the previous turn (its changes committed) and start counting turn `turn`."""
        self.finish_turn()
        self._originals = {}
        if run_id is None:
            run_id = new_run_id() if turn <= self.turn else self.run_id
        if run_id != self.run_id:
            self.run_starts = []
        self.run_id = run_id
        self.turn = turn

    def finish_turn(self) -> None:
        """Commit the current turn's end state (nothing to do for a turn that changed nothing)."""
        if self.start is None:
            return
        edited, self.start, self._recorded = self._recorded, None, set()
        try:  # the files the turn edited are committed even where the .gitignore hides them
            self.store.commit(Meta("turn", self.run_id, self.turn), edited, always=True)
        except CheckpointError as exc:
            log.warning("%s", exc)

    @property
    def checkpoint(self) -> str | None:
        """The current turn's `start` checkpoint id, once it changed something."""
        return self.start

    def _ensure_start(self, force: Collection[str] = ()) -> None:
        if self.turn == 0:
            self.begin_turn(1)
        if self.start is not None:
            return
        meta = Meta("start", self.run_id, self.turn)
        self.store.commit(meta, force, always=True)
        self.start = meta.id
        self.run_starts.append(meta.id)

    def record(self, path: Path) -> None:
        """Checkpoint before the turn first changes `path` (absolute, confined); WorkspaceError if impossible."""
        if not self.enabled:
            return
        rel = path.relative_to(self.root).as_posix()
        if rel in self._recorded:
            return
        try:
            if self.start is None:
                self._ensure_start([rel])
            else:  # maybe a file the .gitignore hides, first edited in this turn: keep its old state
                self.store.track(Meta("track", self.run_id, self.turn), rel)
        except CheckpointError as exc:
            raise WorkspaceError(
                f"could not checkpoint {rel} before editing it ({exc}); the edit was not made"
            ) from None
        self._recorded.add(rel)

    def before_shell(self) -> str:
        """Checkpoint before a shell command; returns a note for the model when that was impossible."""
        if not self.enabled:
            return ""
        try:
            self._ensure_start()
        except CheckpointError as exc:
            return f"(no checkpoint was taken before this command, so /undo cannot revert it: {exc})"
        return ""

    def after_shell(self) -> None:
        """Commit what a shell command changed (no commit when it changed nothing)."""
        if not self.enabled or self.start is None:
            return
        try:
            self.store.commit(Meta("shell", self.run_id, self.turn), self._recorded)
        except CheckpointError as exc:
            log.warning("%s", exc)

    # the edit seam ----------------------------------------------------------------------------------
    async def read_text(self, path: Path) -> str:
        return await self.inner.read_text(path)

    async def read_lines(self, path: Path, first: int, last: int) -> LineWindow:
        return await self.inner.read_lines(path, first, last)

    async def exists(self, path: Path) -> bool:
        return await self.inner.exists(path)

    async def unsaved_texts(self) -> dict[Path, str]:
        return await self.inner.unsaved_texts()

    async def write_text(self, path: Path, text: str, *, label: str = "") -> EditResult:
        await asyncio.to_thread(self.record, path)
        rel = path.relative_to(self.root).as_posix()
        if rel not in self._originals:
            try:
                self._originals[rel] = (
                    await self.inner.read_text(path) if await self.inner.exists(path) else None
                )
            except (WorkspaceError, OSError):
                self._originals[rel] = None
        return await self.inner.write_text(path, text, label=label)

    def turn_originals(self) -> dict[str, str | None]:
        return dict(self._originals)

    async def delete(self, path: Path) -> EditResult:
        """Delete a file, checkpointed first (the inner workspace's `delete` if it has one)."""
        await asyncio.to_thread(self.record, path)
        inner_delete = getattr(self.inner, "delete", None)
        if inner_delete is not None:
            result: EditResult = await inner_delete(path)
            return result
        try:
            path.unlink()
        except FileNotFoundError:
            return EditResult(False, f"{path.relative_to(self.root).as_posix()} does not exist")
        return EditResult(True)

    # the agent's own rollbacks ----------------------------------------------------------------------
    def rollback_turn(self) -> dict[str, Any] | None:
        """Revert everything the current turn changed, its edits and its shell commands' effects (an edit
        that made things worse, a failed check with auto-rollback). None when the turn changed nothing."""
        if self.start is None:
            return None
        start, edited = self.start, self._recorded
        self.start, self._recorded = None, set()
        return self._undo([start], f"turn {self.turn}", edited)

    def rollback_run(self) -> list[dict[str, Any]]:
        """Revert everything this run changed (a fresh attempt starts from the files as they were)."""
        self.finish_turn()
        starts, self.run_starts = list(self.run_starts), []
        outcome = self._undo(starts, f"run {self.run_id}") if starts else None
        return [outcome] if outcome is not None else []

    def _undo(self, starts: list[str], label: str, edited: Collection[str] = ()) -> dict[str, Any] | None:
        try:
            return self.store.undo_turns(starts, label, edited)
        except CheckpointError as exc:
            log.warning("%s", exc)
            return {"restored": [], "removed": [], "failed": [str(exc)]}


# --- commands: /undo, /undo list, /diff ------------------------------------------------------------------

NOTHING = {
    "last": "nothing to undo: no agent turn with changes that is not undone yet",
    "redo": "nothing to redo: no undo to take back",
    "run": "nothing to undo: the files are as they were before that run",
    "to": "nothing to restore: the files are as they were at that checkpoint",
}


def plan_undo(root: Path, what: str = "last") -> UndoPlan | None:
    """What `/undo [what]` would restore, changing no file (the files as they are are committed first).
    None: nothing to undo. For an editor that restores its open documents itself before `apply_undo`."""
    return CheckpointStore(root).plan(what)


def apply_undo(root: Path, plan: UndoPlan, done_elsewhere: Collection[str] = ()) -> dict[str, Any]:
    """Carry out `plan` on disk but for the files in `done_elsewhere` (an editor restored them).

    Returns {ok, text, checkpoint, turn, restored, removed, failed, left_alone, backup}; `text` is one line.
    """
    outcome = CheckpointStore(root).apply(plan, done_elsewhere)
    parts = []
    if outcome["restored"]:
        parts.append(f"restored {', '.join(outcome['restored'])}")
    if outcome["removed"]:
        parts.append(f"removed {', '.join(outcome['removed'])}")
    if outcome["failed"]:
        parts.append(f"FAILED {'; '.join(outcome['failed'])}")
    if outcome["left_alone"]:
        parts.append(f"left alone (too large to checkpoint): {', '.join(outcome['left_alone'])}")
    verb = "redid" if plan.redoes else "undid"
    text = f"{verb} {plan.label}: " + ("; ".join(parts) or "no changes")
    if not plan.redoes:
        text += " (/undo redo takes it back)"
    return {
        "ok": not outcome["failed"],
        "text": text,
        "checkpoint": plan.checkpoint,
        "turn": plan.turn,
        **outcome,
    }


def undo(root: Path, what: str = "last") -> dict[str, Any]:
    """`/undo [what]`: the last turn, `redo`, `run N` or `to ID` (see CheckpointStore.plan)."""
    try:
        plan = plan_undo(root, what)
        if plan is None:
            return _failed(NOTHING.get((what.split() or ["last"])[0], NOTHING["last"]))
        return apply_undo(root, plan)
    except CheckpointError as exc:
        return _failed(str(exc))


def undo_last(root: Path) -> dict[str, Any]:
    """Revert the last turn that changed files and is not undone yet."""
    return undo(root, "last")


def _failed(text: str) -> dict[str, Any]:
    return {"ok": False, "text": text, "restored": [], "removed": [], "failed": []}


def list_checkpoints(root: Path) -> dict[str, Any]:
    """{ok, runs: [{n, run, started, turns: [{turn, checkpoint, undone}]}], store, text}: what `/undo run N`
    and `/diff ID` can name."""
    store = CheckpointStore(root)
    try:
        checkpoints = store.all()
    except CheckpointError as exc:
        return {"ok": False, "runs": [], "text": str(exc)}
    undone = store.undone(checkpoints)
    runs = []
    lines = []
    for n, (run, segs) in enumerate(store.runs(checkpoints), 1):
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(segs[0].start.meta.created))
        turns = [
            {"turn": s.start.meta.turn, "checkpoint": s.start.sha[:12], "undone": s.start.meta.id in undone}
            for s in segs
        ]
        runs.append({"n": n, "run": run, "started": started, "turns": turns})
        shown = ", ".join(f"{t['turn']} {t['checkpoint']}{' (undone)' if t['undone'] else ''}" for t in turns)
        lines.append(f"run {n}  {run}  {started}  turns: {shown}")
    text = "\n".join(lines[-30:]) or "no checkpoints yet"
    return {"ok": True, "runs": runs, "store": str(store.dir), "text": text}


def diff(root: Path, spec: str = "") -> dict[str, Any]:
    """`/diff [run N | ID | A..B]`: {ok, title, diff, text}."""
    try:
        title, text = CheckpointStore(root).diff(spec)
    except CheckpointError as exc:
        return {"ok": False, "title": "", "diff": "", "text": str(exc)}
    return {
        "ok": True,
        "title": title,
        "diff": text,
        "text": f"{title}\n{text}" if text else f"{title}: no changes",
    }
