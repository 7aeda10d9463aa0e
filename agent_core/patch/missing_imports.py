"""Imports a small model forgot, added back when what they must be is certain.

Asked to rewrite a module whole, small models often use a module they never import (`calendar.monthrange`,
`copy.deepcopy`) or drop an import line of the file while still using it (`dt.date` after `import datetime as
dt` is gone). The test run then ends in a NameError, and a candidate that was otherwise right is thrown away
(the 1.5B model's first answer to the benchmark's add_months task fails only for want of `import calendar`).
A name the new text uses but never binds gets an import when one of these says exactly which:
1. the file's previous version imported it at module level (that import comes back as it was);
2. it is a standard-library module used as `name.attribute`;
3. it is one of a few unambiguous standard-library names (`defaultdict`, `Any`, `dataclass`, …).
Anything else (a misspelt variable, a name from another project file) is left for the tests to report.
"""

from __future__ import annotations

import ast
import sys

from pyflakes import checker, messages

from agent_core.python_ast import parse_module

# Names whose module is certain. Left out: names as often a variable as an import (`count`, `product`, `date`)
# and names found in more than one standard module (`datetime`). A lower-case one counts only when called or
# used as a decorator (`field(default_factory=list)`, `@dataclass`), not as a value that may be a lost variable.
_TYPING = (
    "Any Callable ClassVar Dict Final FrozenSet Generic Iterable Iterator List Literal Mapping MutableMapping"
)
_TYPING += " NamedTuple Optional Protocol Sequence Set Tuple Type TypeVar TypedDict Union cast overload"
_KNOWN_NAMES: dict[str, str] = {
    **dict.fromkeys(_TYPING.split(), "typing"),
    **dict.fromkeys(["Counter", "OrderedDict", "defaultdict", "deque", "namedtuple"], "collections"),
    **dict.fromkeys(
        ["cache", "cached_property", "lru_cache", "partial", "reduce", "total_ordering", "wraps"], "functools"
    ),
    **dict.fromkeys(["asdict", "dataclass", "field"], "dataclasses"),
    **dict.fromkeys(["ABC", "abstractmethod"], "abc"),
    **dict.fromkeys(["Enum", "IntEnum", "auto"], "enum"),
    **dict.fromkeys(["timedelta", "timezone"], "datetime"),
    "deepcopy": "copy",
    "Decimal": "decimal",
    "Fraction": "fractions",
    "Path": "pathlib",
    "dedent": "textwrap",
    "heappush": "heapq",
    "heappop": "heapq",
    "bisect_left": "bisect",
    "bisect_right": "bisect",
    "groupby": "itertools",
    "islice": "itertools",
    "zip_longest": "itertools",
    "isclose": "math",
    "sqrt": "math",
    "floor": "math",
    "ceil": "math",
}


def add_missing_imports(original: str, new: str) -> tuple[str, list[str]]:
    """`new` with an import line added for each name it uses but never binds, where the module is certain (see
    the module's docstring); returns (text, the import lines added). Text that does not parse, or needs no
    import, comes back unchanged."""
    try:
        tree = parse_module(new)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # deeply nested text too
        return new, []
    undefined = _undefined_names(tree)
    if not undefined:
        return new, []
    previous = _module_imports(original)
    attribute_bases, called = _uses(tree)
    added: list[str] = []
    for name in sorted(undefined):
        line = previous.get(name) or _standard_import(name, name in attribute_bases, name in called)
        if line and line not in added:
            added.append(line)
    if not added:
        return new, []
    text = _insert_imports(new, tree, added)
    try:
        parse_module(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return new, []
    return text, added


def _undefined_names(tree: ast.Module) -> set[str]:
    found = checker.Checker(tree, "<new>").messages
    return {str(m.message_args[0]) for m in found if isinstance(m, messages.UndefinedName)}


def _module_imports(original: str) -> dict[str, str]:
    """Each name the previous version's module-level imports bind (also inside a top-level try or if), mapped
    to an import line that binds just that name as it did."""
    try:
        body = parse_module(original).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    statements: list[ast.stmt] = []
    for stmt in body:
        statements.append(stmt)
        if isinstance(stmt, ast.Try | ast.If):
            statements.extend(stmt.body)
    bound: dict[str, str] = {}
    for stmt in statements:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                name = alias.asname or alias.name.split(".")[0]
                spelled = f"{alias.name} as {alias.asname}" if alias.asname else alias.name
                bound.setdefault(name, f"import {spelled}")
        elif isinstance(stmt, ast.ImportFrom):
            source = "." * stmt.level + (stmt.module or "")
            for alias in stmt.names:
                if alias.name == "*":
                    continue
                name = alias.asname or alias.name
                spelled = f"{alias.name} as {alias.asname}" if alias.asname else alias.name
                bound.setdefault(name, f"from {source} import {spelled}")
    return bound


def _uses(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names used as `name.attribute`, and those called or used as a decorator."""
    bases: set[str] = set()
    called: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            bases.add(node.value.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(node.func.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            called.update(d.id for d in node.decorator_list if isinstance(d, ast.Name))
    return bases, called


def _standard_import(name: str, used_as_module: bool, called: bool) -> str | None:
    if used_as_module and name in sys.stdlib_module_names and not name.startswith("_"):
        return f"import {name}"
    if name in _KNOWN_NAMES and (called or not name.islower()):
        return f"from {_KNOWN_NAMES[name]} import {name}"
    return None


def _insert_imports(text: str, tree: ast.Module, lines: list[str]) -> str:
    """The import lines put after the module's leading imports (after its docstring when it has none)."""
    body = tree.body
    index = 0
    docstring_end = 0
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        docstring_end = first.end_lineno or 0
        index = 1
    last_import = 0
    while index < len(body) and isinstance(body[index], ast.Import | ast.ImportFrom):
        last_import = body[index].end_lineno or last_import
        index += 1
    source = text.splitlines(keepends=True)
    if source and not source[-1].endswith("\n"):
        source[-1] += "\n"
    block = "".join(line + "\n" for line in lines)
    if last_import:
        at = last_import
    else:  # no imports yet: a block of its own, set off by blank lines
        at = docstring_end
        block = ("\n" if at else "") + block
        if at < len(source) and source[at].strip():
            block += "\n"
    return "".join(source[:at]) + block + "".join(source[at:])
