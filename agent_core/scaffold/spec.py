"""A scaffold spec (TOML) → ScaffoldSpec: the project's name and shape, its entities with their fields, its
storage, and its endpoints (a FastAPI service) or commands (a CLI). Every mistake is one SpecError line.

    name = "notes_api"                 # the Python package (an identifier)
    kind = "fastapi"                   # fastapi | cli
    description = "A small notes service"
    [storage]
    type = "sqlite"                    # the only storage so far
    path = "notes.db"                  # default: NAME.db; the NAME_DB environment variable overrides it
    [entities.Note]                    # fields: str, int, float, bool; `?` for optional; or a table
    title = "str"                      #   { type = "str", default = "", description = "…" }
    pinned = { type = "bool", default = false }
    endpoints = ["GET /notes", "POST /notes", "GET /notes/{id}", "PATCH /notes/{id}", "DELETE /notes/{id}"]
                                       # fastapi; default: all five for every entity. Others get a stub (501)
    [[commands]]                       # cli: every entity gets `ENTITY add|list|show|update|delete`;
    name = "stats"                     #   these are more top-level commands, as stubs
    help = "…"

An entity's table and URL name is its plural (Note → notes, Category → categories); the long form
`[entities.Person] plural = "people"` with `[entities.Person.fields]` names it.
"""

from __future__ import annotations

import keyword
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

SCALARS = ("str", "int", "float", "bool")
ACTIONS = ("list", "create", "get", "update", "delete")
CRUD_ROUTES = (
    ("GET", "", "list"),
    ("POST", "", "create"),
    ("GET", "/{id}", "get"),
    ("PATCH", "/{id}", "update"),
)
RESERVED = {"id", "limit", "offset", "db", "command", "action", "payload", "self"}


class SpecError(ValueError):
    """The scaffold spec cannot be used; `str(exc)` is one line naming the file and what to change."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    """str, int, float or bool."""
    optional: bool = False
    default: Any = None
    has_default: bool = False
    description: str = ""

    @property
    def required(self) -> bool:
        return not self.optional and not self.has_default

    @property
    def python(self) -> str:
        return f"{self.type} | None" if self.optional else self.type

    @property
    def sql(self) -> str:
        kind = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "INTEGER"}[self.type]
        out = kind if self.optional else f"{kind} NOT NULL"
        if self.has_default and self.default is not None:
            out += f" DEFAULT {sql_literal(self.default)}"
        return out

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Entity:
    name: str
    """CamelCase, as written (Note)."""
    snake: str
    """note"""
    plural: str
    """notes: the table and the URL segment."""
    fields: tuple[FieldSpec, ...]

    @property
    def label(self) -> str:
        return self.snake.replace("_", " ")

    @property
    def command(self) -> str:
        """Its CLI command: order-item."""
        return self.snake.replace("_", "-")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    entity: Entity | None
    action: str
    """list, create, get, update, delete, or custom (a stub answering 501)."""
    params: tuple[str, ...]
    """Path parameters, in order."""

    @property
    def function(self) -> str:
        if self.action != "custom" and self.entity is not None:
            noun = self.entity.plural if self.action == "list" else self.entity.snake
            return f"{self.action}_{noun}"
        words = re.sub(r"\{[^}]*\}", "", self.path).strip("/").replace("/", "_").replace("-", "_")
        return re.sub(r"_+", "_", f"{self.method.lower()}_{words or 'root'}").strip("_")


@dataclass(frozen=True)
class Command:
    name: str
    help: str

    @property
    def function(self) -> str:
        return "cmd_" + self.name.replace("-", "_")


@dataclass(frozen=True)
class ScaffoldSpec:
    name: str
    kind: Literal["fastapi", "cli"]
    description: str
    db_path: str
    entities: tuple[Entity, ...]
    endpoints: tuple[Endpoint, ...] = ()
    commands: tuple[Command, ...] = field(default_factory=tuple)

    @property
    def env_var(self) -> str:
        return f"{self.name.upper()}_DB"

    @property
    def dist(self) -> str:
        return self.name.replace("_", "-")


def sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def pluralize(word: str) -> str:
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def load_scaffold_spec(path: str | Path) -> ScaffoldSpec:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{path.name}: cannot read it: {exc}") from None
    try:
        return parse_spec(data)
    except SpecError as exc:
        raise SpecError(f"{path.name}: {exc}") from None


def parse_spec(data: dict[str, Any]) -> ScaffoldSpec:
    unknown = set(data) - {"name", "kind", "description", "storage", "entities", "endpoints", "commands"}
    if unknown:
        raise SpecError(f"unknown key(s) {', '.join(sorted(unknown))}")
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise SpecError('name: give the package name in lower case, e.g. name = "notes_api"')
    kind = data.get("kind")
    if kind not in ("fastapi", "cli"):
        raise SpecError('kind: "fastapi" (a service with SQLite and tests) or "cli" (argparse and tests)')
    storage = data.get("storage", {})
    if not isinstance(storage, dict) or storage.get("type", "sqlite") != "sqlite":
        raise SpecError('storage.type: only "sqlite" is supported')
    db_path = str(storage.get("path") or f"{name}.db")
    raw_entities = data.get("entities")
    if not isinstance(raw_entities, dict) or not raw_entities:
        raise SpecError('entities: declare at least one, e.g. [entities.Note] title = "str"')
    entities = tuple(_entity(n, v) for n, v in raw_entities.items())
    plurals = [e.plural for e in entities]
    if len(set(plurals)) != len(plurals):
        raise SpecError("entities: two entities share a plural; give one a plural of its own")
    if kind == "fastapi":
        if "commands" in data:
            raise SpecError("commands: a fastapi project has endpoints, not commands")
        return ScaffoldSpec(
            name, kind, str(data.get("description", "")), db_path, entities, _endpoints(data, entities)
        )
    if "endpoints" in data:
        raise SpecError("endpoints: a cli project has commands, not endpoints")
    return ScaffoldSpec(
        name, kind, str(data.get("description", "")), db_path, entities, commands=_commands(data, entities)
    )


def _entity(name: str, raw: Any) -> Entity:
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
        raise SpecError(f"entities.{name}: an entity name is CamelCase, e.g. Note or OrderItem")
    if not isinstance(raw, dict):
        raise SpecError(f"entities.{name}: give its fields as a table")
    plural = None
    if isinstance(raw.get("fields"), dict):  # the long form
        extra = set(raw) - {"fields", "plural"}
        if extra:
            raise SpecError(f"entities.{name}: unknown key(s) {', '.join(sorted(extra))} (fields, plural)")
        plural, raw = raw.get("plural"), raw["fields"]
    snake = snake_case(name)
    plural = str(plural) if plural else pluralize(snake)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", plural):
        raise SpecError(f"entities.{name}.plural: lower case letters, digits and _")
    if not raw:
        raise SpecError(f"entities.{name}: declare at least one field")
    fields = tuple(_field(f"entities.{name}.{k}", k, v) for k, v in raw.items())
    return Entity(name, snake, plural, fields)


def _field(where: str, name: str, raw: Any) -> FieldSpec:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name) or name in RESERVED:
        raise SpecError(f"{where}: a field name is lower_case and not one of {', '.join(sorted(RESERVED))}")
    decl = {"type": raw} if isinstance(raw, str) else raw
    if not isinstance(decl, dict) or not isinstance(decl.get("type"), str):
        raise SpecError(f'{where}: give a type, e.g. {name} = "str" or {{ type = "int", default = 0 }}')
    extra = set(decl) - {"type", "default", "description"}
    if extra:
        raise SpecError(f"{where}: unknown key(s) {', '.join(sorted(extra))} (type, default, description)")
    kind = decl["type"].strip()
    optional = kind.endswith("?")
    kind = kind.rstrip("?").strip()
    if kind not in SCALARS:
        raise SpecError(f"{where}: unknown type {kind!r} (str, int, float, bool; add ? for optional)")
    has_default = "default" in decl
    default = decl.get("default")
    expected = {"str": str, "int": int, "float": int | float, "bool": bool}[kind]
    if has_default and not (
        isinstance(default, expected) and (kind == "bool" or not isinstance(default, bool))
    ):
        raise SpecError(f"{where}: the default {default!r} is not a {kind}")
    return FieldSpec(name, kind, optional, default, has_default, str(decl.get("description", "")))


def _endpoints(data: dict[str, Any], entities: tuple[Entity, ...]) -> tuple[Endpoint, ...]:
    raw = data.get("endpoints")
    if raw is None:
        raw = [
            f"{method} /{e.plural}{suffix}"
            for e in entities
            for method, suffix, _ in (*CRUD_ROUTES, ("DELETE", "/{id}", "delete"))
        ]
    if not isinstance(raw, list) or not raw:
        raise SpecError('endpoints: a list like ["GET /notes", "POST /notes"]')
    out: list[Endpoint] = []
    seen: set[tuple[str, str]] = set()
    for n, item in enumerate(raw, start=1):
        if isinstance(item, str) and len(item.split()) == 2:
            method, route = item.split()
        elif isinstance(item, dict) and {"method", "path"} <= set(item):
            method, route = str(item["method"]), str(item["path"])
        else:
            raise SpecError(f'endpoints[{n}]: "METHOD /path" or {{ method = "GET", path = "/notes" }}')
        method = method.upper()
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise SpecError(f"endpoints[{n}]: unknown method {method}")
        if not re.fullmatch(r"(/([a-z0-9_-]+|\{[a-z_][a-z0-9_]*\}))+", route):
            raise SpecError(f"endpoints[{n}]: {route!r} is not a path like /notes or /notes/{{id}}")
        if (method, route) in seen:
            raise SpecError(f"endpoints[{n}]: {method} {route} is declared twice")
        seen.add((method, route))
        out.append(_endpoint(method, route, entities))
    names = [e.function for e in out]
    clash = next((f for f in names if names.count(f) > 1), None)
    if clash:
        raise SpecError(f"endpoints: two endpoints would both be the function {clash}; change one path")
    return tuple(out)


def _endpoint(method: str, route: str, entities: tuple[Entity, ...]) -> Endpoint:
    parts = route.strip("/").split("/")
    params = tuple(p[1:-1] for p in parts if p.startswith("{"))
    entity = next((e for e in entities if e.plural == parts[0]), None)
    action = "custom"
    if entity is not None and len(parts) == 1:
        action = {"GET": "list", "POST": "create"}.get(method, "custom")
    elif entity is not None and len(parts) == 2 and parts[1].startswith("{"):
        action = {"GET": "get", "PUT": "update", "PATCH": "update", "DELETE": "delete"}.get(method, "custom")
    return Endpoint(method, route, entity, action, params)


def _commands(data: dict[str, Any], entities: tuple[Entity, ...]) -> tuple[Command, ...]:
    raw = data.get("commands", [])
    if not isinstance(raw, list):
        raise SpecError('commands: a list of tables, [[commands]] name = "stats"')
    taken = {e.snake for e in entities}
    out = []
    for n, item in enumerate(raw, start=1):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise SpecError(f'commands[{n}]: give it a name, e.g. name = "stats"')
        name = item["name"]
        if not re.fullmatch(r"[a-z][a-z0-9-]*", name) or name in taken:
            raise SpecError(
                f"commands[{n}]: {name!r} must be lower-case words joined by - and not an entity's name"
            )
        taken.add(name)
        out.append(Command(name, str(item.get("help", "") or f"{name} (not implemented yet)")))
    return tuple(out)
