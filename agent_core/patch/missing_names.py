"""Imports and module-level names a small model's rewrite lost, added back when what they must be is certain.

Asked to rewrite a module whole, small models often use a module they never import (`calendar.monthrange`,
`copy.deepcopy`), or drop the file's header (its imports, a `Handler = Callable[..., Any]` alias, a `UNITS`
table) while still using what it defined. The test run then ends in a NameError, and a candidate that was
otherwise right is thrown away (the 1.5B model's first answer to the benchmark's add_months task failed only
for want of `import calendar`). A name the new text uses but never binds is added back when one of these says
exactly what it is:
1. the file's previous version imported it at module level (that import comes back as it was);
2. the previous version assigned it at module level (that assignment comes back, with what it needs);
3. it is a standard-library module used as `name.attribute`;
4. it is one of a few unambiguous standard-library names (`defaultdict`, `Any`, `dataclass`, …).
Anything else (a misspelt variable, a name from another project file) is left for the tests to report.
"""

from __future__ import annotations

import ast
import builtins
import sys

from pyflakes import checker, messages

from agent_core.patch.partial import is_docstring
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


def add_missing_names(original: str, new: str) -> tuple[str, list[str]]:
    """`new` with the imports and module-level assignments it lacks added back, for each name it uses but never
    binds whose meaning is certain (see the module's docstring); returns (text, the lines added). Text that
    does not parse, or lacks nothing, comes back unchanged."""
    try:
        tree = parse_module(new)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # deeply nested text too
        return new, []
    undefined = _undefined_names(tree)
    if not undefined:
        return new, []
    resolver = _Resolver(original, tree)
    for name in sorted(undefined):
        resolver.resolve(name)
    # The previous version's imports first, in its order; then the standard ones.
    restored = [line for name, line in resolver.previous_imports.items() if name in resolver.imports]
    imports = list(dict.fromkeys([*restored, *resolver.imports.values()]))
    assignments = [source for _, source in sorted(resolver.assignments.values())]
    if not imports and not assignments:
        return new, []
    text = _insert(new, tree, imports, assignments)
    try:
        parse_module(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return new, []
    return text, imports + assignments


class _Resolver:
    """What each unbound name of the new text is, from the previous version and the standard library."""

    def __init__(self, original: str, tree: ast.Module) -> None:
        try:
            old = parse_module(original)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            old = ast.Module(body=[], type_ignores=[])
        self.original = original
        self.previous_imports = _module_imports(old)
        self.previous_assignments = _module_assignments(old)
        self.bound = _module_bindings(tree) | set(dir(builtins))
        self.attribute_bases, self.called = _uses(tree)
        self.imports: dict[str, str] = {}
        self.assignments: dict[str, tuple[int, str]] = {}
        """name -> (its line in the previous version, its source): restored in the previous version's order."""
        self._failed: set[str] = set()

    def resolve(self, name: str, depth: int = 0) -> bool:
        if name in self.imports or name in self.assignments or name in self.bound:
            return True
        if name in self._failed or depth > 8:
            return False
        if name in self.previous_imports:
            self.imports[name] = self.previous_imports[name]
            return True
        if name in self.previous_assignments:
            stmt = self.previous_assignments[name]
            # Failed while its own value is resolved: a name that needs itself is not restored.
            self._failed.add(name)
            needs = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            bases, called = _uses(stmt)
            self.attribute_bases |= bases
            self.called |= called
            if all(self.resolve(need, depth + 1) for need in sorted(needs)):
                self._failed.discard(name)
                source = ast.get_source_segment(self.original, stmt) or ast.unparse(stmt)
                self.assignments[name] = (stmt.lineno, source)
                return True
            return False
        line = _standard_import(name, name in self.attribute_bases, name in self.called)
        if line is None:
            self._failed.add(name)
            return False
        self.imports[name] = line
        return True


def _undefined_names(tree: ast.Module) -> set[str]:
    found = checker.Checker(tree, "<new>").messages
    return {str(m.message_args[0]) for m in found if isinstance(m, messages.UndefinedName)}


def _module_imports(old: ast.Module) -> dict[str, str]:
    """Each name the previous version's module-level imports bind (also inside a top-level try or if), mapped
    to an import line that binds just that name as it did."""
    bound: dict[str, str] = {}
    for stmt in _top_level(old, (ast.Try, ast.If)):
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


def _top_level(tree: ast.Module, opened: tuple[type[ast.If | ast.Try | ast.With], ...]) -> list[ast.stmt]:
    """The module's statements, with the body of each top-level statement of the `opened` kinds after it."""
    statements: list[ast.stmt] = []
    for stmt in tree.body:
        statements.append(stmt)
        if isinstance(stmt, opened):
            statements.extend(stmt.body)
    return statements


def _uses(tree: ast.AST) -> tuple[set[str], set[str]]:
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


def _module_assignments(old: ast.Module) -> dict[str, ast.stmt]:
    """The previous version's module-level assignments of one plain name (`UNITS = [...]`, `Handler = ...`)."""
    found: dict[str, ast.stmt] = {}
    for stmt in old.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            found.setdefault(stmt.targets[0].id, stmt)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            found.setdefault(stmt.target.id, stmt)
    return found


def _module_bindings(tree: ast.Module) -> set[str]:
    """The names the new text binds at module level: definitions, imports, assignment and loop targets (also
    inside a top-level if, try or with)."""
    bound: set[str] = set()
    for stmt in _top_level(tree, (ast.If, ast.Try, ast.With)):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(stmt.name)
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            bound.update(a.asname or a.name.split(".")[0] for a in stmt.names)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                bound.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return bound


def _standard_import(name: str, used_as_module: bool, called: bool) -> str | None:
    if used_as_module and name in sys.stdlib_module_names and not name.startswith("_"):
        return f"import {name}"
    if name in _KNOWN_NAMES and (called or not name.islower()):
        return f"from {_KNOWN_NAMES[name]} import {name}"
    return None


def _insert(text: str, tree: ast.Module, imports: list[str], assignments: list[str]) -> str:
    """The import lines put after the module's leading imports (after its docstring when it has none), the
    assignments after them, set off by a blank line."""
    body = tree.body
    index = 0
    docstring_end = 0
    if body and is_docstring(body[0]):
        docstring_end = body[0].end_lineno or 0
        index = 1
    last_import = 0
    while index < len(body) and isinstance(body[index], ast.Import | ast.ImportFrom):
        last_import = body[index].end_lineno or last_import
        index += 1
    source = text.splitlines(keepends=True)
    if source and not source[-1].endswith("\n"):
        source[-1] += "\n"
    block = "".join(line + "\n" for line in imports)
    if assignments:
        block += ("\n" if block or last_import else "") + "".join(a + "\n" for a in assignments)
    at = last_import or docstring_end
    if not last_import and at:  # after the docstring: a block of its own
        block = "\n" + block
    if at < len(source) and source[at].strip():
        block += "\n"
    return "".join(source[:at]) + block + "".join(source[at:])
