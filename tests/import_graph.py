"""The import graph of some top-level packages, read with `ast` (nothing is imported or run).

Every `import` and `from … import` counts, at module level or inside a function (an in-function import still
ties the two modules: it only hides the loop until that function runs). Imports under `if TYPE_CHECKING:` never
run; they are kept apart (`Edge.type_only`) for the layering rules, and left out of the runtime graph.
Edges follow grimp's reading: `from a.b import c` is an edge to the module a.b.c when there is one, else to
a.b; importing a.b.c does not add edges to the packages above it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    type_only: bool

    def __str__(self) -> str:
        kind = " (type only)" if self.type_only else ""
        return f"{self.source}:{self.line} imports {self.target}{kind}"


def module_names(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name → file, for every .py file of `packages` under `root`."""
    names: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement, anywhere in the tree, and whether it sits under `if TYPE_CHECKING:`."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, type_only = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, type_only
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend((child, True) for child in node.body)
            stack.extend((child, type_only) for child in node.orelse)
            continue
        stack.extend((child, type_only) for child in ast.iter_child_nodes(node))


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The module `name` names, or the nearest package above it that is one of ours (None: not ours)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def edges(root: Path, packages: Iterable[str]) -> list[Edge]:
    """The import edges between the modules of `packages`."""
    modules = module_names(root, packages)
    found: list[Edge] = []
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, type_only in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [_known(alias.name, modules) for alias in node.names]
            else:
                base = _resolve(module, is_package, node)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else _known(base, modules)
                    for alias in node.names
                ]
            for target in dict.fromkeys(targets):
                if target is not None and target != module:
                    found.append(Edge(module, target, node.lineno, type_only))
    return found


def cycles(graph_edges: Iterable[Edge]) -> list[list[Edge]]:
    """One shortest loop through each group of modules that import each other (Tarjan's strongly connected
    components), as the edges that close it."""
    out: dict[str, list[Edge]] = {}
    for edge in graph_edges:
        out.setdefault(edge.source, []).append(edge)
        out.setdefault(edge.target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the number of modules (a few hundred)
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in out[node]:
            if edge.target not in index:
                visit(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(out):
        if node not in index:
            visit(node)
    return [_shortest_loop(min(group), group, out) for group in groups]


def _shortest_loop(start: str, group: set[str], out: dict[str, list[Edge]]) -> list[Edge]:
    paths: dict[str, list[Edge]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for edge in out[node]:
                if edge.target == start:
                    return [*paths[node], edge]
                if edge.target in group and edge.target not in paths:
                    paths[edge.target] = [*paths[node], edge]
                    following.append(edge.target)
        frontier = following
    raise AssertionError(f"no loop through {start}")  # a strongly connected group always has one


def describe(loop: list[Edge]) -> str:
    """`a -> b -> a` and the import statement behind each arrow."""
    names = " -> ".join([loop[0].source, *(edge.target for edge in loop)])
    return names + "".join(f"\n    {edge}" for edge in loop)
