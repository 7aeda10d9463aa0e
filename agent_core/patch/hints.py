"""Refusal messages written for the model: why, and the file's closest lines with their numbers."""

from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher, get_close_matches

from agent_core.patch.errors import PatchError
from agent_core.patch.lines import Doc, is_blank
from agent_core.patch.stages import loose_matches

_SHOW = 20
"""At most this many file lines in a "did you mean"."""
_COMMON = 60
"""Lines occurring more often than this (blank, `}`, `return`) are no evidence of where a search belongs."""


def closest_window(doc: Doc, search: list[str]) -> tuple[int, int] | None:
    """The file lines [start, end) most like `search`, if any are reasonably alike."""
    body = [(k, x.strip()) for k, x in enumerate(search) if not is_blank(x)]
    if not body or not doc.lines:
        return None
    votes: Counter[int] = Counter()
    for k, key in body:
        hits = doc.index.get(key, [])
        if len(hits) <= _COMMON:
            votes.update(f - k for f in hits)
    starts = [s for s, _ in votes.most_common(8)]
    if not starts:
        keys = [key for key in doc.index if key]
        for k, key in body[:3]:
            for close in get_close_matches(key, keys, n=3, cutoff=0.6):
                starts.extend(f - k for f in doc.index[close][:5])
    want = "\n".join(key for _, key in body)
    best: tuple[float, int, int] | None = None
    for start in dict.fromkeys(starts):
        lo = max(0, start)
        hi = min(len(doc.lines), start + len(search))
        if hi <= lo:
            continue
        have = "\n".join(x.strip() for x in doc.lines[lo:hi] if not is_blank(x))
        ratio = SequenceMatcher(None, have, want, autojunk=False).ratio()
        if best is None or ratio > best[0]:
            best = (ratio, lo, hi)
    if best is None or best[0] < 0.4:
        return None
    return best[1], best[2]


def numbered(doc: Doc, start: int, end: int) -> str:
    end = min(end, start + _SHOW)
    return "\n".join(f"{n + 1}| {doc.lines[n]}" for n in range(start, end))


def not_found(doc: Doc, search: list[str], replace: list[str]) -> PatchError:
    parts = ["No match: the search text is not in the file (not even ignoring whitespace and indentation)."]
    lines: tuple[int, ...] = ()
    window = closest_window(doc, search)
    if window is not None:
        start, end = window
        lines = (start + 1,)
        parts.append(f"Did you mean these lines ({start + 1}-{end})?\n{numbered(doc, start, end)}")
    done = loose_matches(doc, replace) if any(not is_blank(x) for x in replace) else []
    if done:
        parts.append(
            f"The replace text is already in the file at line {done[0][0].start + 1}: this change may "
            "already be applied. read_file to check before patching again."
        )
    parts.append(
        "Copy the lines to change exactly as they are in the file (read_file shows them), "
        "then send the patch again; a few unique lines around the change are enough."
    )
    return PatchError("\n".join(parts), reason="not_found", lines=lines)


def ambiguous(first_lines: list[int], how: str) -> PatchError:
    starts = sorted(set(first_lines))
    shown = ", ".join(str(n) for n in starts[:8]) + (", …" if len(starts) > 8 else "")
    note = f" {how}" if how else ""
    where = (
        f"matches {len(first_lines)} places{note} (starting at lines {shown})"
        if len(starts) == len(first_lines)
        else f"fits {len(first_lines)} different spans of the file{note} (starting at line {shown})"
    )
    return PatchError(
        f"Ambiguous: the search text {where}; nothing was changed. Add a few neighbouring lines to search "
        "(for example the def or class line above) so it matches exactly one place.",
        reason="ambiguous",
        lines=tuple(starts),
    )
