"""`@name` in a task puts the definition it points at into the first prompt (from the code graph), through the
real loop against the scripted server; `@file.py` stays a named file and an e-mail address is no reference."""

from __future__ import annotations

from pathlib import Path

from agent_core import SmallCode
from agent_core.context.symbol_refs import code_names, symbol_references
from tests.support.scripted_server import ScriptedModelServer

SHAPES = '''def rectangle_area(width, height):
    """The area of a width x height rectangle."""
    return width + height


class Circle:
    def area(self):
        return 3.14159 * self.r**2
'''
MAIN = "from shapes import rectangle_area\n\nprint(rectangle_area(2, 3))\n"


async def first_message(server: ScriptedModelServer, root: Path, task: str, reply: str) -> str:
    """The run's first message to the model, for `task` in the project at `root`."""
    server.extend([{"content": reply}])
    agent = SmallCode(model="scripted-model", base_url=server.base_url, cwd=root)
    try:
        await agent.run(task)
    finally:
        await agent.aclose()
    return str(server.requests[0]["messages"][-1]["content"])


def test_references_are_names_not_files_or_addresses() -> None:
    task = "fix @rectangle_area and @Circle.area (see @main.py; ask me@example.com) in @lib/shapes.py:Circle"
    assert symbol_references(task) == ["rectangle_area", "Circle.area", "lib/shapes.py:Circle"]
    assert symbol_references("no references here, just an email: a@b.org") == []


async def test_the_definitions_pointed_at_are_in_the_first_prompt(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "shapes.py").write_text(SHAPES)
    (tmp_path / "main.py").write_text(MAIN)
    task = "why is @rectangle_area wrong? and what does @no_such_thing do?"
    opening = await first_message(
        model_server, tmp_path, task, "It adds width and height instead of multiplying."
    )
    assert "Definitions the task points at" in opening
    assert "@rectangle_area: function rectangle_area in shapes.py, lines 1-3:" in opening
    assert "```py\ndef rectangle_area(width, height):\n" in opening  # the code as it is, not numbered
    assert "    return width + height\n```" in opening
    assert "| " not in opening.split("Definitions the task points at")[1]  # no numbered lines to copy
    assert "main.py:3" in opening  # its caller
    assert "no_such_thing" not in opening.split("Definitions the task points at")[1]  # unknown: left out


async def test_a_task_without_known_references_gets_no_definitions(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    """`@dataclass` is a decorator here, not a definition of the project: nothing is added."""
    (tmp_path / "shapes.py").write_text(SHAPES)
    opening = await first_message(model_server, tmp_path, "make Circle in shapes.py a @dataclass", "Done.")
    assert "Definitions the task points at" not in opening


def test_code_names_are_identifiers_not_words_or_files() -> None:
    task = "rectangle_area and `area` are wrong, see Circle.area() and parseReply( in calc.py; Fix It please"
    assert code_names(task) == ["rectangle_area", "area", "Circle.area", "parseReply"]
    assert code_names("make the tests pass and update the README") == []
    assert code_names("Order.total ignores quantities (e.g. three notebooks)") == ["Order.total"]


async def test_a_task_naming_code_but_no_file_gets_the_file_that_defines_it(
    tmp_path: Path,
) -> None:
    # The user says what is wrong, not where: the code graph finds the file, which is then shown whole, its
    # tests run first, and the small model's whole-file answer for it is the edit.
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "shapes.py").write_text(SHAPES)
    (tmp_path / "geo" / "__init__.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_shapes.py").write_text(
        "from geo.shapes import rectangle_area\n\n\ndef test_area():\n    assert rectangle_area(2, 3) == 6\n"
    )
    fixed = SHAPES.replace("width + height", "width * height")
    with ScriptedModelServer(models=["qwen2.5-coder-1.5b"]) as server:
        server.extend([{"content": f"It must multiply.\n\ngeo/shapes.py\n```python\n{fixed}```"}])
        async with SmallCode(model="qwen2.5-coder-1.5b", base_url=server.base_url, cwd=tmp_path) as agent:
            result = await agent.run("rectangle_area gives the wrong result: fix it")
        opening = str(server.requests[0]["messages"][-1]["content"])
    assert "Where the task's code is (rectangle_area in geo/shapes.py):" in opening
    assert "    return width + height" in opening  # the file, shown
    assert "test_area" in opening and "assert 5 == 6" in opening  # how its tests fail now
    assert "complete new geo/shapes.py" in opening  # the whole-file edit hint for that file
    assert (tmp_path / "geo" / "shapes.py").read_text() == fixed
    assert result.success and result.verified and len(server.requests) == 1
