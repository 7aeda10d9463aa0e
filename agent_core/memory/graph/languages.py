"""The languages the code graph reads: file suffix → tree-sitter grammar and the query that finds definitions,
calls, other references and imports in it.

Captures: `@def.KIND` a whole definition with `@name` its name (`@def.impl`, a Rust `impl S` block, is no
definition but names what it holds: `S.method`); `@call` the name of a called function or
method; `@ref` another use of a name (a type, a base class, a decorator, an imported name); `@import` what an
import names (a module, a path, a `use` tree). One prebuilt grammar wheel per language (pyproject.toml).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from tree_sitter import Language, Parser, Query

_PYTHON = """
(class_definition name: (identifier) @name) @def.class
(function_definition name: (identifier) @name) @def.function
(module (expression_statement (assignment left: (identifier) @name) @def.variable))
(call function: [(identifier) @call (attribute attribute: (identifier) @call)])
(class_definition superclasses: (argument_list [(identifier) @ref (attribute attribute: (identifier) @ref)]))
(decorator [(identifier) @ref (attribute attribute: (identifier) @ref) (call function: (identifier) @ref)])
(type (identifier) @ref)
(type (generic_type (identifier) @ref))
(type (subscript value: (identifier) @ref))
(import_statement name: [(dotted_name) @import (aliased_import name: (dotted_name) @import)])
(import_from_statement module_name: (_) @import)
(import_from_statement name: [(dotted_name (identifier) @ref) (aliased_import name: (dotted_name (identifier) @ref))])
"""

_JAVASCRIPT = """
(class_declaration name: (_) @name) @def.class
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(method_definition name: (property_identifier) @name) @def.method
(lexical_declaration (variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def.function)
(variable_declaration (variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def.function)
(call_expression function: [(identifier) @call (member_expression property: (property_identifier) @call)])
(new_expression constructor: [(identifier) @call (member_expression property: (property_identifier) @call)])
(import_statement source: (string (string_fragment) @import))
(import_specifier name: (identifier) @ref)
(call_expression function: (identifier) @_req arguments: (arguments (string (string_fragment) @import)) (#eq? @_req "require"))
"""

_JAVASCRIPT_ONLY = """
(class_heritage (identifier) @ref)
"""

_TYPESCRIPT_EXTRA = """
(extends_clause value: (identifier) @ref)
(interface_declaration name: (type_identifier) @name) @def.interface
(type_alias_declaration name: (type_identifier) @name) @def.type
(enum_declaration name: (identifier) @name) @def.enum
(abstract_class_declaration name: (type_identifier) @name) @def.class
(function_signature name: (identifier) @name) @def.function
(abstract_method_signature name: (property_identifier) @name) @def.method
(type_identifier) @ref
"""

_GO = """
(function_declaration name: (identifier) @name) @def.function
(method_declaration name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name) @def.type
(source_file (const_declaration (const_spec name: (identifier) @name) @def.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @def.variable))
(call_expression function: [(identifier) @call (selector_expression field: (field_identifier) @call)])
(type_identifier) @ref
(import_spec path: (_) @import)
"""

_RUST = """
(struct_item name: (type_identifier) @name) @def.struct
(enum_item name: (type_identifier) @name) @def.enum
(union_item name: (type_identifier) @name) @def.struct
(type_item name: (type_identifier) @name) @def.type
(trait_item name: (type_identifier) @name) @def.trait
(function_item name: (identifier) @name) @def.function
(function_signature_item name: (identifier) @name) @def.function
(mod_item name: (identifier) @name) @def.module
(macro_definition name: (identifier) @name) @def.macro
(const_item name: (identifier) @name) @def.constant
(static_item name: (identifier) @name) @def.constant
(call_expression function: [(identifier) @call (field_expression field: (field_identifier) @call) (scoped_identifier name: (identifier) @call)])
(macro_invocation macro: (identifier) @call)
(impl_item type: [(type_identifier) @name (generic_type type: (type_identifier) @name)]) @def.impl
(type_identifier) @ref
(use_declaration argument: (_) @import)
"""


@dataclass(frozen=True)
class Grammar:
    name: str
    load: Callable[[], Any]
    query: str


def _python() -> Any:
    import tree_sitter_python

    return tree_sitter_python.language()


def _javascript() -> Any:
    import tree_sitter_javascript

    return tree_sitter_javascript.language()


def _typescript() -> Any:
    import tree_sitter_typescript

    return tree_sitter_typescript.language_typescript()


def _tsx() -> Any:
    import tree_sitter_typescript

    return tree_sitter_typescript.language_tsx()


def _go() -> Any:
    import tree_sitter_go

    return tree_sitter_go.language()


def _rust() -> Any:
    import tree_sitter_rust

    return tree_sitter_rust.language()


_TS_QUERY = _JAVASCRIPT + _TYPESCRIPT_EXTRA
GRAMMARS: dict[str, Grammar] = {
    "python": Grammar("python", _python, _PYTHON),
    "javascript": Grammar("javascript", _javascript, _JAVASCRIPT + _JAVASCRIPT_ONLY),
    "typescript": Grammar("typescript", _typescript, _TS_QUERY),
    "tsx": Grammar("tsx", _tsx, _TS_QUERY),
    "go": Grammar("go", _go, _GO),
    "rust": Grammar("rust", _rust, _RUST),
}
SUFFIXES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
}


def language_of(path: str) -> str | None:
    """The graph's language for a file name, or None for a file it does not read."""
    dot = path.rfind(".")
    return SUFFIXES.get(path[dot:].lower()) if dot > path.rfind("/") else None


@cache
def compiled(name: str) -> tuple[Language, Query]:
    grammar = GRAMMARS[name]
    language = Language(grammar.load())
    return language, Query(language, grammar.query)


_local = threading.local()


def parser_for(name: str) -> Parser:
    """A parser per thread and language (a Parser is not safe to share between threads)."""
    parsers: dict[str, Parser] = _local.__dict__.setdefault("parsers", {})
    if name not in parsers:
        parsers[name] = Parser(compiled(name)[0])
    return parsers[name]
