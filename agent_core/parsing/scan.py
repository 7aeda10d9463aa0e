"""Linear-time scanners shared by the format extractors.

Everything here walks the text once (no backtracking regular expressions), so adversarial replies —
100k unbalanced braces, thousands of unclosed tags — cost time proportional to their length."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass


@dataclass
class Span:
    start: int
    end: int
    closed: bool
    max_depth: int


def bracket_span(text: str, start: int, end: int, quotes: str = "\"'") -> Span:
    """From an opening `{`/`[`/`(` at `start`, the balanced region (string-aware). Unclosed → up to `end`.

    Closers of any kind decrement the depth: small models mix them up, and the repair step sorts it out."""
    depth = 0
    max_depth = 0
    quote = ""
    i = start
    while i < end:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in quotes:
            quote = ch
        elif ch in "{[(":
            depth += 1
            max_depth = max(max_depth, depth)
        elif ch in "}])":
            depth -= 1
            if depth == 0:
                return Span(start, i + 1, True, max_depth)
        i += 1
    return Span(start, end, False, max_depth)


def python_call_span(text: str, open_paren: int, end: int) -> tuple[int, bool, str, bool]:
    """From `(` at `open_paren`: (end index, closed, argument source with raw newlines inside one-line
    string literals escaped so `ast` can read it, whether it stops inside a string literal). Knows Python
    quoting, including triple quotes."""
    out: list[str] = []
    depth = 0
    quote = ""
    i = open_paren
    while i < end:
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < end:
                out.append(text[i : i + 2])
                i += 2
                continue
            if text.startswith(quote, i):
                out.append(quote)
                i += len(quote)
                quote = ""
                continue
            if ch == "\n" and len(quote) == 1:
                out.append("\\n")
            else:
                out.append(ch)
            i += 1
            continue
        if ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            out.append(quote)
            i += len(quote)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                out.append(ch)
                return i + 1, True, "".join(out), False
        out.append(ch)
        i += 1
    return end, False, "".join(out), bool(quote)


@dataclass
class Fence:
    start: int
    """Index of the opening ``` line."""
    body_start: int
    body_end: int
    end: int
    lang: str


_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.M)


def find_fences(text: str) -> list[Fence]:
    """Markdown code fences, paired in order; an unclosed fence runs to the end of the text."""
    fences: list[Fence] = []
    opening: tuple[int, int, str, str] | None = None  # start, body start, marker, language
    for m in _FENCE_OPEN.finditer(text):
        marker = m.group(1)
        eol = text.find("\n", m.end())
        eol = len(text) if eol < 0 else eol
        info = text[m.end() : eol].strip()
        if marker[0] == "`" and "`" in info:
            continue  # inline code such as ```x``` is not a fence
        if opening is None:
            opening = (m.start(), min(eol + 1, len(text)), marker, info.split()[0].lower() if info else "")
            continue
        start, body_start, omarker, lang = opening
        if marker[0] == omarker[0] and len(marker) >= len(omarker) and not info:
            fences.append(Fence(start, body_start, m.start(), eol, lang))
            opening = None
    if opening is not None:
        start, body_start, _, lang = opening
        fences.append(Fence(start, body_start, len(text), len(text), lang))
    return fences


class FenceIndex:
    """Answers "is this position inside a code fence?" in O(log n)."""

    def __init__(self, fences: list[Fence]) -> None:
        self.fences = fences
        self._starts = [f.start for f in fences]

    def containing(self, pos: int) -> Fence | None:
        i = bisect.bisect_right(self._starts, pos) - 1
        if i >= 0 and self.fences[i].start <= pos < self.fences[i].end:
            return self.fences[i]
        return None


# Words that mark a call as described rather than made: "for example", "you could call", "would look like".
_STRONG = (
    r"for example|for instance|e\.g\.|example|hypothetical|if i were|if i was|would look like|"
    r"you could|you can call|you can use|you would|you'd|you should call|the syntax|the format is|"
    r"in the format|do not call|don't call|won't call|will not call|never call"
)
_WEAK = (
    r"would|could|might|like this|like so|such as|format|usage|instead of|if you|should not|shouldn't|can't|"
    r"here['’]s how|here is how|how to use|how you|snippet|sample"
)
STRONG_CUES = re.compile(rf"\b(?:{_STRONG})", re.I)
WEAK_CUES = re.compile(rf"\b(?:{_STRONG}|{_WEAK})\b", re.I)


def lead_in(text: str, pos: int, limit: int = 300) -> str:
    """The prose just before `pos` in the same paragraph (bounded)."""
    window = text[max(0, pos - limit) : pos]
    cut = window.rfind("\n\n")
    return window[cut + 2 :] if cut >= 0 else window


def trailing(text: str, pos: int, limit: int = 120) -> str:
    """The rest of the line after `pos` (bounded)."""
    window = text[pos : pos + limit]
    cut = window.find("\n")
    return window[:cut] if cut >= 0 else window


def described(text: str, start: int, end: int, strong_only: bool) -> bool:
    """Whether the surrounding prose describes the call instead of making it."""
    cues = STRONG_CUES if strong_only else WEAK_CUES
    return bool(cues.search(lead_in(text, start)) or cues.search(trailing(text, end)))


def shown_after(text: str, start: int) -> bool:
    """Whether the paragraph before a block standing alone (`Here's how to use it:` + blank line + the
    call) introduces it as something shown rather than done."""
    if lead_in(text, start).strip():
        return False
    before = text[max(0, start - 600) : start].rstrip()
    cut = before.rfind("\n\n")
    paragraph = before[cut + 2 :] if cut >= 0 else before
    return bool(WEAK_CUES.search(paragraph[-300:]))
