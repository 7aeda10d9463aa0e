"""Answers from the code graph, written for a small model: `search` (symbols ranked for a name or a phrase),
`explain` (one definition with its docstring, code, callers and callees, within a token cap) and `repo_map`
(the definitions a task most likely needs, fitted to a token budget)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent_core.memory.graph.rank import Ranking, rank_graph, symbol_score
from agent_core.memory.graph.store import GraphStore, Symbol
from agent_core.memory.textsearch import BM25, words

Count = Callable[[str], int]
MAX_RESULTS = 10
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_KIND_WEIGHT = {"variable": 0.6, "constant": 0.8, "impl": 0.5}


@dataclass
class Catalog:
    """Every symbol with its search document and static rank, cached per index generation."""

    generation: int
    symbols: list[Symbol]
    bm25: BM25
    ranking: Ranking
    top_rank: float


_catalogs: dict[Path, Catalog] = {}
_catalog_lock = threading.Lock()


def catalog(store: GraphStore) -> Catalog:
    generation = store.generation()
    with _catalog_lock:
        cached = _catalogs.get(store.path)
        if cached is not None and cached.generation == generation:
            return cached
    symbols = store.symbols()
    docs = [_document(s) for s in symbols]
    ranking = rank_graph(store)
    top = max((symbol_score(ranking, s) for s in symbols), default=0.0) or 1.0
    built = Catalog(generation, symbols, BM25(docs), ranking, top)
    with _catalog_lock:
        _catalogs[store.path] = built
    return built


def _document(symbol: Symbol) -> list[str]:
    name = words(symbol.name)
    parents = words(symbol.qualname.rsplit(".", 1)[0]) if "." in symbol.qualname else []
    place = words(Path(symbol.path).with_suffix("").as_posix())
    signature = [w for w in words(symbol.signature) if w not in name]
    return name * 3 + parents + place + signature + words(symbol.doc)


def search(store: GraphStore, query: str, limit: int = MAX_RESULTS) -> list[tuple[float, Symbol]]:
    """Symbols for a name (`Client.send`, `parse_reply`) or a phrase ("where tool calls are parsed")."""
    cat = catalog(store)
    idents = {m for m in _IDENT.findall(query) if len(m) > 1}
    lowered = {i.lower() for i in idents}
    terms = words(query)
    scores = cat.bm25.scores(terms)
    wants_tests = "test" in query.lower()
    found: list[tuple[float, Symbol]] = []
    for symbol, base in zip(cat.symbols, scores, strict=True):
        score = base
        if symbol.qualname in idents or symbol.name in idents or _module_qualified(symbol, idents):
            score += 20
        elif symbol.name.lower() in lowered or symbol.qualname.lower() in lowered:
            score += 12
        elif any(len(t) >= 4 and t in symbol.name.lower() for t in lowered):
            score += 2
        if score <= 0:
            continue
        score += 3 * (symbol_score(cat.ranking, symbol) / cat.top_rank) ** 0.5
        score *= _KIND_WEIGHT.get(symbol.kind, 1.0)
        if symbol.name.startswith("_") and symbol.name not in idents:
            score *= 0.8
        if not wants_tests and is_test_path(symbol.path):
            score *= 0.6
        if symbol.path.endswith(".pyi"):  # a stub: the code to read or change is in the .py beside it
            score *= 0.5
        found.append((score, symbol))
    found.sort(key=lambda item: (-item[0], item[1].path, item[1].line))
    return found[:limit]


def _module_qualified(symbol: Symbol, idents: set[str]) -> bool:
    """`httpx.Client` or `click.core.Command.invoke`: a dotted name whose head names the file."""
    for ident in idents:
        head, _, tail = ident.rpartition(".")
        if head and (tail == symbol.qualname or ident.endswith("." + symbol.qualname)):
            module = ident[: len(ident) - len(symbol.qualname) - 1].replace(".", "/")
            if module.split("/")[-1] in symbol.path:
                return True
    return False


def is_test_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.startswith("test_") or "_test." in name or ".test." in name or "/tests/" in f"/{path}"


def render_search(store: GraphStore, query: str, limit: int = MAX_RESULTS) -> str:
    hits = search(store, query, limit)
    if not hits:
        return (
            f"No definitions match {query!r}. Try another name or fewer words, or the search tool for "
            "text that is not a definition."
        )
    lines = [f"{s.path}:{s.line} {s.kind} {s.qualname} — {_clip(s.signature, 110)}" for _, s in hits]
    lines.append("[explain_symbol NAME: its code, callers and callees; read_file PATH start_line for more]")
    return "\n".join(lines)


# explain ----------------------------------------------------------------------------------------------
def resolve(store: GraphStore, name: str) -> list[Symbol]:
    """Definitions a name means, best first: `Class.method`, `name`, `path:name` or `module.name`."""
    name = name.strip().strip("`'\"()")
    path_hint = ""
    if ":" in name:
        path_hint, _, name = name.rpartition(":")
    cat = catalog(store)
    exact = [s for s in cat.symbols if s.qualname == name or s.name == name]
    if not exact and "." in name:
        exact = [s for s in cat.symbols if name.endswith("." + s.qualname) and _module_qualified(s, {name})]
        exact = exact or [s for s in cat.symbols if s.qualname.endswith("." + name)]
    if not exact:
        low = name.lower()
        exact = [s for s in cat.symbols if s.qualname.lower() == low or s.name.lower() == low]
    if path_hint:
        exact = [s for s in exact if s.path.endswith(path_hint.lstrip("./"))] or exact

    def order(s: Symbol) -> tuple[int, int, float]:
        return (s.qualname != name, is_test_path(s.path), -symbol_score(cat.ranking, s))

    return sorted(exact, key=order)


def explain(store: GraphStore, root: Path, name: str, budget_tokens: int, count: Count) -> str:
    matches = resolve(store, name)
    if not matches:
        near = search(store, name, 5)
        hint = "; ".join(f"{s.qualname} ({s.path}:{s.line})" for _, s in near)
        return f"No definition named {name!r}." + (f" Closest: {hint}." if hint else " Try graph_search.")
    symbol = matches[0]
    head = [
        f"{symbol.qualname} ({symbol.kind}) {symbol.path}:{symbol.line}-{symbol.end_line}",
        _clip(symbol.signature, 200),
    ]
    if symbol.doc:
        head.append(f"Doc: {symbol.doc}")
    tail = [callers(store, symbol), callees(store, symbol)]
    if len(matches) > 1:
        others = ", ".join(f"{s.qualname} {s.path}:{s.line}" for s in matches[1:6])
        more = f" and {len(matches) - 6} more" if len(matches) > 6 else ""
        tail.append(f"Also defined: {others}{more}.")
    fixed = "\n".join(head + tail)
    room = budget_tokens - count(fixed) - 8
    code = _code(root, symbol, room, count)
    parts = head + ([code] if code else []) + tail
    return "\n".join(p for p in parts if p)


def _code(root: Path, symbol: Symbol, budget_tokens: int, count: Count) -> str:
    """The definition's own lines (as they are on disk now), numbered, cut to the budget."""
    shown = definition_lines(root, symbol, budget_tokens, count, numbered=True)
    return "Code:\n" + "\n".join(shown) if shown else ""


def definition_lines(
    root: Path, symbol: Symbol, budget_tokens: int, count: Count, numbered: bool
) -> list[str]:
    """A definition's lines as they are on disk now, numbered (`   12 | code`) or as they are, cut to the
    budget with a last line saying how to read the rest; [] when the budget cannot hold any."""
    if budget_tokens < 40:
        return []
    try:
        with (root / symbol.path).open(encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    span = lines[symbol.line - 1 : symbol.end_line]
    shown: list[str] = []
    used = 0
    for number, line in enumerate(span, symbol.line):
        row = f"{number:5} | {line.rstrip()}" if numbered else line.rstrip()
        cost = count(row + "\n")
        if used + cost > budget_tokens - 12:
            rest = (
                f"… {symbol.end_line - number + 1} more lines (read_file {symbol.path} start_line={number})"
            )
            shown.append(f"      {rest}" if numbered else f"# {rest}")
            break
        shown.append(row)
        used += cost
    return shown


def callers(store: GraphStore, symbol: Symbol) -> str:
    kinds = (
        ("call", "ref")
        if symbol.kind in ("class", "struct", "type", "interface", "enum", "trait")
        else ("call",)
    )
    marks = ",".join("?" * len(kinds))
    refs = store.refs(f"WHERE r.name=? AND r.kind IN ({marks})", (symbol.name, *kinds))
    refs = [r for r in refs if not (r.path == symbol.path and r.scope == symbol.qualname)]
    if not refs:
        return "Callers: none found in the project."
    near = _neighbours(store, symbol.path)
    refs.sort(
        key=lambda r: (r.path != symbol.path and r.path not in near, is_test_path(r.path), r.path, r.line)
    )
    shown = [f"{r.path}:{r.line} in {r.scope or 'module level'}" for r in refs[:10]]
    more = f" and {len(refs) - 10} more" if len(refs) > 10 else ""
    return f"Callers ({len(refs)}): " + "; ".join(shown) + more + "."


def callees(store: GraphStore, symbol: Symbol) -> str:
    refs = store.refs(
        "WHERE f.path=? AND r.kind='call' AND (r.scope=? OR r.scope LIKE ?)",
        (symbol.path, symbol.qualname, symbol.qualname + ".%"),
    )
    names = list(dict.fromkeys(r.name for r in sorted(refs, key=lambda r: r.line)))
    near = _neighbours(store, symbol.path)
    out: list[str] = []
    for name in names:
        where = store.symbols("WHERE s.name=?", (name,))
        if not where:
            continue  # a library or builtin call: nothing in the project to point at
        where.sort(key=lambda s: (s.path != symbol.path, s.path not in near, is_test_path(s.path)))
        best = where[0]
        out.append(f"{best.qualname} {best.path}:{best.line}")
        if len(out) == 12:
            break
    return "Calls: " + ("; ".join(out) + "." if out else "nothing defined in the project.")


def _neighbours(store: GraphStore, path: str) -> set[str]:
    """Files this one imports, matched by module path (`a.b` → a/b.py, a/b/__init__.py, ./b → b.ts, …)."""
    targets = store.imports_of(path)
    if not targets:
        return set()
    stems = {
        t.replace("::", "/").replace(".", "/").strip("/").rsplit("/", 1)[-1] for t in targets if t.strip("./")
    }
    return {p for p in store.paths() if Path(p).stem in stems or Path(p).parent.name in stems}


# the repository map ------------------------------------------------------------------------------------
def repo_map(
    store: GraphStore, task: str, budget_tokens: int, count: Count, exclude: set[str] | None = None
) -> str:
    """The definitions the task most likely needs, grouped by file, within `budget_tokens` ("" if none)."""
    exclude = exclude or set()
    cat = catalog(store)
    names = {s.name for s in cat.symbols}
    mentioned_names = {m for m in re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", task) if m in names}
    mentioned_files = {p for p in store.paths() if p in task or Path(p).name in task}
    ranking = (
        rank_graph(store, mentioned_files, mentioned_names)
        if (mentioned_names or mentioned_files)
        else cat.ranking
    )
    ordered = sorted(
        (s for s in cat.symbols if s.path not in exclude and s.kind != "impl"),
        key=lambda s: (-(symbol_score(ranking, s) * (3 if s.name in mentioned_names else 1)), s.path, s.line),
    )
    if not ordered or budget_tokens < 50:
        return ""
    low, high, best = 1, min(len(ordered), 400), ""
    while low <= high:  # the most definitions whose rendering fits
        mid = (low + high) // 2
        text = _render_map(ordered[:mid])
        if count(text) <= budget_tokens:
            best, low = text, mid + 1
        else:
            high = mid - 1
    return best


def _render_map(symbols: list[Symbol]) -> str:
    by_file: dict[str, list[Symbol]] = {}
    for s in symbols:
        by_file.setdefault(s.path, []).append(s)
    lines = [
        "Repository map (the definitions this project leans on most; graph_search and explain_symbol find more):"
    ]
    for path, defs in by_file.items():
        lines.append(f"{path}:")
        for s in sorted(defs, key=lambda s: s.line):
            indent = "  " * s.qualname.count(".")
            lines.append(f"{s.line:6} {indent}{_clip(s.signature, 100)}")
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
