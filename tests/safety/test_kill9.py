"""kill -9 in the middle of a multi-file edit: every file is old or new, never torn; rollback restores all."""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

from agent_core.safety.checkpointing import undo_last
from agent_core.safety.checkpoints import CheckpointStore
from tests.safety.edit_worker import content

REPO = Path(__file__).resolve().parents[2]
NFILES = 6


def _valid(text: str) -> str | None:
    """The tag of a complete file written by the worker (or the original), None when torn."""
    match = re.match(r"(\S+) line 0 ", text)
    if match is None or not text.endswith("\n"):
        return None
    body, _, last = text[:-1].rpartition("\n")
    if last != f"END {hashlib.sha256((body + chr(10)).encode()).hexdigest()}":
        return None
    return match.group(1) if text == content(match.group(1)) else None


def test_kill_9_mid_edit_leaves_every_file_old_or_new(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    originals = {}
    for i in range(NFILES):
        originals[i] = content(f"old-{i}")
        (root / f"f{i}.txt").write_text(originals[i])
    rng = random.Random(1234)
    for attempt in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.safety.edit_worker", str(root), str(NFILES)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        stop_after = rng.randint(1, 3 * NFILES)
        for _ in range(stop_after):  # wait for the worker to announce its k-th write, then kill it
            assert proc.stdout.readline().startswith("W ")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        tags = {}
        for i in range(NFILES):
            text = (root / f"f{i}.txt").read_text()
            tag = _valid(text)
            assert tag is not None, f"attempt {attempt}: f{i}.txt is torn"
            assert tag == f"old-{i}" or re.fullmatch(rf"new-\d+-{i}", tag), tag
            tags[i] = tag
        # The files were checkpointed before the first write, so undo brings back the originals exactly.
        outcome = undo_last(root)
        if not outcome["ok"]:  # killed before its first snapshot: nothing had been touched yet
            assert "nothing to undo" in outcome["text"]
            assert all(tag == f"old-{i}" for i, tag in tags.items())
        for i in range(NFILES):
            assert (root / f"f{i}.txt").read_text() == originals[i], (
                f"attempt {attempt}: f{i}.txt not restored"
            )
        leftovers = [p for p in root.iterdir() if p.name.endswith(".smallcode-tmp")]
        for p in leftovers:  # a kill mid-write may leave the temporary file; never the target torn
            os.unlink(p)
    assert len(CheckpointStore(root).all()) >= 8
