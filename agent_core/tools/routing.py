"""Two-stage tool routing for small context windows: the model first picks a category with the
`choose_category` tool, then sees only that category's tool schemas (fewer tokens, fewer wrong picks).

How the loop uses it:
    if needs_routing(context_window):
        offer [routing_tool_schema()]; read the category from the call (parse_category);
        then offer schemas_for(category, registry.schemas()) for the actual step.
MCP tools (mcp__SERVER__TOOL) form the "mcp" category; other tools in no category (e.g. from plugins) are
offered with "run"."""

from __future__ import annotations

from typing import Any

ROUTING_THRESHOLD = 16_384
"""Windows smaller than this (in tokens) get two-stage routing by default."""

CATEGORIES: dict[str, list[str]] = {
    "read": ["read_file", "find_files", "search", "memory_load", "explain_symbol", "graph_search"],
    "write": ["write_file", "patch", "read_file"],
    "search": ["search", "find_files", "graph_search", "read_file", "web_search", "web_fetch"],
    "run": ["bash"],
    "plan": [
        "plan",
        "todo",
        "todo_write",
        "todo_read",
        "todo_update",
        "memory_remember",
        "memory_load",
        "scratchpad",
    ],
    "mcp": [],
}
"""Category → tool names. read_file is also under write: the write guard wants files read first. The mcp
category's tools are known by their prefix (servers come and go)."""
MCP_PREFIX = "mcp__"

DESCRIPTIONS: dict[str, str] = {
    "read": "look at files or code you already know about",
    "write": "create a file or change one",
    "search": "find where something is in the project",
    "run": "run a shell command (tests, builds, git)",
    "plan": "write or update the plan, or remember a fact",
    "mcp": "use a tool of a connected MCP server (mcp__SERVER__TOOL)",
}

_SYNONYMS: dict[str, str] = {
    "reading": "read", "view": "read", "open": "read", "inspect": "read", "look": "read",
    "fix": "write", "add": "write", "update": "write", "rename": "write", "refactor": "write", "implement": "write",
    "list": "search", "show": "read", "explain": "read",
    "edit": "write", "writing": "write", "create": "write", "modify": "write", "change": "write", "patch": "write",
    "find": "search", "grep": "search", "searching": "search", "locate": "search",
    "execute": "run", "shell": "run", "bash": "run", "test": "run", "command": "run", "running": "run",
    "planning": "plan", "todo": "plan", "memory": "plan", "remember": "plan",
}  # fmt: skip


def needs_routing(context_window: int) -> bool:
    """True for windows under 16k tokens, where every tool schema in the prompt costs dearly."""
    return context_window < ROUTING_THRESHOLD


def routing_tool_schema() -> dict[str, Any]:
    """The OpenAI `tools` entry for the first stage: `choose_category {category}`."""
    listing = "; ".join(f"{name}: {text}" for name, text in DESCRIPTIONS.items())
    return {
        "type": "function",
        "function": {
            "name": "choose_category",
            "description": f"Pick what kind of action comes next; its tools are offered next turn. {listing}.",
            "parameters": {
                "type": "object",
                "properties": {"category": {"type": "string", "enum": list(CATEGORIES)}},
                "required": ["category"],
            },
        },
    }


def parse_category(value: Any) -> str | None:
    """The category a model meant (`"Write"`, `"edit"`, `"search files"`), or None."""
    if not isinstance(value, str):
        return None
    word = value.strip().strip("`'\".").lower()
    if word in CATEGORIES:
        return word
    for token in word.replace("_", " ").replace("-", " ").split():
        if token in CATEGORIES:
            return token
        if token in _SYNONYMS:
            return _SYNONYMS[token]
    return None


def category_of(name: str) -> list[str]:
    """The categories a tool belongs to (["mcp"] for MCP tools, ["run"] for tools no category names)."""
    if name.startswith(MCP_PREFIX):
        return ["mcp"]
    found = [cat for cat, names in CATEGORIES.items() if name in names]
    return found or ["run"]


def schemas_for(category: str, all_schemas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The schemas of `category`'s tools, in the order given; every schema when the category is unknown or has
    no tools now, e.g. mcp without servers (better too many tools than none)."""
    chosen = parse_category(category)
    if chosen is None:
        return list(all_schemas)
    return [s for s in all_schemas if chosen in category_of(_schema_name(s))] or list(all_schemas)


def _schema_name(schema: dict[str, Any]) -> str:
    fn = schema.get("function", schema) if isinstance(schema, dict) else {}
    name = fn.get("name", "") if isinstance(fn, dict) else ""
    return name if isinstance(name, str) else ""


def routing_enabled(mode: str, context_window: int) -> bool:
    """SMALLCODE_TOOL_ROUTING: "on", "off", or "auto" (= off).

    Auto no longer turns routing on for small windows: swapping the tool list every few turns changes the
    top of the prompt (chat templates render tools first), so llama.cpp cannot reuse its prompt cache — a
    turn took 35-68 s instead of 4 s on a laptop CPU (issue 12). Small models get a small fixed tool set
    instead (agent.SMALL_TIER_TOOLS). `context_window` is kept for callers that decide per window."""
    del context_window
    return mode == "on"


def routing_prompt() -> str:
    """The system prompt's lines about routing (kept stable across turns, so servers can reuse their cache)."""
    listing = "\n".join(f"- {name}: {text}" for name, text in DESCRIPTIONS.items())
    return (
        "Tools come in categories. Call choose_category with one of them to get its tools for the next step "
        f"(a tool you already know can be called directly):\n{listing}"
    )
