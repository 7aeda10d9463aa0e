"""A "whole file" that is really a part of one: splice its definitions into the file instead.

Asked for a complete file, a small model often writes only the function it changed. Written as it is, that
drops the rest of the module (the 1.5B model on the bench: `covered_length` vanished, every test failed on
the import). For Python, when the block parses, redefines top-level functions or classes of the file and
leaves others out, each definition it gives replaces the file's own (decorators included), new definitions
are added at the end and new imports after the file's imports; everything else in the file is kept. A block
of methods without their class (`def emit(self, …)`, often still indented) replaces those methods inside
the class; new methods join the file's one class. A class the block gives without some of the methods the
file's class of that name has (its header and docstring only, or only the method that changed) keeps the
missing methods: they are put back at the end of the block's class.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from agent_core.patch.lines import BOM
from agent_core.python_ast import parse_module

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


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
    parsed = _parsed(original, block)
    if parsed is None:
        return None
    old_tree, block, new_tree = parsed
    old_defs = {n.name: n for n in old_tree.body if isinstance(n, _DEFS)}
    # A name the block defines twice (a draft, then the final version) is its last definition, as in Python:
    # splicing both would write the second over lines the first had already moved.
    new_defs = list({n.name: n for n in new_tree.body if isinstance(n, _DEFS)}.values())
    names = {n.name for n in new_defs}
    old_lines = original.splitlines(keepends=True)
    new_lines = block.splitlines(keepends=True)
    if old_defs and new_defs and not (names & set(old_defs)):
        return _splice_methods(old_tree, new_tree, old_lines, new_lines, original)
    if not old_defs or not new_defs or set(old_defs) <= names:
        return None
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
    _add_imports(old_tree, new_tree, old_lines, new_lines, original)
    return Spliced("".join(old_lines), sorted(replaced), added)


def restore_methods(original: str, block: str) -> tuple[str, list[str]] | None:
    """The block with each of its classes given back the methods that the file's class of the same name has
    and the block's lacks (as `Class.method`), or None when no class of the block lacks one. A 1.5B model on
    the bench wrote a 30-line class file as its header and docstring alone: as the whole file it deleted every
    method."""
    bom = BOM if block.startswith(BOM) else ""
    original, block = original.removeprefix(BOM), block.removeprefix(BOM)
    parsed = _parsed(original, block)
    if parsed is None:
        return None
    old_tree, block, new_tree = parsed
    old_classes = {n.name: n for n in old_tree.body if isinstance(n, ast.ClassDef)}
    old_lines, new_lines = original.splitlines(keepends=True), block.splitlines(keepends=True)
    restored: list[str] = []
    inserts: list[tuple[int, list[str]]] = []
    for cls in (n for n in new_tree.body if isinstance(n, ast.ClassDef) and n.name in old_classes):
        given = {m.name for m in cls.body if isinstance(m, _FUNCS)}
        missing = [m for m in old_classes[cls.name].body if isinstance(m, _FUNCS) and m.name not in given]
        if not missing:
            continue
        pad = " " * cls.body[0].col_offset
        lines = [
            line for m in missing for line in ["\n", *_indented(_outdented(_source(old_lines, m), m), pad)]
        ]
        inserts.append((_end(cls), lines))
        restored += [f"{cls.name}.{m.name}" for m in missing]
    if not restored:
        return None
    for at, lines in sorted(inserts, key=lambda insert: -insert[0]):
        if at and not new_lines[at - 1].endswith("\n"):
            new_lines[at - 1] += "\n"
        new_lines[at:at] = lines
    return bom + "".join(new_lines), restored


def _outdented(lines: list[str], node: ast.AST) -> list[str]:
    """A method's lines without its class's indentation (lines indented less, inside a string, stay)."""
    pad = " " * node.col_offset  # type: ignore[attr-defined]
    return [line.removeprefix(pad) for line in lines]


def drops_everything(original: str, block: str) -> bool:
    """Whether a Python "whole file" would delete every function and class of the file and define none: a
    snippet (an import line, a changed statement), not the file."""
    try:
        old_tree, new_tree = parse_module(original), parse_module(_dedented(block))
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(n, _DEFS) for n in old_tree.body) and not any(
        isinstance(n, _DEFS) for n in ast.walk(new_tree)
    )


def _parsed(original: str, block: str) -> tuple[ast.Module, str, ast.Module] | None:
    """The file's tree, the block as it is parsed (dedented) and its tree; None when either is not Python."""
    try:
        old_tree = parse_module(original)
        block = _dedented(block)
        return old_tree, block, parse_module(block)
    except (SyntaxError, ValueError):
        return None


def _dedented(block: str) -> str:
    """A method copied out of its class keeps its indentation; as a block of its own it is dedented."""
    return textwrap.dedent(block) if block[:1] in (" ", "\t") else block


def _splice_methods(
    old_tree: ast.Module, new_tree: ast.Module, old_lines: list[str], new_lines: list[str], original: str
) -> Spliced | None:
    """A block of methods without their class (`def emit(self, …)`): each replaces the method of that name
    in the file's one class that has it, at that class's indentation. None unless every function in the
    block is such a method."""
    classes = [n for n in old_tree.body if isinstance(n, ast.ClassDef)]
    methods: dict[str, ast.AST | None] = {}
    for cls in classes:
        for item in cls.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                methods[item.name] = None if item.name in methods else item  # ambiguous when two have it
    given = [n for n in new_tree.body if isinstance(n, _DEFS)]
    if not given or not all(_is_method(n) for n in given):
        return None
    replacing = [n for n in given if methods.get(n.name) is not None]
    adding = [n for n in given if n.name not in methods]
    if not replacing or (adding and len(classes) != 1) or len(replacing) + len(adding) != len(given):
        return None
    indent = " " * (classes[0].body[0].col_offset if classes else 4)
    if adding:  # new methods go at the end of the one class, before anything below it
        end = _end(classes[0])
        added = [line for n in adding for line in ["\n", *_indented(_source(new_lines, n), indent)]]
        old_lines[end:end] = added
    for node in sorted(replacing, key=lambda n: -_start(methods[n.name])):  # type: ignore[arg-type]
        target = methods[node.name]
        assert target is not None
        pad = " " * target.col_offset  # type: ignore[attr-defined]
        old_lines[_start(target) - 1 : _end(target)] = _indented(_source(new_lines, node), pad)
    _add_imports(old_tree, new_tree, old_lines, new_lines, original)
    return Spliced("".join(old_lines), sorted(n.name for n in replacing), [n.name for n in adding])


def _is_method(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and bool(node.args.args)
        and node.args.args[0].arg in ("self", "cls")
    )


def _indented(lines: list[str], pad: str) -> list[str]:
    return [pad + line if line.strip() else line for line in lines]


def _add_imports(
    old_tree: ast.Module, new_tree: ast.Module, old_lines: list[str], new_lines: list[str], original: str
) -> None:
    """The block's imports the file lacks go after the file's own imports (or its docstring)."""
    imports = _new_imports(old_tree, new_tree, new_lines, original)
    if imports:
        at = max(
            (n.end_lineno or n.lineno for n in old_tree.body if isinstance(n, ast.Import | ast.ImportFrom)),
            default=0,
        )
        if at == 0 and old_tree.body and is_docstring(old_tree.body[0]):
            at = old_tree.body[0].end_lineno or 0
        old_lines[at:at] = imports


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


def is_docstring(node: ast.stmt) -> bool:
    """Whether a module's first statement is its docstring."""
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )
