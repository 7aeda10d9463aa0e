"""A ScaffoldSpec → the project's files ({relative path: text}), from the Jinja2 templates beside this module.

The templates hold the code; this module works out what they need that is awkward to say in Jinja: sample
values for the tests, the URLs the tests call, the order routes are registered in, the imports used.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2

from agent_core.scaffold.spec import ACTIONS, Endpoint, Entity, FieldSpec, ScaffoldSpec

TEMPLATES = Path(__file__).with_name("templates")


def pylit(value: Any) -> str:
    """A Python literal for JSON-like data, strings in double quotes (as formatters write them)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        inner = ", ".join(pylit(v) for v in value)
        return (
            f"({inner},)"
            if isinstance(value, tuple) and len(value) == 1
            else (f"({inner})" if isinstance(value, tuple) else f"[{inner}]")
        )
    if isinstance(value, dict):
        return "{" + ", ".join(f"{pylit(k)}: {pylit(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {type(value).__name__}")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Python, TOML and Markdown, not HTML
    )
    env.filters["pylit"] = pylit
    env.filters["pytuple"] = lambda names: pylit(tuple(names))
    env.filters["q"] = lambda text: json.dumps(str(text), ensure_ascii=False)
    return env


def sample_value(f: FieldSpec, n: int) -> Any:
    return {"str": f"{f.name.replace('_', ' ')} {n}", "int": n, "float": n + 0.5, "bool": n == 1}[f.type]


def samples(entity: Entity) -> dict[str, Any]:
    """Test data for one entity: a full record, a change to its first field, and both as CLI flags."""
    sample = {f.name: sample_value(f, 1) for f in entity.fields}
    first = entity.fields[0]
    changed = {first.name: sample_value(first, 2)}
    required = next((f.name for f in entity.fields if f.required), None)
    return {
        "sample": sample,
        "changed": changed,
        "args": _flags(entity, sample),
        "changed_args": _flags(entity, changed),
        "required": required,
    }


def _flags(entity: Entity, values: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for f in entity.fields:
        if f.name not in values:
            continue
        value = values[f.name]
        if f.type == "bool":
            out.append(f.flag if value else "--no-" + f.flag[2:])
        else:
            out += [f.flag, str(value)]
    return out


def _url(endpoint: Endpoint, value: str) -> str:
    return re.sub(r"\{[^}]*\}", value, endpoint.path)


def render(spec: ScaffoldSpec) -> dict[str, str]:
    env = _environment()
    files: dict[str, str] = {}

    def put(rel: str, template: str, **context: Any) -> None:
        files[rel] = env.get_template(template).render(spec=spec, **context)

    kind = spec.kind
    put(f"{spec.name}/__init__.py", f"{kind}/__init__.py.j2")
    put(f"{spec.name}/db.py", "common/db.py.j2")
    put(".gitignore", "common/gitignore.j2")
    put("pyproject.toml", f"{kind}/pyproject.toml.j2")
    if kind == "fastapi":
        _fastapi(spec, put)
    else:
        first = spec.entities[0]
        put("README.md", "cli/README.md.j2", example_args=" ".join(_quote(a) for a in samples(first)["args"]))
        put(f"{spec.name}/__main__.py", "cli/__main__.py.j2")
        put(f"{spec.name}/cli.py", "cli/cli.py.j2")
        put("tests/test_cli.py", "cli/test_cli.py.j2", samples={e.name: samples(e) for e in spec.entities})
    return files


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w.,:/=+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def _fastapi(spec: ScaffoldSpec, put: Any) -> None:
    # Literal paths before parameterised ones: GET /notes/search must not be taken for GET /notes/{id}.
    ordered = sorted(spec.endpoints, key=lambda e: e.action != "custom")
    used = {e.action for e in spec.endpoints}
    fastapi_imports = ["FastAPI", "HTTPException", *(["Response"] if "delete" in used else []), "status"]
    models = sorted(
        {
            name
            for e in spec.endpoints
            if e.entity is not None and e.action != "custom"
            for name in _models_for(e)
        }
    )
    put(
        f"{spec.name}/app.py",
        "fastapi/app.py.j2",
        ordered_endpoints=ordered,
        fastapi_imports=", ".join(fastapi_imports),
        model_imports=", ".join(models),
    )
    if models:
        uses_field = any(f.description for e in spec.entities for f in e.fields)
        put(f"{spec.name}/models.py", "fastapi/models.py.j2", uses_field=uses_field)
    put("README.md", "fastapi/README.md.j2", describe=_describe)
    put("tests/conftest.py", "fastapi/conftest.py.j2")
    for entity in spec.entities:
        routes = {e.action: e for e in spec.endpoints if e.entity is entity and e.action != "custom"}
        if not routes:
            continue
        views = {
            action: {
                "path": e.path,
                "method": e.method,
                "url": _url(e, "{created['id']}"),
                "missing": _url(e, "999999"),
            }
            for action, e in routes.items()
        }
        put(
            f"tests/test_{entity.plural}.py",
            "fastapi/test_entity.py.j2",
            entity=entity,
            routes=SimpleNamespace(**{action: views.get(action) for action in ACTIONS}),
            **{k: v for k, v in samples(entity).items() if k in ("sample", "changed", "required")},
        )
    stubs = [e for e in spec.endpoints if e.action == "custom"]
    if stubs:
        stub_views = [{"function": e.function, "method": e.method, "sample_url": _url(e, "1")} for e in stubs]
        put("tests/test_not_written_yet.py", "fastapi/test_stubs.py.j2", stubs=stub_views)


def _models_for(endpoint: Endpoint) -> list[str]:
    assert endpoint.entity is not None
    name = endpoint.entity.name
    if endpoint.action == "create" or (endpoint.action == "update" and endpoint.method == "PUT"):
        return [name, f"{name}Create"]
    if endpoint.action == "update":
        return [name, f"{name}Update"]
    return [] if endpoint.action == "delete" else [name]


def _describe(endpoint: Endpoint) -> str:
    entity = endpoint.entity
    if endpoint.action == "custom" or entity is None:
        return "not written yet (answers 501)"
    return {
        "list": f"the {entity.plural.replace('_', ' ')} (`?limit=&offset=`)",
        "create": f"store a new {entity.label} (201)",
        "get": f"one {entity.label} (404 if none)",
        "update": f"{'replace' if endpoint.method == 'PUT' else 'change the fields given of'} a {entity.label}",
        "delete": f"remove a {entity.label} (204)",
    }[endpoint.action]
