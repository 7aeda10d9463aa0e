"""The VS Code extension's settings, derived from the language server's options model.

Every option the server accepts (lsp_server.settings.LspOptions, plus every agent_core Settings field it passes
to the agent) becomes `smallcode.<camelCaseName>` in vscode-extension/package.json with the same default, type,
bounds and enum, and the field's docstring as its description. tests/editors/test_vscode_settings_sync.py
compares package.json with this; after changing an option, regenerate with:

    python -m tests.editors.vscode_settings --write
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import textwrap
import types as pytypes
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from agent_core.config import Settings
from lsp_server.settings import LspOptions

PACKAGE_JSON = Path(__file__).resolve().parents[2] / "vscode-extension" / "package.json"
CLIENT_PREFIXES = ("smallcode.server.", "smallcode.trace.")
"""The extension's own settings (how to start the server), never sent to it."""
_SHARED = ("model", "base_url", "api_key")
"""Settings fields the server takes as its own options (LspOptions), not as agent options."""
EXTENSION_NOTES: dict[str, dict[str, str]] = {
    "smallcode.apiKey": {
        "markdownDeprecationMessage": "Use **SmallCode: Set API Key**: VS Code keeps the key in its secret storage "
        "and passes it to the server; a key set here is moved there and cleared from the settings.",
    },
}
"""What the extension does differently with a server option (added to its schema)."""


def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """Attribute docstrings (the string right under each field) of a model class."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(model)))
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for node, following in zip(body, body[1:], strict=False):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def _json_type(annotation: Any) -> tuple[str | list[str], list[str] | None]:
    """JSON schema type (and enum) of a field annotation."""
    origin = get_origin(annotation)
    if origin is Literal:
        return "string", [str(a) for a in get_args(annotation)]
    if origin in (Union, pytypes.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        inner, enum = _json_type(members[0])
        if len(members) != 1 or not isinstance(inner, str):
            raise TypeError(f"unsupported annotation {annotation!r}")
        return [inner, "null"], enum
    if origin is list and get_args(annotation) == (str,):
        return "array", None
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if annotation in names:
        return names[annotation], None
    raise TypeError(f"unsupported annotation {annotation!r}")


def _schema(field: FieldInfo, description: str) -> dict[str, Any]:
    kind, enum = _json_type(field.annotation)
    schema: dict[str, Any] = {"type": kind, "default": field.get_default(call_default_factory=True)}
    if kind == "array":
        schema["items"] = {"type": "string"}
    if enum:
        schema["enum"] = enum
    for meta in field.metadata:
        if isinstance(meta, annotated_types.Ge):
            schema["minimum"] = meta.ge
        elif isinstance(meta, annotated_types.Gt):
            schema["exclusiveMinimum"] = meta.gt
        elif isinstance(meta, annotated_types.Le):
            schema["maximum"] = meta.le
        elif isinstance(meta, annotated_types.Lt):
            schema["exclusiveMaximum"] = meta.lt
    schema["markdownDescription"] = description
    return schema


def server_properties() -> dict[str, dict[str, Any]]:
    """`smallcode.*` settings for every server option, in the models' field order."""
    props: dict[str, dict[str, Any]] = {}
    own_docs = field_docs(LspOptions)
    for name, field in LspOptions.model_fields.items():
        if name != "agent":
            props[f"smallcode.{to_camel(name)}"] = _schema(field, own_docs.get(name, ""))
    agent_docs = field_docs(Settings)
    for name, field in Settings.model_fields.items():
        if name not in _SHARED:
            props[f"smallcode.{to_camel(name)}"] = _schema(field, agent_docs.get(name, ""))
    for key, notes in EXTENSION_NOTES.items():
        props[key] = props[key] | notes
    return props


def server_defaults() -> dict[str, Any]:
    """The server's default for each option, read from the models themselves (not from the schema above)."""
    defaults = {f"smallcode.{to_camel(k)}": v for k, v in LspOptions().model_dump().items() if k != "agent"}
    agent = Settings.model_construct().model_dump()
    defaults |= {f"smallcode.{to_camel(k)}": v for k, v in agent.items() if k not in _SHARED}
    return defaults


def package_properties(package: dict[str, Any]) -> dict[str, dict[str, Any]]:
    configuration = package["contributes"]["configuration"]
    sections = configuration if isinstance(configuration, list) else [configuration]
    merged: dict[str, dict[str, Any]] = {}
    for section in sections:
        merged |= section.get("properties", {})
    return merged


def write(path: Path = PACKAGE_JSON) -> None:
    """Rewrite the server options in package.json (the extension's own settings are kept, listed first)."""
    package = json.loads(path.read_text(encoding="utf-8"))
    configuration = package["contributes"]["configuration"]
    own = {k: v for k, v in configuration["properties"].items() if k.startswith(CLIENT_PREFIXES)}
    configuration["properties"] = own | server_properties()
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="update vscode-extension/package.json")
    args = parser.parse_args(argv)
    if args.write:
        write()
        return 0
    print(json.dumps(server_properties(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
