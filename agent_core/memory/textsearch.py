"""Words out of code and prose, and BM25 ranking over small collections: the code graph's symbol search and
the notes' search where SQLite lacks FTS5. Identifiers are split (`parse_tool_calls`, `ParseOutcome` →
parse, tool, call, outcome) and lightly stemmed, so "parsing tool calls" finds `parse_tool_calls`."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOP_TEXT = (
    "a an and are as at be by do does for from has have how i if in into is it its of on or that the their "
    "then this to was were what when where which while who why will with you your self cls"
)
STOPWORDS = frozenset(_STOP_TEXT.split())


def stem(word: str) -> str:
    """A crude suffix strip: enough to meet "requests"/"request", "parsing"/"parse", "encoded"/"encode"."""
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + keep
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lowercased, stemmed words of text or code, identifiers split at `_` and case changes; no stopwords."""
    out: list[str] = []
    for token in _WORD.findall(text):
        parts = _CAMEL.findall(token) if not token.islower() else [token]
        for part in parts:
            low = part.lower()
            if low not in STOPWORDS and (len(low) > 1 or low.isdigit()):
                out.append(stem(low))
    return out


class BM25:
    """Okapi BM25 over documents given as word lists (repeat a word to weigh it more)."""

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.docs = [Counter(doc) for doc in documents]
        self.lengths = [len(doc) for doc in documents]
        self.avg = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        n = len(self.docs)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    def scores(self, query: Iterable[str]) -> list[float]:
        terms = [t for t in dict.fromkeys(query) if t in self.idf]
        out = [0.0] * len(self.docs)
        if not terms:
            return out
        for i, doc in enumerate(self.docs):
            norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / (self.avg or 1))
            total = 0.0
            for term in terms:
                tf = doc.get(term)
                if tf:
                    total += self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
            out[i] = total
        return out
