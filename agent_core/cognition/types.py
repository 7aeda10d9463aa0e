"""Field declarations of a declared prompt (`[inputs]`, `[output]`, `[types.NAME]`) → pydantic models.

A field is a type expression or a table:
    title = "str"
    file = "str?"                                  # optional: null allowed, default null
    steps = { type = "list[Step]", description = "in order", min = 1, max = 12 }
    level = { type = "str", choices = ["low", "high"], default = "low" }
Types: str, int, float, bool, list[T], a name from [types], and T? (or T | None) for optional. `min`/`max`
bound a number's value or a text's or list's length. The models are made with pydantic.create_model.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

SCALARS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
FIELD_KEYS = {"type", "description", "default", "choices", "min", "max"}


class TypeSpecError(ValueError):
    """A field declaration that cannot be turned into a type; the message names what is wrong."""


def parse_type(expr: str, named: Mapping[str, type[BaseModel]]) -> tuple[Any, bool]:
    """A type expression → (annotation, optional)."""
    text = " ".join(str(expr).split())
    optional = False
    if text.endswith("?"):
        text, optional = text[:-1].strip(), True
    elif text.replace(" ", "").endswith("|None"):
        text, optional = text[: text.rindex("|")].strip(), True
    annotation = _base(text, named)
    return (annotation | None if optional else annotation), optional


def _base(text: str, named: Mapping[str, type[BaseModel]]) -> Any:
    if text in SCALARS:
        return SCALARS[text]
    if text in named:
        return named[text]
    if text.startswith("list[") and text.endswith("]"):
        inner, _ = parse_type(text[5:-1], named)
        return list[inner]  # type: ignore[valid-type]
    known = ", ".join([*SCALARS, *named, "list[T]"])
    raise TypeSpecError(f"unknown type {text!r} (use {known}; add ? for optional)")


def describe_type(expr: str) -> str:
    """A type expression as the model should read it: `str?` → `str or null`."""
    text = " ".join(str(expr).split())
    if text.endswith("?"):
        return f"{describe_type(text[:-1])} or null"
    if text.startswith("list[") and text.endswith("]"):
        return f"list of {describe_type(text[5:-1])}"
    return text


def build_model(
    name: str, fields: Mapping[str, Any], named: Mapping[str, type[BaseModel]] | None = None
) -> tuple[type[BaseModel], list[str]]:
    """A pydantic model for `fields`, and one line per field describing it (for the prompt)."""
    named = named or {}
    definitions: dict[str, Any] = {}
    lines: list[str] = []
    for field_name, raw in fields.items():
        where = f"{name}.{field_name}"
        if not field_name.isidentifier() or keyword.iskeyword(field_name) or field_name.startswith("_"):
            raise TypeSpecError(f"{where}: a field name must be a Python identifier not starting with _")
        if hasattr(BaseModel, field_name):
            raise TypeSpecError(f"{where}: {field_name!r} is reserved (a pydantic model attribute)")
        decl = {"type": raw} if isinstance(raw, str) else raw
        if not isinstance(decl, Mapping) or "type" not in decl:
            raise TypeSpecError(f'{where}: give a type, e.g. {field_name} = "str" or {{ type = "str" }}')
        unknown = set(decl) - FIELD_KEYS
        if unknown:
            raise TypeSpecError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))} (use {sorted(FIELD_KEYS)})"
            )
        try:
            annotation, optional = parse_type(str(decl["type"]), named)
        except TypeSpecError as exc:
            raise TypeSpecError(f"{where}: {exc}") from None
        if "choices" in decl:
            choices = decl["choices"]
            if not isinstance(choices, list) or not choices:
                raise TypeSpecError(f"{where}: choices must be a non-empty list")
            literal = Literal[tuple(choices)]  # type: ignore[valid-type]
            annotation = literal | None if optional else literal
        base = str(decl["type"]).rstrip("?").strip()
        bounds = _bounds(decl, base, where)
        default = decl.get("default", None if optional else ...)
        definitions[field_name] = (annotation, Field(default, description=decl.get("description"), **bounds))
        line = f"- {field_name} ({describe_type(str(decl['type']))}"
        line += ", optional)" if default is not ... else ")"
        if "choices" in decl:
            line += " one of " + ", ".join(map(repr, decl["choices"]))
        if decl.get("description"):
            line += f": {decl['description']}"
        lines.append(line)
    model = create_model(name, __config__=ConfigDict(extra="ignore"), **definitions)
    return model, lines


def _bounds(decl: Mapping[str, Any], base: str, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, (number, size) in {"min": ("ge", "min_length"), "max": ("le", "max_length")}.items():
        if key not in decl:
            continue
        value = decl[key]
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TypeSpecError(f"{where}: {key} must be a number")
        if base in ("int", "float"):
            out[number] = value
        elif base == "str" or base.startswith("list["):
            out[size] = int(value)
        else:
            raise TypeSpecError(f"{where}: {key} applies to numbers, text and lists only")
    return out
