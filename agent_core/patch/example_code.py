"""Example code a small model appends to a module goes under `if __name__ == "__main__":`.

Asked to rewrite a module whole, small models often end it with a demonstration (`print(summarize(CSV))`,
`assert add(2, 3) == 5`). At module level that runs on import, so the tests that import the module cannot even
be collected, and one wrong call in the demo hides a correct implementation (seen with the 1.5B model on the
benchmark's csv_summary task). Statements the original file did not have that only *do* something — calls,
asserts, loops over calls — are moved under a main guard, where `python module.py` still runs them.
"""

from __future__ import annotations

import ast

from agent_core.python_ast import parse_module

_GUARD = 'if __name__ == "__main__":'


def guard_example_code(original: str, new: str) -> tuple[str, int]:
    """`new` with the top-level statements it added that run code on import moved under a main guard (appended
    to an existing guard at the end, or a new one); returns (text, statements moved). Unparsable text, or
    nothing to move, comes back unchanged."""
    try:
        new_tree = parse_module(new)
        old_tree = parse_module(original)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # deeply nested text too
        return new, 0
    known = {ast.dump(stmt) for stmt in old_tree.body}
    lines = new.splitlines(keepends=True)
    moved = [
        stmt
        for stmt in new_tree.body
        if _runs_code(stmt) and ast.dump(stmt) not in known and stmt.end_lineno is not None
    ]
    if not moved:
        return new, 0
    taken: set[int] = set()
    blocks = []
    for stmt in moved:
        start = stmt.lineno - 1
        while start > 0 and lines[start - 1].lstrip().startswith("#"):  # its "# Example usage:" comment
            start -= 1
        end = stmt.end_lineno or stmt.lineno
        taken.update(range(start, end))
        blocks.append("".join(lines[start:end]))
    kept = "".join(line for i, line in enumerate(lines) if i not in taken).rstrip() + "\n"
    body = "".join(
        "    " + line if line.strip() else line for line in "".join(blocks).splitlines(keepends=True)
    )
    if not body.endswith("\n"):
        body += "\n"
    if _ends_with_guard(kept):
        return kept + body, len(moved)
    return kept + "\n\n" + _GUARD + "\n" + body, len(moved)


def _runs_code(stmt: ast.stmt) -> bool:
    """A statement that does something when the module is imported: a call or an assert (a docstring, a
    definition, an import or a constant does not)."""
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Call | ast.Await)
    if isinstance(stmt, ast.Assert):
        return True
    if isinstance(stmt, ast.For | ast.While):  # `for x in xs: print(f(x))`, not a loop that fills a table
        return all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) for s in stmt.body)
    return False


def _ends_with_guard(text: str) -> bool:
    """Whether the module's last top-level statement is a main guard (new lines can join it)."""
    try:
        body = parse_module(text).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if not body or not isinstance(body[-1], ast.If):
        return False
    return ast.unparse(body[-1].test).replace("'", '"') == '__name__ == "__main__"'
