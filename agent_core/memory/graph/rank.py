"""Ranking the code graph like Aider's repository map: files are nodes, a reference from one file to a name
another file defines is an edge (weighted by how often, how specific the name is, and whether the task
mentions it), PageRank personalised towards the files and names the task mentions; each file's rank then
flows along its edges to the definitions it uses."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from agent_core.memory.graph.store import GraphStore, Symbol

DAMPING = 0.85


@dataclass
class Ranking:
    files: dict[str, float]
    definitions: dict[tuple[str, str], float]
    """(path, name) → rank: how much the project leans on that definition."""


def pagerank(
    nodes: list[str],
    edges: dict[str, dict[str, float]],
    personal: dict[str, float] | None = None,
    iterations: int = 50,
) -> dict[str, float]:
    """Weighted PageRank by power iteration; `personal` biases the random jumps (uniform when None)."""
    if not nodes:
        return {}
    if personal:
        total = sum(personal.values())
        jump = {n: personal.get(n, 0.0) / total for n in nodes}
    else:
        jump = dict.fromkeys(nodes, 1.0 / len(nodes))
    out_weight = {src: sum(dsts.values()) for src, dsts in edges.items()}
    rank = dict(jump)
    for _ in range(iterations):
        dangling = sum(r for n, r in rank.items() if not out_weight.get(n))
        new = {n: (1 - DAMPING + DAMPING * dangling) * jump[n] for n in nodes}
        for src, dsts in edges.items():
            share = DAMPING * rank[src] / out_weight[src] if out_weight[src] else 0.0
            for dst, weight in dsts.items():
                new[dst] += share * weight
        delta = sum(abs(new[n] - rank[n]) for n in nodes)
        rank = new
        if delta < 1e-8:
            break
    return rank


def rank_graph(
    store: GraphStore, mentioned_files: set[str] | None = None, mentioned_names: set[str] | None = None
) -> Ranking:
    mentioned_files = mentioned_files or set()
    mentioned_names = mentioned_names or set()
    definers: dict[str, set[str]] = defaultdict(set)
    copies: dict[tuple[str, str], int] = defaultdict(int)
    for path, name in store.db.execute(
        "SELECT f.path, s.name FROM symbols s JOIN files f ON f.id = s.file_id"
    ):
        definers[name].add(path)
        copies[(path, name)] += 1
    uses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path, name, count in store.db.execute(
        "SELECT f.path, r.name, SUM(r.count) FROM refs r JOIN files f ON f.id = r.file_id GROUP BY f.path, r.name"
    ):
        if name in definers:
            uses[name][path] += count
    nodes = store.paths()
    edges: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    via: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for name, referencers in uses.items():
        where = definers[name]
        weight = _name_weight(name, len(where), name in mentioned_names)
        for src, count in referencers.items():
            for dst in where:
                if dst == src:
                    continue
                w = weight * math.sqrt(count) * (10.0 if src in mentioned_files else 1.0)
                edges[src][dst] += w
                via[(src, dst)].append((name, w))
    known = set(nodes)
    personal = {p: 1.0 for p in mentioned_files if p in known}
    for name in mentioned_names:
        for path in definers.get(name, ()):
            personal[path] = personal.get(path, 0.0) + 1.0
    files = pagerank(nodes, edges, personal or None)
    definitions: dict[tuple[str, str], float] = defaultdict(float)
    for src, dsts in edges.items():
        total = sum(dsts.values())
        for dst in dsts:
            for name, w in via[(src, dst)]:
                # a name defined several times in one file (overloads, `decode` per class) shares its rank
                definitions[(dst, name)] += files[src] * w / total / copies[(dst, name)]
    return Ranking(files, dict(definitions))


def _name_weight(name: str, definers: int, mentioned: bool) -> float:
    weight = 1.0
    if mentioned:
        weight *= 10
    if len(name) >= 8 and ("_" in name or any(c.isupper() for c in name[1:])):
        weight *= 3  # a long, specific name says more than `get` or `run`
    if name.startswith("_"):
        weight *= 0.1
    if definers > 5:
        weight *= 0.1  # defined all over the place (`__init__`, `run`): a weak link
    return weight


def symbol_score(ranking: Ranking, symbol: Symbol) -> float:
    """A definition's rank; one nobody references gets a sliver of its file's rank, so it still orders."""
    return ranking.definitions.get((symbol.path, symbol.name), 0.0) + 0.01 * ranking.files.get(
        symbol.path, 0.0
    )
