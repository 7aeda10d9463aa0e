"""Patch spiral: a model that keeps failing to patch one file is told to rewrite it whole.

Small models that miss a search twice tend to miss it forever, each retry costing a turn. After `limit`
failed patches on the same file within one turn (the caller says when a turn starts), the tracker returns
a message telling the model to send the whole file with write_file, and from then on reports that
write_file is allowed for that file (even where a patch-first policy or the write guard would refuse it)
until the file is written.

    tracker = PatchSpiralTracker()
    tracker.new_turn()                           # at the start of each turn
    note = tracker.record_failure("src/app.py")  # after a failed patch; str once the spiral is reached
    if note: result_text += "\\n" + note
    tracker.record_success("src/app.py")         # after a patch that applied (the count starts over)
    tracker.rewrite_allowed("src/app.py")        # write guard: let write_file through for this file
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
        self._allowed: set[str] = set()

    def new_turn(self) -> None:
        """Forget this turn's failure counts (files already allowed a rewrite stay allowed)."""
        self._failures.clear()

    def record_failure(self, path: str) -> str | None:
        """Count a failed patch on `path`; the rewrite message once the limit is reached, else None."""
        key = _key(path)
        self._failures[key] = self._failures.get(key, 0) + 1
        if self._failures[key] < self.limit:
            return None
        self._allowed.add(key)
        return self.message(path)

    def record_success(self, path: str) -> None:
        self._failures.pop(_key(path), None)

    def record_write(self, path: str) -> None:
        """The file was rewritten whole: no spiral any more."""
        key = _key(path)
        self._failures.pop(key, None)
        self._allowed.discard(key)

    def failures(self, path: str) -> int:
        return self._failures.get(_key(path), 0)

    def should_rewrite(self, path: str) -> bool:
        """True once `path` failed `limit` times in this turn."""
        return self._failures.get(_key(path), 0) >= self.limit

    def rewrite_allowed(self, path: str) -> bool:
        """True from the spiral until the file is written: write_file may replace it whole."""
        return _key(path) in self._allowed

    def message(self, path: str) -> str:
        count = max(self._failures.get(_key(path), 0), self.limit)
        return (
            f"Patching {path} has failed {count} times. Stop patching it: read_file {path} once more, then "
            f"call write_file with path {path!r} and the complete new content of the file (every line, "
            "with your change made). write_file is allowed for this file now."
        )
