"""Patch spiral: a model that keeps failing to patch one file is told to rewrite it whole.

Small models that miss a search twice tend to miss it forever, each retry costing a turn. After `limit`
failed patches on the same file in a run (a patch that applies, or a write of the whole file, starts the
count over), the tracker returns a message telling the model to send the whole file with write_file.

    tracker = PatchSpiralTracker()
    note = tracker.record_failure("src/app.py")  # after a failed patch; str once the spiral is reached
    if note: result_text += "\\n" + note
    tracker.record_success("src/app.py")         # after a patch that applied (the count starts over)
    tracker.record_write("src/app.py")           # after write_file: the file is back to normal
"""

from __future__ import annotations

import posixpath


def _key(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/")).removeprefix("./")


class PatchSpiralTracker:
    def __init__(self, limit: int = 2) -> None:
        self.limit = limit
        self._failures: dict[str, int] = {}

    def record_failure(self, path: str) -> str | None:
        """Count a failed patch on `path`; the rewrite message once the limit is reached, else None."""
        key = _key(path)
        self._failures[key] = self._failures.get(key, 0) + 1
        if self._failures[key] < self.limit:
            return None
        return self.message(path)

    def record_success(self, path: str) -> None:
        self._failures.pop(_key(path), None)

    def record_write(self, path: str) -> None:
        """The file was rewritten whole: no spiral any more."""
        self._failures.pop(_key(path), None)

    def failures(self, path: str) -> int:
        return self._failures.get(_key(path), 0)

    def message(self, path: str) -> str:
        count = max(self._failures.get(_key(path), 0), self.limit)
        return (
            f"Patching {path} has failed {count} times. Stop patching it: read_file {path} once more, then "
            f"call write_file with path {path!r} and the complete new content of the file (every line, "
            "with your change made). write_file is allowed for this file now."
        )
