"""Checkpoints in git: bytes, modes, created, deleted and shell-changed files come back exactly; the store lives
in the user's state directory and leaves the user's git alone; a workspace the shell turned hostile (a folder
swapped for a symlink, a forged store) cannot aim a restore outside it."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from agent_core.config import Settings
from agent_core.safety import checkpoints
from agent_core.safety.checkpointing import CheckpointingWorkspace, diff, list_checkpoints, undo, undo_last
from agent_core.safety.checkpoints import CheckpointStore, Meta, store_dir
from agent_core.tools import ToolRegistry, default_tools
from agent_core.tools.base import ToolContext
from agent_core.workspace import FileWorkspace
from tests.safety.conftest import tree_digest


def _state(root: Path) -> dict[str, tuple[bytes, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        if ".smallcode" in path.parts or ".git" in path.parts or not path.is_file() or path.is_symlink():
            continue
        out[path.relative_to(root).as_posix()] = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
    return out


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


def _shell(ws: CheckpointingWorkspace, script: str) -> None:
    """A shell command of the turn, as the loop runs one: checkpoint, run, commit what it changed."""
    ws.before_shell()
    subprocess.run(["bash", "-c", script], cwd=ws.root, check=True)
    ws.after_shell()


async def test_rollback_restores_bytes_modes_created_and_deleted_files(root: Path) -> None:
    (root / "script.sh").write_bytes(b"#!/bin/sh\r\necho caf\xc3\xa9\r\n")
    os.chmod(root / "script.sh", 0o751)
    (root / "bom.txt").write_bytes(b"\xef\xbb\xbfline\n")
    os.chmod(root / "bom.txt", 0o600)
    (root / "latin1.txt").write_bytes(b"caf\xe9\n")
    (root / "gone.txt").write_text("delete me\n")
    before = _state(root)

    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "script.sh", "#!/bin/sh\necho changed\n")
    os.chmod(root / "script.sh", 0o644)
    await ws.write_text(root / "bom.txt", "no bom now\n")
    await ws.write_text(root / "bom.txt", "twice in one turn\n")
    await ws.write_text(root / "new.py", "created\n")
    assert (await ws.delete(root / "gone.txt")).applied
    _shell(ws, "printf 'shell' > latin1.txt")
    assert _state(root) != before and ws.checkpoint is not None

    outcome = ws.rollback_turn()
    assert outcome is not None
    assert _state(root) == before
    assert sorted(outcome["restored"]) == ["bom.txt", "gone.txt", "latin1.txt", "script.sh"]
    assert outcome["removed"] == ["new.py"] and outcome["failed"] == []
    assert ws.rollback_turn() is None  # nothing left of this turn


async def test_undo_last_reverts_only_the_last_turn_that_changed_files_and_is_undoable(root: Path) -> None:
    (root / "a.txt").write_text("v0\n")
    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "a.txt", "v1\n")
    ws.begin_turn(2)  # a turn without changes leaves nothing to undo
    ws.begin_turn(3)
    await ws.write_text(root / "a.txt", "v3\n")
    await ws.write_text(root / "b.txt", "new in 3\n")
    ws.finish_turn()

    first = undo_last(root)
    assert first["ok"] and "turn 3" in first["text"], first
    assert (root / "a.txt").read_text() == "v1\n" and not (root / "b.txt").exists()
    second = undo_last(root)
    assert second["ok"] and "turn 1" in second["text"]
    assert (root / "a.txt").read_text() == "v0\n"
    third = undo_last(root)
    assert not third["ok"] and "nothing to undo" in third["text"]
    redo = undo(root, "redo")  # takes back the last undo: turn 1's change
    assert redo["ok"] and (root / "a.txt").read_text() == "v1\n"
    # The state before each undo was kept: restoring it brings turn 3 back.
    assert undo(root, f"to {first['backup']}")["ok"]
    assert (root / "a.txt").read_text() == "v3\n" and (root / "b.txt").read_text() == "new in 3\n"


async def test_restore_to_before_run_n_and_the_list_of_runs(root: Path) -> None:
    (root / "a.txt").write_text("a0\n")
    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "a.txt", "a1\n")
    ws.begin_turn(1)  # turn numbers restart: a new run
    await ws.write_text(root / "b.txt", "b1\n")
    ws.begin_turn(2)
    _shell(ws, "echo a2 > a.txt")
    ws.finish_turn()
    listing = list_checkpoints(root)
    assert [len(r["turns"]) for r in listing["runs"]] == [1, 2], listing
    assert listing["runs"][0]["run"] != listing["runs"][1]["run"]

    assert undo(root, "run 2")["ok"]
    assert (root / "a.txt").read_text() == "a1\n" and not (root / "b.txt").exists()
    assert undo(root, "run 1")["ok"]
    assert (root / "a.txt").read_text() == "a0\n"
    bad = undo(root, "run 9")
    assert not bad["ok"] and "no run '9'" in bad["text"]


async def test_diff_shows_any_range(root: Path) -> None:
    (root / "m.py").write_text("x = 1\n")
    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "m.py", "x = 2\n")
    ws.begin_turn(2)
    await ws.write_text(root / "m.py", "x = 3\n")
    ws.finish_turn()
    last = diff(root)
    assert last["ok"] and "-x = 2\n+x = 3" in last["diff"], last
    since = diff(root, "run 1")
    assert "-x = 1\n+x = 3" in since["diff"]
    t1, t2 = (t["checkpoint"] for t in list_checkpoints(root)["runs"][0]["turns"])
    assert "-x = 1\n+x = 2" in diff(root, f"{t1}..{t2}")["diff"]
    assert "modes.json" not in since["diff"]
    for bad in ("nothere", "../x", "0000000000"):
        out = diff(root, bad)
        assert not out["ok"] and "checkpoint" in out["text"]


async def test_the_store_is_outside_the_workspace_and_leaves_the_users_git_alone(root: Path) -> None:
    git = ["git", "-c", "user.name=u", "-c", "user.email=u@x"]
    (root / ".gitignore").write_text("*.log\n")
    (root / "app.py").write_text("v = 0\n")
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=root, check=True)
    users_git = tree_digest(root / ".git")

    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "app.py", "v = 1\n")
    _shell(ws, "echo noise > run.log && echo new > new.txt")
    ws.finish_turn()
    assert undo_last(root)["ok"]
    assert diff(root)["ok"] and list_checkpoints(root)["ok"]

    assert (root / "app.py").read_text() == "v = 0\n" and not (root / "new.txt").exists()
    assert (root / "run.log").read_text() == "noise\n"  # ignored by the project: not the store's business
    assert tree_digest(root / ".git") == users_git  # index, refs, config, objects: untouched
    store = store_dir(root)
    assert root not in store.parents and (store / "HEAD").is_file()
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert not (root / ".smallcode").exists()


async def test_ignored_files_the_agent_edits_come_back_and_those_it_creates_go(root: Path) -> None:
    (root / ".gitignore").write_text("local.cfg\nbuild/\n")
    (root / "src.py").write_text("s = 0\n")
    (root / "local.cfg").write_text("mine = 1\n")
    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "src.py", "s = 1\n")  # the turn's start: local.cfg not in it (ignored)
    await ws.write_text(root / "local.cfg", "mine = 2\n")
    await ws.write_text(root / "build" / "out.js", "made\n")  # ignored too, and new: undo removes it
    ws.finish_turn()
    assert undo_last(root)["ok"]
    assert (root / "local.cfg").read_text() == "mine = 1\n"
    assert (root / "src.py").read_text() == "s = 0\n"
    assert not (root / "build" / "out.js").exists()
    ws.begin_turn(2)
    await ws.write_text(root / "build" / "out.js", "again\n")
    assert ws.rollback_turn() is not None and not (root / "build" / "out.js").exists()


async def test_binary_symlinks_and_files_over_the_cap(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoints, "MAX_FILE_BYTES", 1000)
    (root / "blob.bin").write_bytes(bytes(range(256)) * 3)
    (root / "big.dat").write_bytes(b"x" * 2000)
    (root / "target.txt").write_text("t\n")
    os.symlink("target.txt", root / "link")
    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    _shell(
        ws,
        "printf '\\x00\\x01' > blob.bin; printf 'y%.0s' {1..3000} > big.dat; rm link; ln -s /etc/passwd l2",
    )
    ws.finish_turn()
    outcome = undo_last(root)
    assert outcome["ok"], outcome
    assert (root / "blob.bin").read_bytes() == bytes(range(256)) * 3
    assert os.readlink(root / "link") == "target.txt" and not (root / "l2").is_symlink()
    assert (root / "big.dat").read_bytes() == b"y" * 3000  # too large to checkpoint: left alone, and said so
    assert outcome["left_alone"] == ["big.dat"] and "too large" in outcome["text"]


# --- a hostile workspace ----------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim").write_text("precious, outside the workspace\n")
    return folder


@pytest.mark.parametrize("existed", [False, True], ids=["created", "edited"])
async def test_undo_never_writes_or_removes_through_a_folder_swapped_for_a_symlink(
    root: Path, outside: Path, existed: bool
) -> None:
    if existed:
        (root / "build").mkdir()
        (root / "build" / "victim").write_text("v0\n")
    before = tree_digest(outside)
    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "build" / "victim", "made by the model\n")
    ws.finish_turn()
    # Then something the shell left running swaps the folder for a symlink to a folder outside.
    os.rename(root / "build", root / "build.old")
    os.symlink(outside, root / "build")
    outcome = undo_last(root)
    assert tree_digest(outside) == before, "undo changed files outside the workspace"
    if existed:  # its old text cannot go back without writing through the symlink: refused, and said so
        assert not outcome["ok"] and "symlink" in outcome["text"], outcome
    assert (root / "build").is_symlink()  # left as it is; nothing written or removed through it


async def test_a_forged_store_restores_nothing_outside(root: Path, outside: Path) -> None:
    before = tree_digest(outside)
    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "a.txt", "a\n")
    ws.finish_turn()
    # Forge a turn whose tree names ../outside/victim (git's own tools refuse to build such a tree).
    store = CheckpointStore(root)
    env = {**os.environ, **store.env}

    def git(*args: str, data: bytes | None = None) -> str:
        done = subprocess.run(["git", *args], env=env, input=data, capture_output=True, check=True)
        return done.stdout.decode().strip()

    def tree(name: str, mode: str, sha: str) -> str:
        return git("hash-object", "-t", "tree", "-w", "--literally", "--stdin",
                   data=f"{mode} {name}\0".encode() + bytes.fromhex(sha))  # fmt: skip

    blob = git("hash-object", "-w", "--stdin", data=b"overwritten\n")
    forged = tree("..", "40000", tree("outside", "40000", tree("victim", "100644", blob)))
    head = git("rev-parse", "refs/heads/checkpoints")
    start = git(
        "commit-tree", git("rev-parse", f"{head}^{{tree}}"), "-p", head, "-m", Meta("start", "r", 1).message()
    )
    end = git("commit-tree", forged, "-p", start, "-m", Meta("turn", "r", 1).message())
    git("update-ref", "refs/heads/checkpoints", end)
    outcome = undo_last(root)
    assert not outcome["ok"] and "invalid path '../outside/victim'" in outcome["text"], outcome
    assert tree_digest(outside) == before


# --- the edit seam --------------------------------------------------------------------------------------


async def test_checkpoints_through_the_real_tools_and_the_disabled_setting(root: Path) -> None:
    (root / "m.py").write_text("x = 1\n")
    registry = ToolRegistry(default_tools())
    ws = CheckpointingWorkspace(FileWorkspace(root))
    ctx = ToolContext(root=root, settings=Settings(), workspace=ws)
    before = _state(root)
    ws.begin_turn(1)
    assert (await registry.execute("read_file", {"path": "m.py"}, ctx)).ok
    assert (await registry.execute("patch", {"path": "m.py", "search": "x = 1", "replace": "x = 2"}, ctx)).ok
    assert (await registry.execute("write_file", {"path": "pkg/new.py", "content": "y\n"}, ctx)).ok
    ws.finish_turn()
    assert undo_last(root)["ok"]
    (root / "pkg").rmdir()  # empty folders made by the turn stay (documented); files are exact
    assert _state(root) == before

    off = CheckpointingWorkspace(FileWorkspace(root), enabled=False)
    off.begin_turn(1)
    await off.write_text(root / "m.py", "z\n")
    assert off.checkpoint is None


async def test_an_unusable_store_refuses_the_edit(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "state").write_text("a file where the state folder should be\n")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (root / "a.txt").write_text("keep\n")
    registry = ToolRegistry(default_tools())
    ctx = ToolContext(root=root, settings=Settings(), workspace=CheckpointingWorkspace(FileWorkspace(root)))
    await registry.execute("read_file", {"path": "a.txt"}, ctx)
    out = await registry.execute("write_file", {"path": "a.txt", "content": "changed\n"}, ctx)
    assert not out.ok and "could not checkpoint a.txt" in out.text and "the edit was not made" in out.text
    assert (root / "a.txt").read_text() == "keep\n"
    assert not undo_last(root)["ok"]  # a clear message, no traceback


async def test_rolling_back_a_worse_edit_restores_that_file_turn_after_turn(root: Path) -> None:
    for i in range(400):
        (root / f"mod{i}.py").write_text(f"value = {i}\n" * 20)
    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "mod0.py", "first\n")  # the first checkpoint reads every file once
    for turn in range(2, 6):
        ws.begin_turn(turn)
        await ws.write_text(root / "mod1.py", f"worse {turn}\n")
        outcome = ws.rollback_turn()
        assert outcome is not None and outcome["restored"] == ["mod1.py"]
    assert (root / "mod1.py").read_text() == "value = 1\n" * 20


def test_a_folder_swapped_during_checkpoints_never_brings_an_outside_file_into_the_store(
    root: Path, outside: Path
) -> None:
    """The shell flips `build` between a folder and a symlink to a folder outside while checkpoints are taken:
    files are read through O_NOFOLLOW descriptors, so no checkpoint ever holds the outside file's bytes."""
    (outside / "victim").write_text("SECRET from outside\n")
    (root / "build").mkdir()
    (root / "build" / "victim").write_text("inside\n")
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                os.rename(root / "build", root / "real")
                os.symlink(outside, root / "build")
                os.unlink(root / "build")
                os.rename(root / "real", root / "build")

    store = CheckpointStore(root)
    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        for i in range(60):
            with contextlib.suppress(OSError):  # through the real folder, whatever `build` is now
                (root / "real" / "victim").write_text(f"inside {i}\n")
            store.commit(Meta("shell", "r", i))
    finally:
        stop.set()
        flipper.join()
    with store._repo() as repo:
        for cp in store.history(repo):
            for _mode, blob in store._entries(repo, cp.sha).values():
                assert b"SECRET" not in repo.odb.stream(bytes.fromhex(blob)).read()
