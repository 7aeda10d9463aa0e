"""Turn a located match into the new text: untouched lines byte for byte, new lines in the file's style.

The model's search and replace are diffed line by line. Lines the model kept are copied from the file (so
its real indentation, trailing whitespace and endings survive even when the model's copy drifted); lines it
changed are re-indented by the shift measured at that spot and get the file's line ending. File lines the
search skipped (blank lines, elided code) are kept unless they sit inside a region the model rewrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from agent_core.patch.errors import PatchError
from agent_core.patch.lines import Doc, is_blank, join_lines
from agent_core.patch.shift import Shift, common_shift, shift_between


@dataclass
class Segment:
    """One contiguous region of the file matched by (part of) the search."""

    start: int
    end: int
    """File lines [start, end), 0-based."""
    search: list[str]
    replace: list[str]
    pairs: dict[int, int] = field(default_factory=dict)
    """Search line index → file line index, for the lines that correspond."""


@dataclass
class Candidate:
    segments: list[Segment]

    @property
    def start(self) -> int:
        return self.segments[0].start

    @property
    def end(self) -> int:
        return self.segments[-1].end


def render(doc: Doc, cand: Candidate, *, strip_new: bool, strict_pairs: bool = False) -> str:
    items: list[tuple[str, str]] = []
    cursor = 0
    for seg in cand.segments:
        items.extend(zip(doc.lines[cursor : seg.start], doc.ends[cursor : seg.start], strict=True))
        items.extend(_render_segment(doc, seg, strip_new=strip_new, strict_pairs=strict_pairs))
        cursor = seg.end
    items.extend(zip(doc.lines[cursor:], doc.ends[cursor:], strict=True))
    return join_lines(items, doc.newline, doc.final_newline)


def _render_segment(doc: Doc, seg: Segment, *, strip_new: bool, strict_pairs: bool) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    newline = doc.ends[seg.start] if seg.start < len(doc.ends) and doc.ends[seg.start] else doc.newline
    default = common_shift(seg.pairs, seg.search, doc.lines)
    cursor = seg.start

    def keep(upto: int) -> None:
        nonlocal cursor
        if upto > cursor:
            out.extend(zip(doc.lines[cursor:upto], doc.ends[cursor:upto], strict=True))
            cursor = upto

    matcher = SequenceMatcher(
        None, [x.rstrip() for x in seg.search], [x.rstrip() for x in seg.replace], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i1, i2):
                f = seg.pairs.get(k)
                if f is not None and f >= cursor:
                    keep(f + 1)
            continue
        if strict_pairs:
            _check_paired(doc, seg, i1, i2)
        mapped = sorted(f for k in range(i1, i2) if (f := seg.pairs.get(k)) is not None and f >= cursor)
        if mapped:
            keep(mapped[0])
            cursor = mapped[-1] + 1
        shift = _block_shift(doc, seg, i1, i2, default)
        for line in seg.replace[j1:j2]:
            new = shift.apply(line)
            out.append((new.rstrip() if strip_new else new, newline))
    keep(seg.end)
    return out


def _block_shift(doc: Doc, seg: Segment, i1: int, i2: int, default: Shift) -> Shift:
    """The shift measured on the first paired non-blank line of the changed block, else the common one."""
    for k in range(i1, i2):
        f = seg.pairs.get(k)
        if f is not None and not is_blank(seg.search[k]) and not is_blank(doc.lines[f]):
            return shift_between(doc.lines[f], seg.search[k])
    return default


def _check_paired(doc: Doc, seg: Segment, i1: int, i2: int) -> None:
    """A changed search line with no counterpart in the file: we cannot tell what it meant, so refuse."""
    for k in range(i1, i2):
        if k not in seg.pairs and not is_blank(seg.search[k]):
            shown = "\n".join(f"{n + 1}| {doc.lines[n]}" for n in range(seg.start, seg.end))
            raise PatchError(
                f"the search line {seg.search[k].strip()!r} (which your replace changes) is not in the file "
                f"near lines {seg.start + 1}-{seg.end}. The file has:\n{shown}\n"
                "Copy the lines to change exactly from the file and send the patch again.",
                reason="not_found",
                lines=(seg.start + 1,),
            )
