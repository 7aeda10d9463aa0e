"""Patch benchmark: a drift corpus built from real source files, the cascade against a naive exact matcher.

Sources are found at run time (so an installed copy works): this package's own modules and a fixed list of
standard-library modules. From each, cases are generated deterministically: a real region of lines, an
intended edit (change, insert or delete a line), and a search/replace pair written the way small models get
it wrong — CRLF, trailing whitespace, shifted indentation, missing or extra blank lines, `...` elision, a
first line without its indentation, a slightly wrong middle line, several drifts at once. Refusal cases
use searches that occur at several places (as is, or once indentation is ignored) or are not in the file.

Outcomes: applied correctly (byte for byte the intended text), refused correctly, missed (refused although
one place was meant), WRONG (applied anything else). The bar: no wrong application, at least 95% right.
"""

from __future__ import annotations

import importlib.util
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent_core.bench.report import BenchReport
from agent_core.patch import PatchError, apply_search_replace

STDLIB_MODULES = (
    "argparse", "textwrap", "json.decoder", "json.encoder", "shlex", "configparser", "difflib",
    "dataclasses", "calendar", "csv", "fractions", "ipaddress", "pprint", "tokenize", "string",
)  # fmt: skip
PACKAGE_MODULES = (
    "agent_core.config",
    "agent_core.workspace",
    "agent_core.patch.stages",
    "agent_core.patch.blocks",
)
PER_KIND = 3
"""Cases of each kind per source file."""

Line = tuple[str, int | None, bool]
"""A line of the intended replacement, the region line it comes from (None: new), whether it is unchanged."""


@dataclass
class Case:
    name: str
    kind: str
    text: str
    search: str
    replace: str
    expected: str | None
    """The intended new text, or None when the right answer is a refusal."""


def _sources() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for module in (*PACKAGE_MODULES, *STDLIB_MODULES):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        try:
            text = Path(spec.origin).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out.append((module, text.replace("\r\n", "\n")))
    return out


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip())


def _key(line: str) -> str:
    return line.strip()


class _File:
    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
        self.keys = [_key(x) for x in self.lines]
        self.nonblank = [n for n, k in enumerate(self.keys) if k]

    def text(self, lines: list[str] | None = None) -> str:
        return "".join(x + "\n" for x in (self.lines if lines is None else lines))

    def loose_count(self, a: int, b: int) -> int:
        """Places whose non-blank stripped lines equal those of region [a, b)."""
        want = [k for k in self.keys[a:b] if k]
        count = 0
        for p, n in enumerate(self.nonblank):
            if self.keys[n] == want[0] and [self.keys[m] for m in self.nonblank[p : p + len(want)]] == want:
                count += 1
        return count

    def anchor_count(self, a: int, b: int) -> int:
        """Places with region [a, b)'s first and last lines at about its length (what an anchored match sees)."""
        size, tol = b - a, max(1, (b - a) // 5)
        first, last = self.keys[a], self.keys[b - 1]
        return sum(
            1
            for i, k in enumerate(self.keys)
            if k == first
            for j in range(i + size - 1 - tol, i + size + tol)
            if 0 <= j < len(self.keys) and self.keys[j] == last
        )


def _edit(rng: random.Random, region: list[str], allowed: list[int]) -> list[Line]:
    """The intended change: one line changed, a line inserted after it, or it deleted."""
    e = rng.choice(allowed)
    out: list[Line] = []
    op = rng.choice(("change", "insert", "delete"))
    for n, line in enumerate(region):
        if n != e:
            out.append((line, n, True))
        elif op == "change":
            out.append((line.rstrip() + "  # edited", n, False))
        elif op == "insert":
            out.extend([(line, n, True), (" " * _depth(line) + "log_step('patched here')", None, False)])
    return out


def _typo(rng: random.Random, line: str) -> str:
    body_at = _depth(line)
    pos = rng.randrange(body_at, len(line))
    if rng.random() < 0.5:
        return line[:pos] + line[pos + 1 :]
    return line[:pos] + ("x" if line[pos] != "x" else "y") + line[pos + 1 :]


def _model(lines: list[Line], fn: Callable[[str, int | None], str | None]) -> str:
    """The model's copy: each line through the drift (None drops it)."""
    out = [fn(line, origin) for line, origin, _ in lines]
    return "".join(x + "\n" for x in out if x is not None)


class _Gen:
    def __init__(self, f: _File, others: list[_File]) -> None:
        self.f = f
        self.others = others

    def region(
        self, rng: random.Random, size: tuple[int, int], ok: Callable[[int, int], bool]
    ) -> tuple[int, int] | None:
        f = self.f
        for _ in range(200):
            n = rng.randint(*size)
            a = rng.randrange(0, max(1, len(f.lines) - n))
            b = a + n
            if b > len(f.lines) or not f.keys[a] or not f.keys[b - 1]:
                continue
            if '"""' in "".join(f.lines[a:b]) or "'''" in "".join(f.lines[a:b]):
                continue  # keep docstrings out: an edit inside one is not what these drifts are about
            if f.loose_count(a, b) == 1 and f.anchor_count(a, b) == 1 and ok(a, b):
                return a, b
        return None

    def drift(self, kind: str, rng: random.Random) -> Case | None:
        f = self.f
        lines = f.lines
        need: Callable[[int, int], bool] = lambda a, b: True  # noqa: E731
        size = (3, 10)
        if kind in ("dedent", "first_line_unindented", "combined"):
            need = lambda a, b: min(_depth(x) for x in lines[a:b] if x.strip()) >= 4  # noqa: E731
        if kind in ("missing_blank", "combined"):
            need2 = need
            need = lambda a, b: need2(a, b) and any(not x.strip() for x in lines[a:b])  # noqa: E731
            size = (5, 14)
        if kind == "elision":
            size = (10, 24)

            def need(a: int, b: int) -> bool:
                # One scope (nothing shallower than the first line), unique head and tail pieces.
                inside = all(not x.strip() or _depth(x) > _depth(lines[a]) for x in lines[a + 1 : b])
                return inside and f.loose_count(a, a + 3) == 1 and f.loose_count(b - 3, b) == 1

        if kind in ("typo_middle", "first_line_unindented"):
            size = (5, 12)
        span = self.region(rng, size, need)
        if span is None:
            return None
        a, b = span
        region = lines[a:b]
        idx = list(range(len(region)))
        text_lines = list(lines)
        search_lines: list[Line] = [(x, n, True) for n, x in enumerate(region)]
        editable = [n for n in idx if region[n].strip()]
        fn: Callable[[str, int | None], str | None] = lambda line, origin: line  # noqa: E731
        newline = "\n"
        if kind == "elision":
            keep = {0, 1, 2, len(region) - 3, len(region) - 2, len(region) - 1}
            editable = [n for n in editable if n in keep and n != 2 and n != len(region) - 3]
        if kind == "typo_middle":
            t = rng.choice([n for n in idx[1:-1] if len(region[n].strip()) >= 8] or [0])
            if t == 0:
                return None
            editable = [n for n in editable if n != t]
            typo = _typo(rng, region[t])
            fn = lambda line, origin: typo if origin == t else line  # noqa: E731
        replace_lines = _edit(rng, region, editable)
        if kind == "crlf_file":
            newline = "\r\n"
        elif kind == "crlf_search":
            fn = lambda line, origin: line + "\r"  # noqa: E731
        elif kind == "trailing_ws":
            marks = {n for n in idx if rng.random() < 0.5} or {0}
            fn = lambda line, origin: line + "  " if origin in marks else line  # noqa: E731
        elif kind == "file_trailing_ws":
            marks = {n for n in idx if region[n].strip() and rng.random() < 0.5} or {0}
            for n in marks:
                text_lines[a + n] = region[n] + " \t"
            replace_lines = [
                (text_lines[a + o] if keep and o is not None else x, o, keep) for x, o, keep in replace_lines
            ]
            fn = lambda line, origin: line.rstrip()  # noqa: E731
        elif kind == "dedent":
            cut = min(_depth(x) for x in region if x.strip())
            fn = lambda line, origin: line[cut:] if line.strip() else ""  # noqa: E731
        elif kind == "indent_more":
            fn = lambda line, origin: "    " + line if line.strip() else line  # noqa: E731
        elif kind == "missing_blank":
            fn = lambda line, origin: None if origin is not None and not line.strip() else line  # noqa: E731
        elif kind == "extra_blank_edge":
            search_lines = [("", -1, True), *search_lines, ("", -2, True)]
            replace_lines = [("", -1, True), *replace_lines, ("", -2, True)]
        elif kind == "first_line_unindented":
            fn = lambda line, origin: line.lstrip() if origin == 0 else line  # noqa: E731
        elif kind == "combined":
            cut = min(_depth(x) for x in region if x.strip())

            def fn(line: str, origin: int | None) -> str | None:
                if origin is not None and not line.strip():
                    return None
                return line[cut:] + (" " if origin is not None and origin % 2 else "")

        search = _model(search_lines, fn)
        replace = _model(replace_lines, fn)
        if kind == "elision":
            marker = " " * _depth(region[3]) + rng.choice(("...", "# ... existing code ...", "# ..."))
            cut_at = next(n for n, x in enumerate(replace_lines) if x[1] is not None and x[1] >= 3)
            head = replace_lines[:cut_at]
            tail_at = next(
                n for n, x in enumerate(replace_lines) if x[1] is not None and x[1] >= len(region) - 3
            )
            tail = replace_lines[tail_at:]
            search = _model(search_lines[:3], fn) + marker + "\n" + _model(search_lines[-3:], fn)
            replace = _model(head, fn) + marker + "\n" + _model(tail, fn)
        new_region = [
            text_lines[a + o] if keep and o is not None else x
            for x, o, keep in replace_lines
            if o is None or o >= 0
        ]
        original = "".join(x + newline for x in text_lines)
        expected = "".join(x + newline for x in [*text_lines[:a], *new_region, *text_lines[b:]])
        return Case(f"{f.name}:{kind}:{a + 1}", kind, original, search, replace, expected)

    def refusal(self, kind: str, rng: random.Random) -> Case | None:
        f = self.f
        if kind == "missing":
            other = rng.choice(self.others)
            gen = _Gen(other, [])
            span = gen.region(rng, (3, 8), lambda a, b: True)
            if span is None:
                return None
            a, b = span
            if other.keys[a] in f.keys or other.keys[b - 1] in f.keys:
                return None
            search = other.text(other.lines[a:b])
            return Case(f"{f.name}:missing:{other.name}:{a + 1}", kind, f.text(), search, "pass\n", None)
        if kind == "near_duplicate":
            # A block pasted twice with one line changed in the copy, and a search with a typo elsewhere:
            # both places fit about as well, so the only right answer is to refuse.
            span = self.region(rng, (5, 10), lambda a, b: True)
            if span is None:
                return None
            a, b = span
            region = f.lines[a:b]
            middle = [n for n in range(1, len(region) - 1) if len(region[n].strip()) >= 8]
            if len(middle) < 2:
                return None
            changed, typo_at = rng.sample(middle, 2)
            copy = list(region)
            copy[changed] = copy[changed].rstrip() + "  # variant"
            lines = [*f.lines[:b], "", *copy, *f.lines[b:]]
            search_lines = list(region)
            search_lines[typo_at] = _typo(rng, region[typo_at])
            search = "".join(x + "\n" for x in search_lines)
            text = "".join(x + "\n" for x in lines)
            return Case(
                f"{f.name}:near_duplicate:{a + 1}",
                kind,
                text,
                search,
                search.replace("\n", " # x\n", 1),
                None,
            )
        if kind == "stale":
            # The file moved on: its first and last lines changed since the model read it.
            span = self.region(rng, (3, 8), lambda a, b: True)
            if span is None:
                return None
            a, b = span
            lines = list(f.lines)
            lines[a] += "  # renamed"
            lines[b - 1] += "  # renamed"
            search = f.text(f.lines[a:b])
            return Case(f"{f.name}:stale:{a + 1}", kind, f.text(lines), search, search + "pass\n", None)
        for _ in range(300):
            n = rng.randint(2, 3)
            a = rng.randrange(0, max(1, len(f.lines) - n))
            window = f.lines[a : a + n]
            if not all(x.strip() for x in window) or sum(len(x.strip()) for x in window) < 16:
                continue
            body = "".join(x + "\n" for x in window)
            if kind == "ambiguous" and f.text().count(body) >= 2:
                return Case(
                    f"{f.name}:ambiguous:{a + 1}", kind, f.text(), body, body.replace(":", ": ", 1), None
                )
            if kind == "ambiguous_dedent" and f.loose_count(a, a + n) >= 2:
                cut = min(_depth(x) for x in window)
                search = "".join(x[cut:] + "\n" for x in window)
                if cut or f.text().count(body) == 1:
                    return Case(
                        f"{f.name}:ambiguous_dedent:{a + 1}", kind, f.text(), search, search + "x = 1\n", None
                    )
        return None


DRIFTS = (
    "exact", "crlf_file", "crlf_search", "trailing_ws", "file_trailing_ws", "dedent", "indent_more",
    "missing_blank", "extra_blank_edge", "elision", "first_line_unindented", "typo_middle", "combined",
)  # fmt: skip
REFUSALS = ("ambiguous", "ambiguous_dedent", "missing", "near_duplicate", "stale")


def build_corpus() -> list[Case]:
    files = [_File(name, text) for name, text in _sources()]
    cases: list[Case] = []
    for f in files:
        gen = _Gen(f, [o for o in files if o is not f])
        for kind in (*DRIFTS, *REFUSALS):
            for n in range(PER_KIND):
                rng = random.Random(f"{f.name}/{kind}/{n}")
                case = gen.drift(kind, rng) if kind in DRIFTS else gen.refusal(kind, rng)
                if case is not None:
                    cases.append(case)
    return cases


def naive_apply(text: str, search: str, replace: str) -> str:
    """What a plain exact-match applier does."""
    if not search or text.count(search) != 1:
        raise PatchError("no unique exact match")
    return text.replace(search, replace, 1)


def _judge(apply: Callable[[str, str, str], str], case: Case) -> str:
    try:
        out = apply(case.text, case.search, case.replace)
    except PatchError:
        return "refused_ok" if case.expected is None else "missed"
    except Exception:  # a crash is a bug; count it against the engine, never hide it
        return "crashed"
    return "applied_ok" if out == case.expected else "wrong"


def run(cwd: Path) -> BenchReport:
    started = time.perf_counter()
    cases = build_corpus()
    rows: list[dict[str, object]] = []
    for case in cases:
        rows.append(
            {
                "name": case.name,
                "kind": case.kind,
                "engine": _judge(apply_search_replace, case),
                "naive": _judge(naive_apply, case),
            }
        )
    figures: dict[str, object] = {"cases": len(cases), "seconds": round(time.perf_counter() - started, 2)}
    for who in ("engine", "naive"):
        counts = {
            k: sum(1 for r in rows if r[who] == k)
            for k in ("applied_ok", "refused_ok", "missed", "wrong", "crashed")
        }
        right = counts["applied_ok"] + counts["refused_ok"]
        figures[who] = {
            **counts,
            "right": right,
            "right_rate": round(right / len(cases), 4) if cases else 0.0,
        }
    engine = figures["engine"]
    assert isinstance(engine, dict)
    ok = bool(cases) and engine["wrong"] == 0 and engine["crashed"] == 0 and engine["right_rate"] >= 0.95
    return BenchReport(suite="patch", figures=figures, cases=rows, text=_table(rows, figures), ok=ok)


def _table(rows: list[dict[str, object]], figures: dict[str, object]) -> str:
    kinds = list(dict.fromkeys(str(r["kind"]) for r in rows))
    out = [f"{'kind':<22} {'cases':>5}  {'engine right':>12} {'wrong':>5}  {'naive right':>11} {'wrong':>5}"]
    for kind in kinds:
        mine = [r for r in rows if r["kind"] == kind]
        right = {w: sum(1 for r in mine if r[w] in ("applied_ok", "refused_ok")) for w in ("engine", "naive")}
        wrong = {w: sum(1 for r in mine if r[w] in ("wrong", "crashed")) for w in ("engine", "naive")}
        out.append(
            f"{kind:<22} {len(mine):>5}  {right['engine']:>12} {wrong['engine']:>5}  {right['naive']:>11} {wrong['naive']:>5}"
        )
    for who in ("engine", "naive"):
        f = figures[who]
        assert isinstance(f, dict)
        out.append(
            f"{who}: {f['right']}/{figures['cases']} right ({f['right_rate']:.1%}): {f['applied_ok']} applied, "
            f"{f['refused_ok']} refused correctly, {f['missed']} missed, {f['wrong']} WRONG"
            + (f", {f['crashed']} crashed" if f["crashed"] else "")
        )
    return "\n".join(out)
