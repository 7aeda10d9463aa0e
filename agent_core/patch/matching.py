"""The matching cascade: apply the edit at the one place the search can mean, or refuse.

Stages, strictest first; the first stage that finds anything decides — one place: apply, several: refuse
(never "the first one"): exact text → line endings → trailing whitespace → uniform indentation shift →
blank lines → `...` elision → anchored (first and last lines equal, the middle highly similar).
The text's BOM, line endings and final newline are kept; lines the edit does not touch are kept byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent_core.patch import hints
from agent_core.patch.errors import PatchError
from agent_core.patch.lines import BOM, Doc, model_lines
from agent_core.patch.render import Candidate, Segment, render
from agent_core.patch.stages import (
    match_anchored,
    match_blank_lines,
    match_elided,
    match_indent,
    match_trailing_ws,
    split_elided,
)

STAGES = (
    "exact",
    "line endings",
    "trailing whitespace",
    "indentation",
    "blank lines",
    "elision",
    "anchored",
)


@dataclass(frozen=True)
class EditOutcome:
    text: str
    """The whole new text."""
    stage: str
    """Which cascade stage matched (one of STAGES)."""
    first_line: int
    last_line: int
    """1-based lines of the original text the search matched."""


def apply_edit(text: str, search: str, replace: str) -> EditOutcome:
    """Apply one search/replace edit; raise PatchError (message for the model) unless exactly one place fits."""
    search = search.removeprefix(BOM)
    replace = replace.removeprefix(BOM)
    if not search.strip():
        raise PatchError(
            "search is empty: copy the exact lines to change from the file (read_file first); "
            "to create a file or rewrite it whole use write_file.",
            reason="invalid",
        )
    if search == replace:
        raise PatchError(
            "search and replace are identical, so nothing would change. Put the new text in replace.",
            reason="invalid",
        )
    bom = BOM if text.startswith(BOM) else ""
    body = text[len(bom) :]
    outcome = (
        _exact(body, search, replace)
        or _line_endings(body, search, replace)
        or _by_lines(body, search, replace)
    )
    return EditOutcome(bom + outcome.text, outcome.stage, outcome.first_line, outcome.last_line)


def _positions(text: str, needle: str, limit: int = 50) -> list[int]:
    """Every start of `needle` in `text`, overlapping ones too (they are separate candidate places)."""
    found: list[int] = []
    at = text.find(needle)
    while at != -1 and len(found) < limit:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def _line_aligned(text: str, at: int, needle: str) -> bool:
    end = at + len(needle)
    starts = at == 0 or text[at - 1] == "\n"
    ends = needle.endswith("\n") or end == len(text) or text[end] in "\r\n"
    return starts and ends


def _splice(text: str, at: int, search: str, replace: str, stage: str) -> EditOutcome:
    end = at + len(search)
    line_start = text.rfind("\n", 0, at) + 1
    ends_line = search.endswith("\n") or end == len(text) or text[end] in "\r\n"
    if at > line_start and not text[line_start:at].strip() and "\n" in search.rstrip("\r\n") and ends_line:
        # Whole lines whose first one lost its indentation: a plain splice would leave that indentation in
        # front of whatever replaces the first line, so treat it as a line edit (re-indented per block).
        return _as_lines(text, text.count("\n", 0, at), search, replace, stage)
    # Keep the line structure: a search ending a line and a replace that does not (or the other way
    # round) would join or split lines the model did not mean to touch.
    if search.endswith("\n") and replace and not replace.endswith("\n"):
        replace += "\r\n" if search.endswith("\r\n") else "\n"
    elif not search.endswith("\n") and replace.endswith("\n") and (end == len(text) or text[end] in "\r\n"):
        replace = replace.removesuffix("\n").removesuffix("\r")
    newline = _local_newline(text, at)
    if newline:
        replace = _convert(replace, newline)
    first = text.count("\n", 0, at) + 1
    last = first + search.rstrip("\n").count("\n")
    return EditOutcome(text[:at] + replace + text[end:], stage, first, last)


def _local_newline(text: str, at: int) -> str:
    """The line ending used where the match is (new lines get the same); "" when the text has no line
    ending at all, so the replacement's own endings are kept (a one-line file says nothing about its style)."""
    if "\n" not in text:
        return ""
    after = text.find("\n", at)
    if after == -1:
        after = text.rfind("\n", 0, at)
    return "\r\n" if after > 0 and text[after - 1] == "\r" else "\n"


def _as_lines(text: str, first: int, search: str, replace: str, stage: str) -> EditOutcome:
    doc = Doc.parse(text)
    s_lines, r_lines = model_lines(search), model_lines(replace)
    pairs = {k: first + k for k in range(len(s_lines))}
    cand = Candidate([Segment(first, first + len(s_lines), s_lines, r_lines, pairs)])
    return EditOutcome(render(doc, cand, strip_new=False), stage, first + 1, first + len(s_lines))


def _unique_place(text: str, needle: str) -> tuple[int | None, list[int]]:
    """(the one place, []) or (None, all places) — overlapping and line-aligned matches considered."""
    places = _positions(text, needle)
    if len(places) == 1:
        return places[0], []
    aligned = [p for p in places if _line_aligned(text, p, needle)]
    if len(places) > 1 and len(aligned) == 1:
        # "x = 1" matches inside "x = 10" too; the model copies whole lines, so the whole-line match is it.
        return aligned[0], []
    return None, places


def _exact(text: str, search: str, replace: str) -> EditOutcome | None:
    at, places = _unique_place(text, search)
    if at is not None:
        _check_indent_rivals(text, at, search)
        return _splice(text, at, search, replace, "exact")
    if places:
        raise hints.ambiguous([text.count("\n", 0, p) + 1 for p in places], "")
    return None


def _check_indent_rivals(text: str, at: int, search: str) -> None:
    """A match that starts inside a line's indentation is only "exact" by accident ("  x = 1" inside
    "    x = 1"): if other places fit once indentation is ignored, the search is ambiguous."""
    line_start = text.rfind("\n", 0, at) + 1
    if at == line_start or text[line_start:at].strip():
        return
    first = text.count("\n", 0, at) + 1
    rivals = [c.start + 1 for c in match_indent(Doc.parse(text), model_lines(search))]
    if any(line != first for line in rivals):
        raise hints.ambiguous(sorted({first, *rivals}), "ignoring indentation")


def _convert(s: str, newline: str) -> str:
    return s.replace("\r\n", "\n").replace("\n", newline)


def _line_endings(text: str, search: str, replace: str) -> EditOutcome | None:
    found: list[tuple[int, str]] = []
    styles = []
    if "\r\n" in text:
        styles.append("\r\n")
    if text.count("\n") > text.count("\r\n"):
        styles.append("\n")
    for newline in styles:
        converted = _convert(search, newline)
        if converted == search:
            continue
        at, places = _unique_place(text, converted)
        found.extend((p, newline) for p in ([at] if at is not None else places))
    if len(found) == 1:
        at, newline = found[0]
        _check_indent_rivals(text, at, _convert(search, newline))
        return _splice(text, at, _convert(search, newline), _convert(replace, newline), "line endings")
    if found:
        raise hints.ambiguous([text.count("\n", 0, p) + 1 for p, _ in found], "once line endings are ignored")
    return None


_Finder = Callable[[Doc, list[str]], list[Candidate]]
_LINE_STAGES: tuple[tuple[str, _Finder, str], ...] = (
    ("trailing whitespace", match_trailing_ws, "ignoring trailing whitespace"),
    ("indentation", match_indent, "ignoring indentation"),
    ("blank lines", match_blank_lines, "ignoring indentation and blank lines"),
    ("elision", match_elided, "with `...` standing for any lines"),
    ("anchored", match_anchored, "by first and last lines"),
)


def _by_lines(text: str, search: str, replace: str) -> EditOutcome:
    doc = Doc.parse(text)
    s_lines, r_lines = model_lines(search), model_lines(replace)
    for stage, finder, how in _LINE_STAGES:
        cands = finder(doc, s_lines)
        if not cands:
            continue
        if len(cands) > 1:
            raise hints.ambiguous([c.start + 1 for c in cands], how)
        cand = cands[0]
        _attach_replace(cand, stage, r_lines)
        new = render(doc, cand, strip_new=True, strict_pairs=stage == "anchored")
        return EditOutcome(new, stage, cand.start + 1, cand.end)
    raise hints.not_found(doc, s_lines, r_lines)


def _attach_replace(cand: Candidate, stage: str, replace: list[str]) -> None:
    if stage != "elision":
        cand.segments[0].replace = replace
        return
    pieces = split_elided(replace)
    if len(pieces) != len(cand.segments):
        raise PatchError(
            f"the search has {len(cand.segments) - 1} `...` line(s) but the replace has "
            f"{max(len(pieces) - 1, 0)}: put `...` in replace at the same places as in search "
            "(or copy the elided lines out in full), then send the patch again.",
            reason="invalid",
        )
    for seg, piece in zip(cand.segments, pieces, strict=True):
        seg.replace = piece
