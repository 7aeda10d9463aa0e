"""Unified diffs of applied edits — the same text the editor shows as a preview."""

from __future__ import annotations

import difflib

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

_NO_NEWLINE = "\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def unified_diff(path: str, old: str | None, new: str, context: int = 3) -> str:
    """A git-style unified diff of one file: `old` None for a new file (from /dev/null), "" for an empty one;
    "" when an existing file is unchanged."""
    src = "/dev/null" if old is None else f"a/{path}"
    if old == new:
        return ""
    if old is None and not new:  # a new empty file: the headers alone say it was created
        return f"--- {src}\n+++ b/{path}\n"
    out: list[str] = []
    lines = difflib.unified_diff(_lines(old or ""), _lines(new), src, f"b/{path}", n=context, lineterm="\n")
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:  # a last line without a newline, marked the way git and patch(1) expect
            out.append(line + "\n" + _NO_NEWLINE)
    return "".join(out)


def diff_stats(diff: str) -> tuple[int, int]:
    """(lines added, lines removed) of a unified diff; (0, 0) for an empty or unreadable one."""
    if not diff:
        return 0, 0
    try:
        patch = PatchSet.from_string(diff)
    except UnidiffParseError:
        return 0, 0
    return sum(f.added for f in patch), sum(f.removed for f in patch)
