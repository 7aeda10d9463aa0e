"""Helper process for the kill -9 test: rewrites many files through the real edit seam, forever.

python -m tests.safety.edit_worker ROOT NFILES — prints "W <round> <file>" (flushed) before each write.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from pathlib import Path

from agent_core.safety.checkpointing import CheckpointingWorkspace
from agent_core.workspace import FileWorkspace

PAYLOAD_LINES = 20_000


def content(tag: str) -> str:
    """A large text whose every line depends on `tag`, ending in a checksum: torn copies are detectable."""
    body = "".join(
        f"{tag} line {i} {hashlib.md5(f'{tag}{i}'.encode()).hexdigest()}\n" for i in range(PAYLOAD_LINES)
    )
    return body + f"END {hashlib.sha256(body.encode()).hexdigest()}\n"


async def main(root: Path, nfiles: int) -> None:
    ws = CheckpointingWorkspace(FileWorkspace(root))
    ws.begin_turn(1)
    round_no = 0
    while True:
        round_no += 1
        for i in range(nfiles):
            print(f"W {round_no} {i}", flush=True)
            await ws.write_text(root / f"f{i}.txt", content(f"new-{round_no}-{i}"))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
