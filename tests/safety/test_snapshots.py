"""Snapshots and rollback: bytes, modes, created and deleted files come back exactly."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from agent_core.config import Settings
from agent_core.safety.snapshots import (
    SnapshotStore,
    SnapshottingWorkspace,
    rollback,
    snapshots_dir,
    undo_last,
)
from agent_core.tools import ToolRegistry, default_tools
from agent_core.tools.base import ToolContext
from agent_core.workspace import FileWorkspace


def _state(root: Path) -> dict[str, tuple[bytes, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        if ".smallcode" in path.parts or not path.is_file():
            continue
        out[path.relative_to(root).as_posix()] = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
    return out


async def test_rollback_restores_bytes_modes_created_and_deleted_files(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "script.sh").write_bytes(b"#!/bin/sh\r\necho caf\xc3\xa9\r\n")
    os.chmod(root / "script.sh", 0o751)
    (root / "bom.txt").write_bytes(b"\xef\xbb\xbfline\n")
    os.chmod(root / "bom.txt", 0o600)
    (root / "gone.txt").write_text("delete me\n")
    before = _state(root)

    ws = SnapshottingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "script.sh", "#!/bin/sh\necho changed\n")
    os.chmod(root / "script.sh", 0o644)
    await ws.write_text(root / "bom.txt", "no bom now\n")
    await ws.write_text(root / "bom.txt", "twice in one turn\n")  # the first snapshot wins
    await ws.write_text(root / "new.py", "created\n")
    assert (await ws.delete(root / "gone.txt")).applied
    assert _state(root) != before
    snapshot_id = ws.snapshot_id
    assert snapshot_id is not None and snapshot_id.endswith("-1")

    outcome = ws.rollback_turn()
    assert outcome is not None
    assert _state(root) == before
    assert sorted(outcome["restored"]) == ["bom.txt", "gone.txt", "script.sh"]
    assert outcome["removed"] == ["new.py"]
    assert outcome["failed"] == []


async def test_undo_last_reverts_only_the_last_editing_turn_and_is_itself_undoable(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("v0\n")
    ws = SnapshottingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "a.txt", "v1\n")
    ws.begin_turn(2)  # a turn without edits leaves no snapshot
    ws.begin_turn(3)
    await ws.write_text(root / "a.txt", "v3\n")
    await ws.write_text(root / "b.txt", "new in 3\n")

    first = undo_last(root)
    assert first["ok"] and "turn 3" in first["text"]
    assert (root / "a.txt").read_text() == "v1\n" and not (root / "b.txt").exists()
    second = undo_last(root)
    assert second["ok"] and "turn 1" in second["text"]
    assert (root / "a.txt").read_text() == "v0\n"
    third = undo_last(root)
    assert not third["ok"] and "nothing to undo" in third["text"]
    # The state before each undo was kept: undoing the undo brings turn 3 back.
    rollback(root, first["backup"])
    assert (root / "a.txt").read_text() == "v3\n" and (root / "b.txt").read_text() == "new in 3\n"


async def test_new_run_gets_new_snapshot_ids(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    ws = SnapshottingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    await ws.write_text(root / "x", "1")
    first = ws.snapshot_id
    ws.begin_turn(1)  # turn numbers restart: a new run
    await ws.write_text(root / "x", "2")
    assert ws.snapshot_id != first
    assert len(SnapshotStore(root).manifests()) == 2


async def test_blobs_are_content_addressed_and_deduplicated(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    for name in ("a", "b", "c"):
        (root / name).write_text("same content\n")
    ws = SnapshottingWorkspace(FileWorkspace(root))
    for turn in (1, 2):
        ws.begin_turn(turn)
        for name in ("a", "b", "c"):
            await ws.write_text(root / name, "same content\n")
    blobs = list((snapshots_dir(root) / "blobs").glob("*/*"))
    assert len(blobs) == 1
    assert stat.S_IMODE(blobs[0].stat().st_mode) == 0o600
    manifest = json.loads((snapshots_dir(root) / f"{ws.run_id}-2" / "manifest.json").read_text())
    assert [e["path"] for e in manifest["entries"]] == ["a", "b", "c"]
    assert all(e["existed"] and e["mode"] is not None for e in manifest["entries"])


async def test_prune_by_age_and_size_keeps_needed_blobs(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    ws = SnapshottingWorkspace(FileWorkspace(root))
    for turn in range(1, 5):
        (root / f"f{turn}").write_bytes(bytes([turn]) * 10_000)
        ws.begin_turn(turn)
        await ws.write_text(root / f"f{turn}", "x")
    store = SnapshotStore(root)
    ids = [m.id for m in store.manifests()]
    assert len(ids) == 4
    # Age: make the first snapshot old.
    old = store.load(ids[0])
    old.created = time.time() - 30 * 86400
    store.save(old)
    assert store.prune(max_age_days=14) == [ids[0]]
    # Size: three blobs of 10 kB; a 25 kB cap drops the oldest until it fits, blobs go with them.
    assert store.prune(max_bytes=25_000) == [ids[1]]
    assert [m.id for m in store.manifests()] == ids[2:]
    assert len(list((snapshots_dir(root) / "blobs").glob("*/*"))) == 2
    assert store.prune(max_bytes=0, keep={ids[3]}) == [ids[2]]


async def test_snapshots_through_the_real_tools_and_disabled_setting(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "m.py").write_text("x = 1\n")
    registry = ToolRegistry(default_tools())
    ws = SnapshottingWorkspace(FileWorkspace(root))
    ctx = ToolContext(root=root, settings=Settings(), workspace=ws)
    before = _state(root)
    ws.begin_turn(1)
    assert (await registry.execute("read_file", {"path": "m.py"}, ctx)).ok
    assert (await registry.execute("patch", {"path": "m.py", "search": "x = 1", "replace": "x = 2"}, ctx)).ok
    assert (await registry.execute("write_file", {"path": "pkg/new.py", "content": "y\n"}, ctx)).ok
    assert undo_last(root)["ok"]
    (root / "pkg").rmdir()  # empty folders made by the turn stay (documented); files are exact
    assert _state(root) == before

    off = SnapshottingWorkspace(FileWorkspace(root), enabled=False)
    off.begin_turn(1)
    await off.write_text(root / "m.py", "z\n")
    assert off.snapshot_id is None


async def test_snapshot_failure_refuses_the_edit(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text("keep\n")
    (root / ".smallcode").write_text("a file where the snapshot folder should be\n")
    registry = ToolRegistry(default_tools())
    ws = SnapshottingWorkspace(FileWorkspace(root))
    ctx = ToolContext(root=root, settings=Settings(), workspace=ws)
    await registry.execute("read_file", {"path": "a.txt"}, ctx)
    out = await registry.execute("write_file", {"path": "a.txt", "content": "changed\n"}, ctx)
    assert not out.ok and "could not snapshot a.txt" in out.text and "the edit was not made" in out.text
    assert (root / "a.txt").read_text() == "keep\n"
