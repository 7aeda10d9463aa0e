"""The line-based stages of the cascade. Each returns every candidate place it finds (the caller decides).

Search lines come in the model's frame; a candidate pairs them with the file's lines. Every stage only
accepts what its name says: trailing whitespace, one uniform indentation shift, blank lines, `...`
elision, or an anchored match whose first and last lines agree and whose middle is highly similar.
"""

from __future__ import annotations

import bisect
import re
from difflib import SequenceMatcher

from agent_core.patch.lines import Doc, is_blank
from agent_core.patch.render import Candidate, Segment
from agent_core.patch.shift import Shift, shift_between

_LIMIT = 20
"""Stop collecting candidates past this: the answer is already "ambiguous"."""

ANCHOR_APPLY = 0.8
"""Similarity of the middle lines an anchored match needs to apply."""
ANCHOR_RIVAL = 0.6
"""A second anchored place at least this similar makes the match ambiguous."""

_ELISION = re.compile(
    r"^\s*(?:(?:#|//|--|;|/\*|<!--)\s*)?(?:\.\.\.|…)(?:[\w\s,.'()-]*?(?:\.\.\.|…))?\s*(?:\*/|-->)?\s*$"
)


def _first_body(search: list[str]) -> tuple[int, str] | None:
    for k, line in enumerate(search):
        if not is_blank(line):
            return k, line.strip()
    return None


def _starts(doc: Doc, search: list[str]) -> list[int]:
    first = _first_body(search)
    if first is None:
        return []
    k0, body = first
    return [f - k0 for f in doc.index.get(body, [])]


def match_trailing_ws(doc: Doc, search: list[str]) -> list[Candidate]:
    out: list[Candidate] = []
    keys = [x.rstrip() for x in search]
    n = len(search)
    for start in _starts(doc, search):
        if start < 0 or start + n > len(doc.lines):
            continue
        if all(doc.lines[start + k].rstrip() == keys[k] for k in range(n)):
            out.append(_whole(start, search))
            if len(out) >= _LIMIT:
                break
    return out


def match_indent(doc: Doc, search: list[str]) -> list[Candidate]:
    """Every non-blank line shifted by the same indentation; blank lines where the search has them."""
    out: list[Candidate] = []
    n = len(search)
    for start in _starts(doc, search):
        if start < 0 or start + n > len(doc.lines):
            continue
        shift: Shift | None = None
        for k in range(n):
            f_line, s_line = doc.lines[start + k], search[k]
            if is_blank(s_line) or is_blank(f_line):
                if is_blank(s_line) != is_blank(f_line):
                    break
                continue
            if f_line.strip() != s_line.strip():
                break
            here = shift_between(f_line, s_line)
            if shift is None:
                shift = here
            elif here != shift:
                break
        else:
            out.append(_whole(start, search))
            if len(out) >= _LIMIT:
                break
    return out


def _whole(start: int, search: list[str]) -> Candidate:
    pairs = {k: start + k for k in range(len(search))}
    return Candidate([Segment(start, start + len(search), search, [], pairs)])


def loose_matches(doc: Doc, search: list[str], lo: int = 0) -> list[tuple[Segment, Shift]]:
    """Non-blank search lines against consecutive non-blank file lines (blank lines anywhere ignored),
    one uniform indentation shift; only places starting at line `lo` or later."""
    body = [(k, line) for k, line in enumerate(search) if not is_blank(line)]
    if not body:
        return []
    out: list[tuple[Segment, Shift]] = []
    for f0 in doc.index.get(body[0][1].strip(), []):
        if f0 < lo:
            continue
        pairs: dict[int, int] = {}
        shift: Shift | None = None
        f = f0
        ok = True
        for k, s_line in body:
            while f < len(doc.lines) and is_blank(doc.lines[f]):
                f += 1
            if f >= len(doc.lines) or doc.lines[f].strip() != s_line.strip():
                ok = False
                break
            here = shift_between(doc.lines[f], s_line)
            if shift is None:
                shift = here
            elif here != shift:
                ok = False
                break
            pairs[k] = f
            f += 1
        if ok and shift is not None:
            out.append((Segment(f0, f, search, [], pairs), shift))
            if len(out) >= _LIMIT:
                break
    return out


def match_blank_lines(doc: Doc, search: list[str]) -> list[Candidate]:
    return [Candidate([seg]) for seg, _ in loose_matches(doc, search)]


def is_elision(line: str) -> bool:
    return bool(_ELISION.match(line))


def split_elided(lines: list[str]) -> list[list[str]]:
    """Pieces between `...` lines; empty pieces at the edges (a leading or trailing `...`) dropped."""
    pieces: list[list[str]] = [[]]
    for line in lines:
        if is_elision(line):
            pieces.append([])
        else:
            pieces[-1].append(line)
    while pieces and all(is_blank(x) for x in pieces[0]):
        pieces.pop(0)
    while pieces and all(is_blank(x) for x in pieces[-1]):
        pieces.pop()
    return pieces


def match_elided(doc: Doc, search: list[str]) -> list[Candidate]:
    """Each piece matched in order (loosely, one shared shift); the code a `...` stands for is kept.

    The elided lines must stay in scope (see _gap_in_scope), so a `...` never swallows the end of one
    function and the start of the next.
    """
    pieces = split_elided(search)
    if len(pieces) < 2 or any(all(is_blank(x) for x in p) for p in pieces):
        return []
    found: list[Candidate] = []

    def extend(i: int, lo: int, shift: Shift | None, acc: list[Segment]) -> None:
        if len(found) >= 2:
            return
        if i == len(pieces):
            found.append(Candidate(list(acc)))
            return
        for seg, here in loose_matches(doc, pieces[i], lo):
            if shift is not None and here != shift:
                continue
            if acc and not _gap_in_scope(doc, acc[-1], seg):
                continue
            extend(i + 1, seg.end, here, [*acc, seg])

    extend(0, 0, None, [])
    return found


def _gap_in_scope(doc: Doc, prev: Segment, nxt: Segment) -> bool:
    """The elided lines stay in scope: inside the block the previous piece opens (when its first line
    opens one), else never shallower than both pieces."""

    def depth(line: str) -> int:
        return len(line) - len(line.lstrip())

    start = min(prev.pairs.values())
    base = depth(doc.lines[start])
    after = next((x for x in doc.lines[start + 1 :] if not is_blank(x)), "")
    opener = bool(after) and depth(after) > base
    floor = base + 1 if opener else min(base, depth(doc.lines[min(nxt.pairs.values())]))
    return all(is_blank(x) or depth(x) >= floor for x in doc.lines[prev.end : nxt.start])


def match_anchored(doc: Doc, search: list[str]) -> list[Candidate]:
    """First and last lines equal (ignoring indentation), the middle highly similar, about as long."""
    lo = next((k for k, x in enumerate(search) if not is_blank(x)), None)
    if lo is None:
        return []
    hi = max(k for k, x in enumerate(search) if not is_blank(x))
    core = search[lo : hi + 1]
    mid = [x.strip() for x in core[1:-1] if not is_blank(x)]
    if len(core) < 3 or not mid:
        return []
    tol = max(1, len(core) // 5)
    lasts = doc.index.get(core[-1].strip(), [])
    scored: list[tuple[float, int, int]] = []
    mid_text = "\n".join(mid)
    for a in doc.index.get(core[0].strip(), []):
        want = a + len(core) - 1
        for b in lasts[bisect.bisect_left(lasts, want - tol) : bisect.bisect_right(lasts, want + tol)]:
            if b <= a + 1:
                continue
            f_mid = "\n".join(x.strip() for x in doc.lines[a + 1 : b] if not is_blank(x))
            ratio = SequenceMatcher(None, f_mid, mid_text, autojunk=False).ratio()
            if ratio >= ANCHOR_RIVAL:
                scored.append((ratio, a, b))
    good = [x for x in scored if x[0] >= ANCHOR_APPLY]
    if not good:
        return []
    return [Candidate([_align(doc, search, lo, hi, a, b)]) for _, a, b in sorted(scored, key=lambda x: x[1])]


def _align(doc: Doc, search: list[str], lo: int, hi: int, a: int, b: int) -> Segment:
    """Pair search lines lo..hi with file lines a..b: equal lines, then similar lines one to one.

    Blank edge lines of the search stay unpaired: they are not in the file, so nothing is done to them."""
    s_keys = [x.strip() for x in search[lo : hi + 1]]
    f_keys = [x.strip() for x in doc.lines[a : b + 1]]
    pairs: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, s_keys, f_keys, autojunk=False).get_opcodes():
        if tag == "equal":
            pairs.update({lo + i1 + k: a + j1 + k for k in range(i2 - i1)})
        elif tag == "replace":
            for k in range(min(i2 - i1, j2 - j1)):
                s_key, f_key = s_keys[i1 + k], f_keys[j1 + k]
                if s_key and f_key and SequenceMatcher(None, s_key, f_key, autojunk=False).ratio() >= 0.5:
                    pairs[lo + i1 + k] = a + j1 + k
    return Segment(a, b + 1, search, [], pairs)
