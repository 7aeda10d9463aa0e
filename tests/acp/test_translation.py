"""What the ACP layer makes of the agent's calls and plans, and of an editor's prompt blocks."""

from __future__ import annotations

from pathlib import Path

from acp import text_block
from acp.schema import (
    EmbeddedResourceContentBlock,
    ResourceContentBlock,
    TextResourceContents,
)

from acp_server.prompt import MAX_EMBEDDED_CHARS, prompt_text
from acp_server.updates import available_commands, plan_entries, tool_kind, tool_locations, tool_title
from agent_core.commands import COMMANDS
from agent_core.planning.plan import PlanStep


def test_tool_kinds_titles_and_locations(tmp_path: Path) -> None:
    assert [tool_kind(n) for n in ("read_file", "patch", "bash", "search", "web_fetch", "todo", "x")] == [
        "read",
        "edit",
        "execute",
        "search",
        "fetch",
        "think",
        "other",
    ]
    assert tool_title("bash", {"command": "pytest -q"}) == "bash pytest -q"
    [read] = tool_locations(tmp_path, "read_file", {"path": "src/a.py", "start_line": 40})
    assert (read.path, read.line) == (str(tmp_path / "src/a.py"), 40)
    # edit blocks name several files in one path
    paths = [loc.path for loc in tool_locations(tmp_path, "patch", {"path": "a.py, b.py", "blocks": 2})]
    assert paths == [str(tmp_path / "a.py"), str(tmp_path / "b.py")]
    assert tool_locations(tmp_path, "bash", {"command": "ls", "path": "x"}) == []


def test_plan_entries_follow_the_steps() -> None:
    steps = [
        PlanStep(id="1", title="add parse()", file="cli.py", status="done"),
        PlanStep(id="2", title="test parse()", status="running"),
        PlanStep(id="3", title="document it", status="failed"),
    ]
    entries = [(e.content, e.status) for e in plan_entries(steps)]
    assert entries == [
        ("add parse() (cli.py)", "completed"),
        ("test parse()", "in_progress"),
        ("document it", "pending"),
    ]


def test_available_commands_leave_out_terminal_ones() -> None:
    commands = {c.name: c for c in available_commands(COMMANDS)}
    assert "quit" not in commands and "budget" in commands
    assert commands["undo"].input is not None and "redo" in commands["undo"].input.root.hint
    assert commands["budget"].input is None


def test_prompt_blocks_become_the_task(tmp_path: Path) -> None:
    uri = (tmp_path / "src" / "app.py").as_uri()
    big = "x" * (MAX_EMBEDDED_CHARS + 10)
    text = prompt_text(
        [
            text_block("Fix the bug in"),
            ResourceContentBlock(type="resource_link", uri=uri, name="app.py"),
            EmbeddedResourceContentBlock(
                type="resource", resource=TextResourceContents(uri=uri, text="def f():\n    return 1\n")
            ),
            EmbeddedResourceContentBlock(
                type="resource", resource=TextResourceContents(uri="file:///elsewhere/big.txt", text=big)
            ),
        ],
        tmp_path,
    )
    assert text.startswith("Fix the bug in\n\n(attached: src/app.py)")
    assert "src/app.py:\n```\ndef f():\n    return 1\n```" in text
    assert "/elsewhere/big.txt:" in text and "[… cut]" in text and big not in text
