"""`@name` in a task: the definition the user points at goes into the first prompt, found in the code graph
(`@parse_reply`, `@Client.send`, `@agent_core/loop.py:Loop`), so the model starts with it instead of spending
turns searching. `@calc.py` (a file) is a named file (agent_core.context.task_files), not a symbol.

The index is brought up to date first (only changed files are parsed) for at most INDEX_WAIT seconds. A name
the graph does not know is left out: in task texts `@` is as often a decorator (`use @dataclass`) or a handle
as a pointer into the project, and a "not found" line would be noise in a small window.

A task that names no file but names code without `@` ("rectangle_area gives the wrong result") gets the files
that define those names as if it had named them (`defining_files`): shown whole, their tests run first, edits
to them expected. Only names that look like code count (snake_case, camelCase, `Class.method`, `name()` or
in backticks), and only exact definitions outside tests.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from pathlib import Path

from agent_core.context.task_files import CODE_SUFFIXES
from agent_core.context.tokens import TokenCounter
from agent_core.memory.graph import lookup
from agent_core.memory.graph.index import CodeIndex
from agent_core.memory.graph.store import GraphStore, Symbol

log = logging.getLogger(__name__)

MAX_SYMBOLS = 3
INDEX_WAIT = 20.0
MAX_DEFINING_FILES = 2
_CODE_NAME = re.compile(
    r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?`"  # `name`, `Class.method`, `name()`
    r"|(?<![\w@/.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\("  # name(
    r"|(?<![\w@/.`])([A-Za-z]\w*_\w+|_\w+|[a-z]+[A-Z]\w*|[A-Z][a-z0-9]+[A-Z]\w*|[A-Z]\w*\.[a-z_]\w*)"
    r"(?![\w/`])"  # snake_case, camelCase, PascalCase, Class.method
)
_REFERENCE = re.compile(r"(?<![\w@/.])@((?:[\w.-]+/)*[\w.-]+:)?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?![\w/])")


def symbol_references(task: str) -> list[str]:
    """The `@name`s of a task, in order, without file names (`@calc.py`) and e-mail addresses."""
    found: list[str] = []
    for match in _REFERENCE.finditer(task):
        path, name = match.group(1) or "", match.group(2)
        if "." in name and "." + name.rsplit(".", 1)[1].lower() in CODE_SUFFIXES:
            continue  # @calc.py: a file
        reference = path + name
        if reference not in found:
            found.append(reference)
    return found[:MAX_SYMBOLS]


def code_names(task: str) -> list[str]:
    """Names in a task that look like code rather than words, in order (file names excluded)."""
    found: list[str] = []
    for match in _CODE_NAME.finditer(task):
        name = next(g for g in match.groups() if g)
        if "." in name and "." + name.rsplit(".", 1)[1].lower() in CODE_SUFFIXES:
            continue  # calc.py: a file
        if name not in found:
            found.append(name)
    return found


async def defining_files(root: Path, task: str, unsaved: Mapping[Path, str] | None = None) -> dict[str, str]:
    """{name: file} for the task's code names that the code graph defines exactly, outside tests (at most
    MAX_DEFINING_FILES files, the first names first); {} when it names none or the index is unavailable."""
    names = code_names(task)
    if not names:
        return {}
    index = CodeIndex.for_root(root)
    await asyncio.to_thread(index.catch_up, unsaved, INDEX_WAIT)
    if index.error is not None:
        log.warning("no definitions for the task's names: the code index is unavailable (%s)", index.error)
        return {}

    def resolve_all() -> dict[str, str]:
        store = GraphStore(index.path)
        try:
            out: dict[str, str] = {}
            for name in names:
                hits = [
                    s
                    for s in lookup.resolve(store, name)
                    if name in (s.qualname, s.name) and not lookup.is_test_path(s.path)
                ]
                new_file = bool(hits) and hits[0].path not in out.values()
                if hits and not (new_file and len(set(out.values())) >= MAX_DEFINING_FILES):
                    out[name] = hits[0].path
            return out
        finally:
            store.close()

    return await asyncio.to_thread(resolve_all)


async def symbols_context(
    root: Path,
    task: str,
    counter: TokenCounter,
    budget_tokens: int,
    unsaved: Mapping[Path, str] | None = None,
) -> str:
    """The definitions the task's `@name`s point at, within `budget_tokens`; "" when it names none."""
    names = symbol_references(task)
    if not names or budget_tokens < 64:
        return ""
    index = CodeIndex.for_root(root)
    complete = await asyncio.to_thread(index.catch_up, unsaved, INDEX_WAIT)
    if index.error is not None:
        log.warning("no @references: the code index is unavailable (%s)", index.error)
        return ""
    each = budget_tokens // len(names)

    def explain_all() -> list[str]:
        store = GraphStore(index.path)
        try:
            found = [(name, lookup.resolve(store, name)) for name in names]
            return [_definition(store, root, name, hits[0], each, counter) for name, hits in found if hits]
        finally:
            store.close()

    parts = await asyncio.to_thread(explain_all)
    if not parts:
        return ""
    note = "" if complete else " (the code index was still being built: some may be missing)"
    return f"Definitions the task points at{note}:\n\n" + "\n\n".join(parts)


def _definition(
    store: GraphStore, root: Path, name: str, symbol: Symbol, budget: int, counter: TokenCounter
) -> str:
    """One definition as a named file is shown: a header, then its lines as plain code in a fence (no line
    numbers: a small model copies what it sees into its edit), cut to `budget`; then where it is called."""
    header = (
        f"@{name}: {symbol.kind} {symbol.qualname} in {symbol.path}, lines {symbol.line}-{symbol.end_line}:"
    )
    used_by = lookup.callers(store, symbol)
    room = budget - counter.estimate(header + used_by) - 4
    code = lookup.definition_lines(root, symbol, room, counter.estimate, numbered=False)
    fence = f"```{Path(symbol.path).suffix.lstrip('.')}"
    return "\n".join([header, fence, *code, "```", used_by])
