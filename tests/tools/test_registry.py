from __future__ import annotations

from agent_core.tools import ToolRegistry, default_tools
from agent_core.tools.base import ToolContext
from tests.tools.helpers import call

# DESIGN.md: the tool names and argument names the model sees are a public interface.
INTERFACE = {
    "read_file": ({"path"}, {"path", "start_line", "end_line"}),
    "write_file": ({"path", "content"}, {"path", "content", "append"}),  # append: optional, beyond DESIGN.md
    "patch": ({"path", "search", "replace"}, {"path", "search", "replace"}),
    "bash": ({"command"}, {"command", "timeout"}),
    "search": ({"pattern"}, {"pattern", "path", "glob"}),
    "find_files": ({"pattern"}, {"pattern"}),
}


def test_schemas_match_the_public_interface() -> None:
    schemas = {s["function"]["name"]: s["function"] for s in ToolRegistry(default_tools()).schemas()}
    assert set(schemas) == set(INTERFACE)
    for name, (required, allowed) in INTERFACE.items():
        params = schemas[name]["parameters"]
        assert set(params.get("required", [])) == required, name
        assert set(params["properties"]) == allowed, name
        assert schemas[name]["description"], name
        for arg, prop in params["properties"].items():
            assert prop.get("description"), f"{name}.{arg} has no description for the model"


async def test_missing_argument_is_a_readable_message(ctx: ToolContext) -> None:
    out = await call(ctx, "write_file", path="a.txt")
    assert not out.ok
    assert out.text.startswith("Invalid arguments for write_file: content: Field required.")
    assert "'path', 'content'" in out.text
    assert not (ctx.root / "a.txt").exists()


async def test_wrong_type_is_a_readable_message(ctx: ToolContext) -> None:
    out = await call(ctx, "read_file", path="a.txt", start_line="ten")
    assert not out.ok
    assert out.text.startswith("Invalid arguments for read_file: start_line:")
    out = await call(ctx, "bash", command="echo hi", timeout=-1)
    assert not out.ok and out.text.startswith("Invalid arguments for bash: timeout:")


async def test_string_numbers_and_extra_arguments_are_accepted(ctx: ToolContext) -> None:
    (ctx.root / "a.txt").write_text("one\ntwo\nthree\n")
    out = await call(
        ctx, "read_file", path="a.txt", start_line="2", end_line="2", explanation="small models add this"
    )
    assert out.ok
    assert out.text.splitlines()[0] == "   2| two"


async def test_tool_errors_become_failed_outputs_not_exceptions(ctx: ToolContext) -> None:
    out = await call(ctx, "read_file", path="/etc/passwd")
    assert not out.ok and "outside the workspace" in out.text
    out = await call(ctx, "read_file", path="")
    assert not out.ok and "path is empty" in out.text


async def test_content_that_became_an_argument_name_is_refused(ctx: ToolContext) -> None:
    """Seen in the plan bench: broken quoting gave {"content": "", "\\nimport pytest…": ""} and an empty file."""
    registry = ToolRegistry(default_tools())
    arguments = {
        "path": "tests/test_stats.py",
        "content": "",
        "\nimport pytest\ndef test_mean():\n    pass\n": "",
    }
    out = await registry.execute("write_file", arguments, ctx)
    assert not out.ok and "garbled" in out.text
    assert not (ctx.root / "tests" / "test_stats.py").exists()
