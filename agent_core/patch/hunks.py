"""A proposed change as hunks a person can accept or reject one by one, and the text with only the accepted ones.

The hunks are unified diff's (3 lines of context; changes closer than that share a hunk), so what a reviewer
sees matches `git diff`. Applying a subset never needs the diff text: each hunk keeps the line ranges it
replaces, and the result is rebuilt from the old and new texts.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from agent_core.patch.diff import _lines


@dataclass(frozen=True)
class Hunk:
    id: int
    old_start: int
    """1-based first line of the old text the hunk shows (unified diff's convention for empty ranges)."""
    old_lines: int
    new_start: int
    new_lines: int
    lines: list[str]
    """' context', '-removed', '+added', without line ends."""
    changes: list[tuple[int, int, int, int]] = field(repr=False)
    """(old i1, old i2, new j1, new j2) of each replaced range, 0-based half-open."""

    @property
    def header(self) -> str:
        return f"@@ -{_range(self.old_start, self.old_lines)} +{_range(self.new_start, self.new_lines)} @@"

    def as_dict(self) -> dict[str, Any]:
        """The hunk as the editor protocol sends it (smallcode/review)."""
        return {
            "id": self.id,
            "header": self.header,
            "oldStart": self.old_start,
            "oldLines": self.old_lines,
            "newStart": self.new_start,
            "newLines": self.new_lines,
            "lines": self.lines,
        }

    def text(self) -> str:
        """The hunk as diff text (header and lines), for a message to the model."""
        return "\n".join([self.header, *self.lines])


def split_hunks(old: str, new: str, context: int = 3) -> list[Hunk]:
    """The change from `old` to `new` as unified diff hunks, numbered from 0."""
    a, b = _lines(old), _lines(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    hunks: list[Hunk] = []
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        old_start, old_end, new_start, new_end = first[1], last[2], first[3], last[4]
        lines: list[str] = []
        changes: list[tuple[int, int, int, int]] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [" " + _bare(line) for line in a[i1:i2]]
                continue
            lines += ["-" + _bare(line) for line in a[i1:i2]]
            lines += ["+" + _bare(line) for line in b[j1:j2]]
            changes.append((i1, i2, j1, j2))
        hunks.append(
            Hunk(
                id=len(hunks),
                old_start=_start(old_start, old_end),
                old_lines=old_end - old_start,
                new_start=_start(new_start, new_end),
                new_lines=new_end - new_start,
                lines=lines,
                changes=changes,
            )
        )
    return hunks


def apply_hunks(old: str, new: str, accepted: set[int], context: int = 3) -> str:
    """`old` with only the accepted hunks of the change to `new` (by the ids split_hunks gave them)."""
    a, b = _lines(old), _lines(new)
    out: list[str] = []
    at = 0
    for hunk in split_hunks(old, new, context):
        for i1, i2, j1, j2 in hunk.changes:
            out += a[at:i1]
            out += b[j1:j2] if hunk.id in accepted else a[i1:i2]
            at = i2
    out += a[at:]
    return "".join(out)


def _bare(line: str) -> str:
    return line[:-1] if line.endswith("\n") else line


def _start(begin: int, end: int) -> int:
    """unified diff's start line: 1-based, or the line before an empty range."""
    return begin + 1 if end > begin else begin


def _range(start: int, length: int) -> str:
    return str(start) if length == 1 else f"{start},{length}"
