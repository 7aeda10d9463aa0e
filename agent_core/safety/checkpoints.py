"""Checkpoints: every turn's changes committed to a shadow git repository outside the workspace.

One store per workspace, in the user's state directory ($XDG_STATE_HOME/smallcode/checkpoints/<name>-<hash>,
moved with SMALLCODE_CHECKPOINT_DIR, which only the environment sets). It is a git directory whose work tree
is the workspace: the user's own `.git`, index, branches and config are never read or written, and the
sandboxed shell cannot reach it (it binds only the workspace). Each commit is the whole work tree at one
moment (the project's .gitignore respected; .git/, .smallcode/ and caches left out; files over
MAX_FILE_BYTES left out with a note), tagged in its message:

    start   a turn is about to change files (taken before its first edit or shell command)
    track   a file the .gitignore hides is about to be edited: its old state, so undo can put it back
    shell   a shell command of the turn changed files
    turn    the turn ended
    outside files changed between turns (by the user, or by a turn that never ended: see `_sync`)
    undo    files put back by an undo (`reverts`: the starts it undid), a redo (`redoes`) or a restore

A turn is the commits from its `start` to the next `start`, `outside` or `undo`. Undoing it writes each file
it changed back to its state at `start`. The state just before is committed first, so an undo is undoable.

Restores treat the workspace as hostile (the shell may have swapped a folder for a symlink): paths from the
store are validated (no `..`, no absolute paths, no `.git`), and each file is written or removed through
directory descriptors opened one name at a time with O_NOFOLLOW, so nothing outside the workspace is
touched even if a folder is replaced while the restore runs. Bytes and permission bits come back exactly
(git keeps only 644/755, so the exact modes are kept in a JSON map committed under `.smallcode/`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import os
import stat
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
from gitdb import IStream

from agent_core.safety.paths import fold

STORE_ENV = "SMALLCODE_CHECKPOINT_DIR"
"""Moves the checkpoint stores (a folder holding one store per workspace). Read from the environment only:
a project's own settings must not be able to put the store where its shell can rewrite it."""
MAX_FILE_BYTES = 10 * 1024 * 1024
"""Files larger than this are not checkpointed; undo leaves them alone and says so."""
MAX_WALK = 5000
"""Checkpoints looked at when searching history for a turn or a run."""
MAX_DIFF_CHARS = 200_000
"""What `/diff` shows at most."""
BRANCH = "refs/heads/checkpoints"
MODES = ".smallcode/modes.json"
"""Tree entry with the exact permission bits of files that are not plain 644/755."""
EXCLUDES = (
    "/.git/", "/.smallcode/", "__pycache__/", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/",
    "node_modules/", "/.venv/", "*.smallcode-tmp",
)  # fmt: skip
"""Never checkpointed (besides the project's .gitignore): git's and the agent's own data, regenerable caches."""
ATTRIBUTES = "* -text -eol -filter -ident -working-tree-encoding !diff !merge\n"
"""Overrides any .gitattributes: no line-ending conversion, clean/smudge filter or textconv, so every file
is stored and restored byte for byte."""
_LINK_MODE = "120000"
_FILE_MODES = {"100644": 0o644, "100755": 0o755}


class CheckpointError(Exception):
    """The store cannot be used or holds something invalid; the message is for the user."""


def store_dir(root: Path) -> Path:
    """The checkpoint store of workspace `root`: <base>/<folder name>-<hash of the resolved path>."""
    base = os.environ.get(STORE_ENV) or ""
    if not base:
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        base = str(Path(state) / "smallcode" / "checkpoints")
    resolved = Path(root).resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(base).expanduser().resolve() / f"{resolved.name or 'root'}-{digest}"


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


@dataclass
class Meta:
    """What a checkpoint commit records about itself (JSON in its message)."""

    kind: str
    run: str = ""
    turn: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    created: float = field(default_factory=time.time)
    reverts: list[str] = field(default_factory=list)
    """For kind "undo": the ids of the `start` checkpoints it undid."""
    redoes: str | None = None
    """For kind "undo" made by a redo: the id of the undo it took back."""
    paths: list[str] = field(default_factory=list)
    """For kind "track": the ignored files whose old state it holds."""
    skipped: list[str] = field(default_factory=list)
    """Files left out because they were over MAX_FILE_BYTES (undo leaves them alone)."""

    def message(self) -> str:
        title = f"{self.kind} {self.run} turn {self.turn}".strip()
        return f"{title}\n\nsmallcode-checkpoint: {json.dumps(self.__dict__, sort_keys=True)}\n"

    @classmethod
    def parse(cls, message: str) -> Meta:
        """The metadata of a commit message; kind "other" when it has none or it is malformed."""
        for line in message.splitlines():
            if line.startswith("smallcode-checkpoint: "):
                try:
                    data = json.loads(line.split(": ", 1)[1])
                    return cls(
                        kind=str(data["kind"]),
                        run=str(data.get("run", "")),
                        turn=int(data.get("turn", 0)),
                        id=str(data["id"]),
                        created=float(data.get("created", 0.0)),
                        reverts=[str(x) for x in data.get("reverts", [])],
                        redoes=str(data["redoes"]) if data.get("redoes") else None,
                        paths=[str(x) for x in data.get("paths", [])],
                        skipped=[str(x) for x in data.get("skipped", [])],
                    )
                except (ValueError, KeyError, TypeError, AttributeError):
                    break
        return cls(kind="other", id="")


@dataclass
class Checkpoint:
    sha: str
    meta: Meta


@dataclass
class Segment:
    """One turn's changes: its `start` checkpoint, the last checkpoint of the turn, and all between."""

    start: Checkpoint
    end: Checkpoint
    members: list[Checkpoint] = field(default_factory=list)


@dataclass
class RestoreItem:
    path: str
    """Workspace-relative POSIX path."""
    data: bytes | None
    """The bytes undo puts back; None when the file did not exist (undo removes it)."""
    mode: int | None = None
    link: bool = False
    """`data` is a symlink's target."""


@dataclass
class UndoPlan:
    """What an undo, redo or restore will put back, computed without changing any file."""

    label: str
    """"turn 3 (run id)", "run …", "the last undo", "checkpoint …": for people."""
    base: str
    """The checkpoint of the files just before (kept: the undo can itself be undone)."""
    items: list[RestoreItem]
    reverts: list[str] = field(default_factory=list)
    redoes: str | None = None
    turn: int = 0
    run: str = ""
    left_alone: list[str] = field(default_factory=list)
    """Files over the size cap, which the checkpoints do not hold."""

    @property
    def checkpoint(self) -> str:
        return self.base[:12]


class CheckpointStore:
    """The shadow repository of one workspace. Every method holds the store's lock while it runs."""

    def __init__(self, root: Path, directory: Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.dir = Path(directory) if directory is not None else store_dir(self.root)
        self.env = {
            "GIT_DIR": str(self.dir),
            "GIT_WORK_TREE": str(self.root),
            "GIT_INDEX_FILE": str(self.dir / "index"),
            "GIT_OBJECT_DIRECTORY": str(self.dir / "objects"),
            "GIT_COMMON_DIR": str(self.dir),
            # Nothing of the user's or the system's git setup applies: no filters, hooks, fsmonitor, aliases.
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_SYSTEM": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_COUNT": "0",
            "GIT_CONFIG_PARAMETERS": "",
            "GIT_ATTR_NOSYSTEM": "1",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": "",
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_NAMESPACE": "",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "smallcode",
            "GIT_AUTHOR_EMAIL": "smallcode@localhost",
            "GIT_COMMITTER_NAME": "smallcode",
            "GIT_COMMITTER_EMAIL": "smallcode@localhost",
        }

    # the repository --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _repo(self) -> Iterator[git.Repo]:
        """The store, created on first use, locked against other SmallCode processes on this workspace."""
        self._init()
        with open(self.dir / "smallcode.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _clear_stale_locks(self.dir)
            repo = git.Repo(self.dir)
            repo.git.update_environment(**self.env)
            try:
                yield repo
            finally:
                repo.close()  # stops git's persistent cat-file processes

    def _init(self) -> None:
        if (self.dir / "HEAD").is_file():
            return
        env = {k: v for k, v in self.env.items() if k != "GIT_WORK_TREE"}
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.dir, 0o700)  # it holds copies of the workspace's files
            cmd = git.Git()
            cmd.execute(["git", "init", "-q", "--bare", str(self.dir)], env=env)
            for key, value in (
                ("core.bare", "false"),
                ("core.worktree", str(self.root)),
                ("core.autocrlf", "false"),
                ("core.symlinks", "true"),
                ("core.quotepath", "false"),
                ("gc.auto", "0"),
            ):
                cmd.execute(["git", "config", "--file", str(self.dir / "config"), key, value], env=env)
            info = self.dir / "info"
            info.mkdir(exist_ok=True)
            excludes = list(EXCLUDES)
            with contextlib.suppress(ValueError):  # a store inside the workspace never checkpoints itself
                excludes.append("/" + self.dir.resolve().relative_to(self.root).as_posix() + "/")
            (info / "exclude").write_text("\n".join(excludes) + "\n")
            (info / "attributes").write_text(ATTRIBUTES)
            cmd.execute(["git", "symbolic-ref", "HEAD", BRANCH], env=env)
        except (OSError, git.GitCommandError) as exc:
            raise CheckpointError(f"cannot create the checkpoint store at {self.dir}: {_why(exc)}") from None

    # taking checkpoints ----------------------------------------------------------------------------
    def commit(self, meta: Meta, force: Collection[str] = (), *, always: bool = False) -> str | None:
        """Commit the work tree as it is now; returns the commit, or None when nothing changed since the last
        checkpoint (unless `always`). `force` adds files the .gitignore hides (files the agent edits)."""
        try:
            with self._repo() as repo:
                return self._commit(repo, meta, force, always=always)
        except (OSError, git.GitCommandError, ValueError) as exc:
            raise CheckpointError(f"checkpoint failed: {_why(exc)}") from None

    def _commit(self, repo: git.Repo, meta: Meta, force: Collection[str], *, always: bool) -> str | None:
        listing = repo.git.ls_files(
            "-z", "-o", "-m", "-d", "--exclude-standard", strip_newline_in_stdout=False
        )
        candidates = {p for p in listing.split("\0") if p} | set(force)
        entries: list[str] = []
        root_fd = os.open(self.root, _DIR_FLAGS)
        try:
            for rel in sorted(candidates):
                if rel.endswith("/") or _reserved(rel):
                    continue  # a nested repository (git lists it as a folder) or the agent's own data
                try:
                    parts = safe_parts(rel)
                except CheckpointError:
                    continue
                # Read here, through O_NOFOLLOW descriptors, not by git through the path: a folder swapped
                # for a symlink mid-commit must not pull a file from outside the workspace into the store.
                found = _read_inside(root_fd, parts)
                if found == "too large" and len(meta.skipped) < 200:  # named in the message: bounded
                    meta.skipped.append(rel)
                if isinstance(found, tuple):
                    mode, data = found
                    blob = repo.odb.store(IStream(b"blob", len(data), io.BytesIO(data))).hexsha
                    entries.append(f"{mode} {blob.decode() if isinstance(blob, bytes) else blob}\t{rel}")
                else:  # gone, too large, or not a file or symlink now (a folder on the way may be a symlink)
                    entries.append(f"0 {'0' * 40}\t{rel}")
        finally:
            os.close(root_fd)
        if entries:
            _stdin(repo, ["update-index", "-z", "--index-info"], entries)
            with contextlib.suppress(git.GitCommandError):  # stat data, so the next listing is quick
                repo.git.update_index("-q", "--refresh", "--ignore-missing")
        self._store_modes(repo)
        tree = repo.git.write_tree()
        head = _head(repo)
        if head is not None and not always and repo.commit(head).tree.hexsha == tree:
            return None
        args = ["commit-tree", tree, "-m", meta.message()]
        if head is not None:
            args[2:2] = ["-p", head]
        sha = str(repo.git.execute(["git", *args]))
        repo.git.update_ref(BRANCH, sha, head or "0" * 40)
        return sha

    def _store_modes(self, repo: git.Repo) -> None:
        """Put the exact modes of files that are not plain 644/755 into the tree (MODES)."""
        modes: dict[str, int] = {}
        current = None
        for line in repo.git.ls_files("-s", "-z", strip_newline_in_stdout=False).split("\0"):
            if not line:
                continue
            info, rel = line.split("\t", 1)
            mode, sha = info.split()[:2]
            if rel == MODES:
                current = sha
            elif mode in _FILE_MODES:
                with contextlib.suppress(OSError):
                    actual = stat.S_IMODE(os.lstat(self.root / rel).st_mode)
                    if actual != _FILE_MODES[mode]:
                        modes[rel] = actual
        data = json.dumps(modes, sort_keys=True).encode()
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == current:  # git's blob id
            return
        with tempfile.TemporaryFile() as handle:
            handle.write(data)
            handle.seek(0)
            blob = repo.git.execute(["git", "hash-object", "-w", "--stdin"], istream=handle)
        repo.git.update_index("--add", "--cacheinfo", f"100644,{blob},{MODES}")

    def track(self, meta: Meta, rel: str) -> str | None:
        """Before a file the .gitignore hides is first edited in a turn: commit its current state (if it exists
        and the store does not hold it yet), so undo puts it back instead of removing it."""
        try:
            with self._repo() as repo:
                if repo.git.ls_files("-z", "--", rel) or not os.path.lexists(self.root / rel):
                    return None
                meta.paths.append(rel)
                return self._commit(repo, meta, [rel], always=False)
        except (OSError, git.GitCommandError, ValueError) as exc:
            raise CheckpointError(f"checkpoint failed: {_why(exc)}") from None

    # reading history -------------------------------------------------------------------------------
    def history(self, repo: git.Repo) -> list[Checkpoint]:
        """Checkpoints, oldest first (the last MAX_WALK)."""
        if _head(repo) is None:
            return []
        found = [
            Checkpoint(c.hexsha, Meta.parse(str(c.message)))
            for c in repo.iter_commits(BRANCH, max_count=MAX_WALK, first_parent=True)
        ]
        return found[::-1]

    def all(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first."""
        try:
            with self._repo() as repo:
                return self.history(repo)
        except (OSError, git.GitCommandError, ValueError) as exc:
            raise CheckpointError(f"cannot read the checkpoints: {_why(exc)}") from None

    @staticmethod
    def segments(checkpoints: list[Checkpoint]) -> list[Segment]:
        """The turns in `checkpoints` (oldest first)."""
        out: list[Segment] = []
        current: Segment | None = None
        for cp in checkpoints:
            kind = cp.meta.kind
            if kind == "start":
                current = Segment(cp, cp, [cp])
                out.append(current)
            elif kind in ("shell", "track", "turn") and current is not None:
                current.end = cp
                current.members.append(cp)
                if kind == "turn":
                    current = None
            else:
                current = None
        return out

    @staticmethod
    def undone(checkpoints: list[Checkpoint]) -> set[str]:
        """Ids of the `start`s undone and not redone since."""
        redone = {cp.meta.redoes for cp in checkpoints if cp.meta.redoes}
        return {
            start
            for cp in checkpoints
            if cp.meta.kind == "undo" and cp.meta.id not in redone
            for start in cp.meta.reverts
        }

    @classmethod
    def runs(cls, checkpoints: list[Checkpoint]) -> list[tuple[str, list[Segment]]]:
        """Runs with their turns, oldest first."""
        out: dict[str, list[Segment]] = {}
        for seg in cls.segments(checkpoints):
            out.setdefault(seg.start.meta.run, []).append(seg)
        return list(out.items())

    def _sync(self, repo: git.Repo, force: Collection[str] = ()) -> str:
        """Commit the work tree before an undo or a diff. A turn left open (its process killed) is closed
        with these changes; otherwise they are the user's, made between turns."""
        checkpoints = self.history(repo)
        tip = checkpoints[-1].meta if checkpoints else None
        if tip is not None and tip.kind in ("start", "shell", "track"):
            meta = Meta("turn", tip.run, tip.turn)
        else:
            meta = Meta("outside")
        self._commit(repo, meta, force, always=False)
        head = _head(repo) or self._commit(repo, meta, force, always=True)
        assert head is not None
        return head

    # planning and applying restores ----------------------------------------------------------------
    def plan(self, what: str = "last") -> UndoPlan | None:
        """What to restore: "last" (the last turn not undone yet), "redo" (take back the last undo), "run N"
        (everything since before the N-th run `runs` lists, 1 = oldest, or a run id) or "to ID" (back to a
        checkpoint). None when there is nothing to do; CheckpointError for a bad request or a forged store."""
        try:
            with self._repo() as repo:
                base = self._sync(repo)
                return self._plan(repo, base, what.split())
        except (OSError, git.GitCommandError, ValueError) as exc:
            raise CheckpointError(f"cannot read the checkpoints: {_why(exc)}") from None

    def _plan(self, repo: git.Repo, base: str, words: list[str]) -> UndoPlan | None:
        checkpoints = self.history(repo)
        now = self._entries(repo, base)
        if not words or words == ["last"]:
            undone = self.undone(checkpoints)
            for seg in reversed(self.segments(checkpoints)):
                if seg.start.meta.id in undone:
                    continue
                items, left = self._items(repo, [seg], now)
                if items:
                    meta = seg.start.meta
                    return UndoPlan(
                        f"turn {meta.turn} ({meta.run})",
                        base,
                        items,
                        [meta.id],
                        None,
                        meta.turn,
                        meta.run,
                        left,
                    )
            return None
        if words == ["redo"]:
            redone = {cp.meta.redoes for cp in checkpoints if cp.meta.redoes}
            for i in range(len(checkpoints) - 1, 0, -1):
                cp = checkpoints[i]
                if cp.meta.kind == "undo" and cp.meta.redoes is None and cp.meta.id not in redone:
                    items = self._back_to(repo, checkpoints[i - 1].sha, now)
                    return UndoPlan("the last undo", base, items, [], cp.meta.id) if items else None
            return None
        if words[0] == "run" and len(words) == 2:
            run, segs = self._run(checkpoints, words[1])
            items = self._back_to(repo, segs[0].start.sha, now)
            ids = [s.start.meta.id for s in segs]
            return UndoPlan(f"run {run}", base, items, ids, None, 0, run) if items else None
        if words[0] == "to" and len(words) == 2:
            sha = self._resolve(repo, words[1])
            items = self._back_to(repo, sha, now)
            return UndoPlan(f"checkpoint {sha[:12]}", base, items) if items else None
        raise CheckpointError(
            f"unknown undo {' '.join(words)!r}: use /undo, /undo redo, /undo run N or /undo to ID"
        )

    def _run(self, checkpoints: list[Checkpoint], key: str) -> tuple[str, list[Segment]]:
        for n, (run, segs) in enumerate(self.runs(checkpoints), 1):
            if key in (str(n), run):
                return run, segs
        raise CheckpointError(f"no run {key!r}: /undo list shows the runs")

    def _back_to(self, repo: git.Repo, sha: str, now: dict[str, tuple[str, str]]) -> list[RestoreItem]:
        """Every file that differs from checkpoint `sha`, as it was there."""
        then = self._entries(repo, sha)
        return self._targets(repo, then, _changed(then, now), self._modes(repo, then))

    def _items(
        self, repo: git.Repo, segs: list[Segment], now: dict[str, tuple[str, str]]
    ) -> tuple[list[RestoreItem], list[str]]:
        """What undoing turns `segs` puts back: each file they changed, as it was before the first of them;
        and the files they changed that were too large to checkpoint."""
        before = self._entries(repo, segs[0].start.sha)
        modes = self._modes(repo, before)
        paths: set[str] = set()
        skipped: set[str] = set()
        for seg in segs:
            paths |= _changed(self._entries(repo, seg.start.sha), self._entries(repo, seg.end.sha))
            for member in seg.members:
                skipped.update(member.meta.skipped)
                if member.meta.kind == "track":  # an ignored file's state before the turn edited it
                    held = self._entries(repo, member.sha)
                    held_modes = self._modes(repo, held)
                    for rel in member.meta.paths:
                        if rel in held and rel not in before:
                            before[rel] = held[rel]
                            if rel in held_modes:
                                modes[rel] = held_modes[rel]
        left = sorted(skipped)  # whether the turns changed them is unknown: said, never guessed
        paths = {p for p in paths - skipped if before.get(p) != now.get(p)}
        return self._targets(repo, before, paths, modes), left

    def _targets(
        self,
        repo: git.Repo,
        entries: dict[str, tuple[str, str]],
        paths: Collection[str],
        modes: dict[str, int],
    ) -> list[RestoreItem]:
        items: list[RestoreItem] = []
        for rel in sorted(paths):
            if _reserved(rel):
                continue
            entry = entries.get(rel)
            if entry is None:
                items.append(RestoreItem(rel, None))
                continue
            mode, sha = entry
            data = repo.odb.stream(bytes.fromhex(sha)).read()
            if mode == _LINK_MODE:
                items.append(RestoreItem(rel, data, None, link=True))
            else:
                items.append(RestoreItem(rel, data, modes.get(rel, _FILE_MODES[mode])))
        return items

    def _entries(self, repo: git.Repo, sha: str) -> dict[str, tuple[str, str]]:
        """{path: (git mode, blob)} of a checkpoint, every path validated: a forged store gets a
        CheckpointError, never a restore outside the workspace."""
        out: dict[str, tuple[str, str]] = {}
        listing = repo.git.ls_tree("-r", "-z", "--full-tree", sha, strip_newline_in_stdout=False)
        for line in listing.split("\0"):
            if not line:
                continue
            info, rel = line.split("\t", 1)
            mode, kind, blob = info.split()
            if kind == "commit":
                continue  # a nested repository: not restored
            safe_parts(rel)
            if kind != "blob" or (mode not in _FILE_MODES and mode != _LINK_MODE) or len(blob) != 40:
                raise CheckpointError(f"checkpoint {sha[:12]} holds an invalid entry for {rel!r}")
            out[rel] = (mode, blob)
        return out

    def _modes(self, repo: git.Repo, entries: dict[str, tuple[str, str]]) -> dict[str, int]:
        entry = entries.get(MODES)
        if entry is None:
            return {}
        try:
            data = json.loads(repo.odb.stream(bytes.fromhex(entry[1])).read())
            return {str(k): int(v) & 0o7777 for k, v in data.items()}
        except (ValueError, TypeError, AttributeError):
            return {}  # damaged: plain 644/755

    def _resolve(self, repo: git.Repo, ref: str) -> str:
        if not 4 <= len(ref) <= 40 or any(c not in "0123456789abcdef" for c in ref.lower()):
            raise CheckpointError(f"{ref!r} is not a checkpoint id (/undo list shows them)")
        try:
            return str(repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}"))
        except git.GitCommandError:
            raise CheckpointError(f"no checkpoint {ref!r} (/undo list shows them)") from None

    def apply(self, plan: UndoPlan, done_elsewhere: Collection[str] = ()) -> dict[str, Any]:
        """Restore `plan` on disk (but the files in `done_elsewhere`, which an editor restored itself), then
        commit the result as an "undo" checkpoint. Returns {restored, removed, failed, left_alone, backup}."""
        skip = set(done_elsewhere)
        restored: list[str] = []
        removed: list[str] = []
        failed: list[str] = []
        try:
            root_fd = os.open(self.root, _DIR_FLAGS)
        except OSError as exc:
            raise CheckpointError(f"cannot open the workspace {self.root}: {_why(exc)}") from None
        try:
            for item in plan.items:
                if item.path in skip:
                    (restored if item.data is not None else removed).append(item.path)
                    continue
                try:
                    if item.data is None:
                        if remove_file(root_fd, safe_parts(item.path)):
                            removed.append(item.path)
                    else:
                        write_file(root_fd, safe_parts(item.path), item.data, item.mode, link=item.link)
                        restored.append(item.path)
                except (OSError, CheckpointError) as exc:
                    failed.append(f"{item.path}: {_why(exc)}")
        finally:
            os.close(root_fd)
        self.commit(
            Meta("undo", plan.run, plan.turn, reverts=list(plan.reverts), redoes=plan.redoes), always=True
        )
        return {
            "restored": restored,
            "removed": removed,
            "failed": failed,
            "left_alone": plan.left_alone,
            "backup": plan.base,
        }

    def undo_turns(
        self, starts: Collection[str], label: str = "", force: Collection[str] = ()
    ) -> dict[str, Any] | None:
        """Undo the turns whose `start` ids are in `starts` (the agent's own rollbacks: a worse edit, a fresh
        attempt); `force`: files the turn edited that the .gitignore hides. None when none is in the history."""
        try:
            with self._repo() as repo:
                base = self._sync(repo, force)
                checkpoints = self.history(repo)
                segs = [s for s in self.segments(checkpoints) if s.start.meta.id in starts]
                if not segs:
                    return None
                items, left = self._items(repo, segs, self._entries(repo, base))
        except (OSError, git.GitCommandError, ValueError) as exc:
            raise CheckpointError(f"rollback failed: {_why(exc)}") from None
        first = segs[0].start.meta
        ids = [s.start.meta.id for s in segs]
        plan = UndoPlan(label or f"turn {first.turn}", base, items, ids, None, first.turn, first.run, left)
        return {"checkpoint": plan.checkpoint, "turn": plan.turn, **self.apply(plan)}

    def diff(self, spec: str = "") -> tuple[str, str]:
        """(title, unified diff) for "" (the last turn), "run N" (since before run N), "ID" (since that
        checkpoint) or "A B" / "A..B" (between two checkpoints)."""
        words = spec.replace("..", " ").split()
        try:
            with self._repo() as repo:
                now = self._sync(repo)
                checkpoints = self.history(repo)
                if not words:
                    segs = self.segments(checkpoints)
                    if not segs:
                        return "no turn has changed files yet", ""
                    a, b, title = segs[-1].start.sha, segs[-1].end.sha, f"turn {segs[-1].start.meta.turn}"
                elif words[0] == "run" and len(words) == 2:
                    run, segs = self._run(checkpoints, words[1])
                    a, b, title = segs[0].start.sha, now, f"since before run {run}"
                elif len(words) in (1, 2):
                    a = self._resolve(repo, words[0])
                    b = self._resolve(repo, words[1]) if len(words) == 2 else now
                    title = f"{a[:12]}..{b[:12] if len(words) == 2 else 'now'}"
                else:
                    raise CheckpointError("usage: /diff [run N | ID | A..B]")
                self._entries(repo, a), self._entries(repo, b)  # validated like any restore
                text = repo.git.diff(
                    "--no-ext-diff", "--no-textconv", "--no-color", a, b, "--", ".", f":(exclude){MODES}"
                )
        except (OSError, git.GitCommandError, ValueError) as exc:
            raise CheckpointError(f"cannot read the checkpoints: {_why(exc)}") from None
        if len(text) > MAX_DIFF_CHARS:
            text = text[:MAX_DIFF_CHARS] + f"\n… (cut at {MAX_DIFF_CHARS} characters)"
        return title, text


# --- the work tree, walked without following symlinks ----------------------------------------------------

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def safe_parts(rel: str) -> tuple[str, ...]:
    """The names of a workspace-relative path from the store; CheckpointError for anything that could lead
    elsewhere (absolute, `..`, empty names, NUL, `.git`)."""
    parts = tuple(rel.split("/"))
    if (
        not rel
        or rel.startswith("/")
        or "\0" in rel
        or any(p in ("", ".", "..") or fold(p) == ".git" for p in parts)
    ):
        raise CheckpointError(f"invalid path {rel!r} in the checkpoint store")
    return parts


def _reserved(rel: str) -> bool:
    return fold(rel.split("/", 1)[0]) == ".smallcode"


def _read_inside(root_fd: int, parts: tuple[str, ...]) -> tuple[str, bytes] | str | None:
    """(git mode, bytes) of a regular file or symlink inside the workspace, read without following a symlink
    on the way; "too large" over MAX_FILE_BYTES; None when it is missing, or not a file or symlink."""
    try:
        parent = _open_parent(root_fd, parts, create=False)
    except (OSError, CheckpointError):
        return None
    if parent is None:
        return None
    name = parts[-1]
    try:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            return _LINK_MODE, os.fsencode(os.readlink(name, dir_fd=parent))
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > MAX_FILE_BYTES:
            return "too large"
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=parent)
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode):  # swapped for a FIFO or a device since the stat
                return None
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            return "too large"
        return ("100755" if st.st_mode & 0o100 else "100644"), data
    except OSError:
        return None
    finally:
        os.close(parent)


def _open_parent(root_fd: int, parts: tuple[str, ...], *, create: bool) -> int | None:
    """A descriptor of the folder holding `parts[-1]`, opened one name at a time without following a symlink
    (a folder the shell swapped for one fails with ELOOP/ENOTDIR); None when missing and not `create`."""
    fd = os.dup(root_fd)
    try:
        for name in parts[:-1]:
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    os.close(fd)
                    return None
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o777, dir_fd=fd)  # the umask decides, as for any new folder
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise CheckpointError("a folder on its path is a symlink or a file now; left alone") from None
        raise
    return fd


def write_file(
    root_fd: int, parts: tuple[str, ...], data: bytes, mode: int | None, *, link: bool = False
) -> None:
    """Put `data` (or a symlink to `data`) at `parts` under the workspace's descriptor: a temporary name, then
    rename (old or new, never torn; a symlink in its place is replaced, never followed)."""
    parent = _open_parent(root_fd, parts, create=True)
    assert parent is not None
    name = parts[-1]
    tmp = f".{name[:200]}.{uuid.uuid4().hex[:8]}.smallcode-tmp"
    try:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                raise CheckpointError("it is a folder now; left as it is")
        if link:
            os.symlink(os.fsdecode(data), tmp, dir_fd=parent)
        else:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(tmp, flags, 0o600, dir_fd=parent)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, mode if mode is not None else 0o644)
                os.fsync(fd)
            finally:
                os.close(fd)
        try:
            os.rename(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=parent)
            raise
        with contextlib.suppress(OSError):
            os.fsync(parent)
    finally:
        os.close(parent)


def remove_file(root_fd: int, parts: tuple[str, ...]) -> bool:
    """Remove the file or symlink at `parts` (never what a symlink points to); False when it is not there."""
    parent = _open_parent(root_fd, parts, create=False)
    if parent is None:
        return False
    try:
        try:
            st = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            raise CheckpointError("it is a folder now; left as it is")
        os.unlink(parts[-1], dir_fd=parent)
        return True
    finally:
        os.close(parent)


# --- helpers -----------------------------------------------------------------------------------------------


def _clear_stale_locks(store: Path, wait: float = 10.0) -> None:
    """git's lock files left by a SmallCode process killed mid-checkpoint. Its git child may still be
    finishing, so wait for it first; we hold the store's lock, so no live SmallCode process owns them."""
    locks = [store / "index.lock", store / "refs" / "heads" / "checkpoints.lock"]
    deadline = time.monotonic() + wait
    while any(lock.exists() for lock in locks) and time.monotonic() < deadline:
        time.sleep(0.02)
    for lock in locks:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def _head(repo: git.Repo) -> str | None:
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", BRANCH))
    except git.GitCommandError:
        return None


def _changed(a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]) -> set[str]:
    return {p for p in a.keys() | b.keys() if a.get(p) != b.get(p) and not _reserved(p)}


def _stdin(repo: git.Repo, args: list[str], paths: list[str]) -> None:
    with tempfile.TemporaryFile() as handle:
        handle.write(b"".join(os.fsencode(p) + b"\0" for p in paths))
        handle.seek(0)
        repo.git.execute(["git", *args], istream=handle)


def _why(exc: BaseException) -> str:
    if isinstance(exc, git.GitCommandError):
        stderr = str(exc.stderr or "").strip().splitlines()
        return (stderr[-1] if stderr else f"git exited with {exc.status}")[:300]
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
