"""Two-stage tool routing helpers."""

from __future__ import annotations

from agent_core.bench import tools_suite
from agent_core.parsing import parse_tool_calls
from agent_core.tools.routing import (
    CATEGORIES,
    category_of,
    needs_routing,
    parse_category,
    routing_tool_schema,
    schemas_for,
)

SCHEMAS = tools_suite.load_tool_sets()["extended"]


def _names(schemas: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [s["function"]["name"] for s in schemas]


def test_routing_is_on_under_16k() -> None:
    assert needs_routing(4096) and needs_routing(8192) and needs_routing(16_000)
    assert not needs_routing(16_384) and not needs_routing(32_768)


def test_categories_cover_the_core_tools() -> None:
    assert set(CATEGORIES) == {"read", "write", "search", "run", "plan", "mcp"}
    core = ["read_file", "write_file", "patch", "bash", "search", "find_files"]
    assert all(any(n in names for names in CATEGORIES.values()) for n in core)


def test_schemas_for_each_category() -> None:
    assert _names(schemas_for("write", SCHEMAS)) == ["read_file", "write_file", "patch"]
    assert _names(schemas_for("run", SCHEMAS)) == ["bash", "run_tests", "git_commit"]  # uncategorized → run
    assert _names(schemas_for("plan", SCHEMAS)) == ["memory_remember", "todo_write"]
    assert _names(schemas_for("Search files", SCHEMAS)) == ["read_file", "search", "find_files"]
    assert schemas_for("dance", SCHEMAS) == SCHEMAS
    assert schemas_for("mcp", SCHEMAS) == SCHEMAS  # no MCP tools now: better too many than none
    mcp = {"type": "function", "function": {"name": "mcp__docs__lookup", "parameters": {}}}
    assert _names(schemas_for("mcp", [*SCHEMAS, mcp])) == ["mcp__docs__lookup"]
    assert "mcp__docs__lookup" not in _names(schemas_for("run", [*SCHEMAS, mcp]))


def test_parse_category_is_forgiving() -> None:
    assert [parse_category(v) for v in ("read", " Write ", "edit", "`run`", "grep", "plan_todo", "x", 3)] == [
        "read", "write", "write", "run", "search", "plan", None, None,
    ]  # fmt: skip
    assert category_of("bash") == ["run"] and category_of("mcp_weather") == ["run"]
    assert "write" in category_of("read_file") and "read" in category_of("read_file")


def test_routing_tool_is_a_valid_tool_the_parser_recovers() -> None:
    schema = routing_tool_schema()
    fn = schema["function"]
    assert fn["name"] == "choose_category"
    assert fn["parameters"]["properties"]["category"]["enum"] == list(CATEGORIES)
    calls = parse_tool_calls('<tool_call>{"name": "choose_category", "arguments": {"category": "write"}}</tool_call>',
                             [schema])  # fmt: skip
    assert [(c.name, c.arguments) for c in calls] == [("choose_category", {"category": "write"})]
