"""A "whole file" that is really a part of one: splice its definitions into the file instead.

Asked for a complete file, a small model often writes only the function it changed. Written as it is, that
drops the rest of the module (the 1.5B model on the bench: `covered_length` vanished, every test failed on
the import). For Python, when the block parses, redefines top-level functions or classes of the file and
leaves others out, each definition it gives replaces the file's own (decorators included), new definitions
are added at the end and new imports after the file's imports; everything else in the file is kept.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from agent_core.patch.lines import BOM

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Spliced:
    text: str
    replaced: list[str]
    added: list[str]


def splice_partial(original: str, block: str) -> Spliced | None:
    """The original with the block's definitions spliced in, or None when the block is a whole file (it
    keeps every top-level definition), is not Python, or shares no definition with the original."""
    if original.startswith(BOM):  # ast refuses a BOM in text; the file keeps it
        spliced = splice_partial(original.removeprefix(BOM), block.removeprefix(BOM))
        return None if spliced is None else Spliced(BOM + spliced.text, spliced.replaced, spliced.added)
    try:
        old_tree, new_tree = ast.parse(original), ast.parse(block)
    except (SyntaxError, ValueError):
        return None
    old_defs = {n.name: n for n in old_tree.body if isinstance(n, _DEFS)}
    new_defs = [n for n in new_tree.body if isinstance(n, _DEFS)]
    names = {n.name for n in new_defs}
    if not old_defs or not new_defs or set(old_defs) <= names or not (names & set(old_defs)):
        return None
    old_lines = original.splitlines(keepends=True)
    new_lines = block.splitlines(keepends=True)
    replaced: list[str] = []
    added: list[str] = []
    # Replace from the bottom up so earlier line numbers stay valid.
    for node in sorted((n for n in new_defs if n.name in old_defs), key=lambda n: -_start(old_defs[n.name])):
        target = old_defs[node.name]
        old_lines[_start(target) - 1 : _end(target)] = _source(new_lines, node)
        replaced.append(node.name)
    tail: list[str] = []
    for node in new_defs:
        if node.name not in old_defs:
            tail += ["\n", "\n", *_source(new_lines, node)]
            added.append(node.name)
    if tail:
        if old_lines and not old_lines[-1].endswith("\n"):
            old_lines[-1] += "\n"
        old_lines += tail
    imports = _new_imports(old_tree, new_tree, new_lines, original)
    if imports:
        at = max(
            (n.end_lineno or n.lineno for n in old_tree.body if isinstance(n, ast.Import | ast.ImportFrom)),
            default=0,
        )
        if at == 0 and old_tree.body and _is_docstring(old_tree.body[0]):
            at = old_tree.body[0].end_lineno or 0
        old_lines[at:at] = imports
    return Spliced("".join(old_lines), sorted(replaced), added)


def _start(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])  # type: ignore[attr-defined]


def _end(node: ast.AST) -> int:
    return int(node.end_lineno or node.lineno)  # type: ignore[attr-defined]


def _source(lines: list[str], node: ast.AST) -> list[str]:
    chunk = lines[_start(node) - 1 : _end(node)]
    if chunk and not chunk[-1].endswith("\n"):
        chunk[-1] += "\n"
    return chunk


def _new_imports(old: ast.Module, new: ast.Module, new_lines: list[str], original: str) -> list[str]:
    present = {line.strip() for line in original.splitlines()}
    out = []
    for node in new.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for line in new_lines[node.lineno - 1 : _end(node)]:
                if line.strip() not in present:
                    out.append(line if line.endswith("\n") else line + "\n")
    return out


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )
