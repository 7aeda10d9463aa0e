"""Scaffolding sized to the model: small models get four tools, a short stable prompt, and whole-file edits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_core import RunResult, SmallCode
from agent_core.context.tokens import TokenCounter
from agent_core.patch.whole import parse_whole_files
from tests.support.scripted_server import ScriptedModelServer
from tests.support.traces import trace_entries

SMALL = "qwen2.5-coder-1.5b"


@pytest.fixture
def small_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(models=[SMALL]) as server:
        yield server


def fenced(name: str, **arguments: object) -> dict[str, str]:
    return {"content": "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"}


def agent_for(server: ScriptedModelServer, root: Path, model: str = SMALL, **settings: object) -> SmallCode:
    """Tests that count one request per scripted reply pass samples=1: asked for several samples at once, the
    scripted server answers with the script's next replies together."""
    return SmallCode(model=model, base_url=server.base_url, cwd=root, **settings)


def two_functions(root: Path) -> None:
    """calc.py with a broken add and a working double, and a test of each in calc_test.py."""
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n\n\ndef double(a):\n    return 2 * a\n")
    (root / "calc_test.py").write_text(
        "from calc import add, double\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_double():\n    assert double(2) == 4\n"
    )


def offered(body: dict) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools", [])]


async def test_small_models_get_four_tools_and_a_short_stable_prompt(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "notes.py").write_text("x = 1\n")
    small_server.extend(
        [
            fenced("read_file", path="notes.py"),
            fenced("bash", command="echo hi"),
            {"content": "Nothing to do."},
        ]
    )
    async with agent_for(small_server, tmp_path, shell_sandbox="off") as agent:
        # A long multi-step task would switch planning on for a bigger model.
        await agent.run(
            "Add a docstring to notes.py, then rename x to y, and finally update README.md and setup.py"
        )
    bodies = small_server.requests
    assert all("tools" not in b for b in bodies)  # described in the prompt; no template tool preamble
    systems = {b["messages"][0]["content"] for b in bodies}
    assert len(systems) == 1  # byte-identical across turns: the server can reuse its prompt cache
    system = systems.pop()
    assert TokenCounter().estimate(system) < 400
    assert [
        n for n in ("read_file", "write_file", "patch", "bash", "search", "find_files") if f"- {n}(" in system
    ] == [
        "read_file",
        "write_file",
        "patch",
        "bash",
    ]
    assert "plan" not in json.dumps(bodies[0]["messages"][1:])  # no plan instruction for a small model
    assert "choose_category" not in json.dumps(bodies)


async def test_a_bigger_model_keeps_the_full_tool_set(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": "ok"}])
    async with agent_for(model_server, tmp_path, model="scripted-model") as agent:
        await agent.run("say ok")
    names = offered(model_server.requests[0])
    assert {"search", "find_files", "read_file", "write_file", "patch", "bash"} <= set(names)


async def test_a_whole_file_in_a_fence_edits_a_named_file(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    small_server.extend(
        [{"content": "Here is the fix.\n\ncalc.py\n```python\ndef add(a, b):\n    return a + b\n```\n"}]
    )
    async with agent_for(small_server, tmp_path) as agent:
        result = await agent.run("Fix add in calc.py so that the tests pass.")
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert result.success and result.verified
    assert [c.name for c in result.tool_calls] == ["write_file"]
    assert len(small_server.requests) == 1


async def test_a_code_sample_for_an_unknown_path_writes_nothing(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "app.py").write_text("print('app')\n")
    small_server.extend([{"content": "You could write:\n\nexample.py\n```python\nprint('x')\n```\n"}])
    async with agent_for(small_server, tmp_path) as agent:
        result = await agent.run("How would I print x?")
    assert not (tmp_path / "example.py").exists()
    assert result.tool_calls == [] and result.success


async def test_a_patch_without_path_goes_to_the_only_file_in_play(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "greet.py").write_text("def greet():\n    return 'helo'\n")
    small_server.extend(
        [fenced("patch", search="return 'helo'", replace="return 'hello'"), {"content": "Fixed the typo."}]
    )
    async with agent_for(small_server, tmp_path) as agent:
        result = await agent.run("Fix the typo in greet.py")
    assert (tmp_path / "greet.py").read_text() == "def greet():\n    return 'hello'\n"
    assert result.tool_calls[0].ok and result.tool_calls[0].args["path"] == "greet.py"


def test_whole_file_blocks_need_a_known_path_and_a_closed_fence() -> None:
    reply = "calc.py\n```python\nx = 1\n```\n\nother.py\n```python\ny = 2\n```"
    assert [(b.path, b.content) for b in parse_whole_files(reply, {"calc.py"})] == [("calc.py", "x = 1\n")]
    assert parse_whole_files("calc.py\n```python\nx = 1\n", {"calc.py"}) == []  # cut off: nothing
    call = 'calc.py\n```json\n{"name": "write_file", "arguments": {}}\n```'
    assert parse_whole_files(call, {"calc.py"}) == []  # a tool call is not file content
    inside = "```python\n# calc.py\nx = 2\n```"
    assert [(b.path, b.content) for b in parse_whole_files(inside, {"calc.py"})] == [("calc.py", "x = 2\n")]


async def test_a_whole_file_without_its_path_goes_to_the_one_file_in_play(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "calc_test.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    unchanged = "```python\ndef add(a, b):\n    return a - b\n```"
    small_server.extend(
        [{"content": unchanged}, {"content": "```python\ndef add(a, b):\n    return a + b\n```"}]
    )
    async with agent_for(small_server, tmp_path) as agent:
        result = await agent.run("Fix add in calc.py; the tests are in calc_test.py.")
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert result.success and result.verified
    first, second = result.tool_calls
    assert not first.ok and "nothing changed" in (first.error or "")  # the copy of the file is no edit
    assert second.ok and second.args["path"] == "calc.py"


def test_a_block_without_path_needs_a_fitting_language() -> None:
    assert parse_whole_files("```js\nx = 1\n```", {"calc.py"}, default="calc.py") == []
    assert [b.path for b in parse_whole_files("```\nx = 1\n```", {"calc.py"}, default="calc.py")] == [
        "calc.py"
    ]


async def test_a_block_with_only_the_changed_function_keeps_the_rest_of_the_file(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "calc.py").write_text(
        "def add(a, b):\n    return a - b\n\n\ndef double(a):\n    return 2 * a\n"
    )
    (tmp_path / "test_calc.py").write_text(
        "from calc import add, double\n\n\ndef test_add():\n    assert add(2, 3) == 5 and double(2) == 4\n"
    )
    small_server.extend(
        [{"content": "add must add.\n\ncalc.py\n```python\ndef add(a, b):\n    return a + b\n```"}]
    )
    async with agent_for(small_server, tmp_path) as agent:
        result = await agent.run("Fix add in calc.py.")
    assert (
        tmp_path / "calc.py"
    ).read_text() == "def add(a, b):\n    return a + b\n\n\ndef double(a):\n    return 2 * a\n"
    assert result.success and result.verified


async def test_an_edit_that_makes_things_worse_is_undone(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    two_functions(tmp_path)
    worse = "calc.py\n```python\ndef add(a, b):\n    return a - b\n\n\ndef double(a):\n    return a\n```"
    fixed = "calc.py\n```python\ndef add(a, b):\n    return a + b\n\n\ndef double(a):\n    return 2 * a\n```"
    small_server.extend([{"content": worse}, {"content": fixed}])
    async with agent_for(small_server, tmp_path, resample=False) as agent:
        result = await agent.run("Fix add in calc.py.")
    second = small_server.requests[1]["messages"][-1]["content"]
    # A failed try restarts the conversation from a fresh opening: no old answer to copy, the file as it is now.
    assert [m["role"] for m in small_server.requests[1]["messages"]] == ["system", "user"]
    assert "return 2 * a" in second and "return a\n" not in second
    assert "made things worse" in second and "undone" in second
    assert "test_add" in second  # what is still to fix
    assert "write the line calc.py and the complete new calc.py" in second  # the shape of the next edit
    assert result.success and result.verified
    assert "return 2 * a" in (tmp_path / "calc.py").read_text()


async def test_a_change_that_breaks_a_passing_test_is_undone_and_named(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    two_functions(tmp_path)
    trade = "calc.py\n```python\ndef add(a, b):\n    return a + b\n\n\ndef double(a):\n    return a\n```"
    small_server.extend([{"content": trade}, {"content": "I give up."}] * 2)
    async with agent_for(small_server, tmp_path, fix_rounds=0, resample=False) as agent:
        await agent.run("Fix add in calc.py.")
    second = small_server.requests[1]["messages"][-1]["content"]
    assert "It broke test_double, which passed before." in second
    assert (
        "return a - b" in (tmp_path / "calc.py").read_text()
    )  # undone: one fix for one break is no progress


async def test_a_model_that_repeats_a_run_after_its_change_still_succeeds(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    small_server.extend(
        [fenced("write_file", path="hello.py", content="print('hello world')\n")]
        + [fenced("bash", command="python hello.py")] * 6
    )
    async with agent_for(small_server, tmp_path, shell_sandbox="off") as agent:
        result = await agent.run("create hello.py that prints hello world")
    assert result.success is True and result.verified is False  # nothing to test: not verified, not failed
    assert result.response.startswith("Done: created hello.py.")
    assert "no tests to run" in small_server.requests[1]["messages"][-1]["content"]
    # The folder's name is not in the prompt: the 1.5B model wrote into a folder of that name.
    assert tmp_path.name not in small_server.requests[0]["messages"][0]["content"]


def three_functions(root: Path) -> None:
    """calc.py with add, sub and double all broken, and one test of each."""
    (root / "calc.py").write_text(
        "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n\n\ndef double(a):\n    return a\n"
    )
    (root / "calc_test.py").write_text(
        "from calc import add, double, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_sub():\n    assert sub(3, 2) == 1\n\n\ndef test_double():\n    assert double(2) == 4\n"
    )


def calc(add: str, sub: str, double: str) -> dict[str, str]:
    body = f"def add(a, b):\n    return {add}\n\n\ndef sub(a, b):\n    return {sub}\n\n\ndef double(a):\n    return {double}\n"
    return {"content": f"calc.py\n```python\n{body}```"}


async def test_a_small_model_that_stops_improving_is_stopped_with_its_best_version(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    three_functions(tmp_path)
    better = calc("a + b", "a + b", "a")  # 1 of 3 passing
    sideways = calc("a - b", "a - b", "a")  # another 1 of 3: no progress
    small_server.extend([better, sideways, {"content": "I cannot see the problem."}, sideways] + [better] * 6)
    async with agent_for(small_server, tmp_path, stall_tries=3, max_turns=10, samples=1) as agent:
        result = await agent.run("Fix calc.py.")
    # better (progress), sideways (1), an answer refused while tests fail (2), sideways again (3): stop.
    assert len(small_server.requests) == 4
    assert result.success is False and result.verified is False
    assert "3 tries in a row did not get more tests passing" in result.response
    assert result.checks is not None and result.checks.passed == 1


async def test_turns_without_an_edit_count_as_tries_without_progress(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    three_functions(tmp_path)
    better = calc("a + b", "a + b", "a")  # 1 of 3 passing
    run_tests = fenced("bash", command="python -m pytest calc_test.py")
    read = fenced("read_file", path="calc.py")
    small_server.extend([better, run_tests, read, run_tests] + [better] * 6)
    async with agent_for(
        small_server, tmp_path, stall_tries=3, max_turns=10, shell_sandbox="off", samples=1
    ) as agent:
        result = await agent.run("Fix calc.py.")
    # better (progress), then a test run, a read and a test run again (the loop's early stop would allow
    # the repeat): three turns that got nothing more passing end the run.
    assert len(small_server.requests) == 4
    assert "3 tries in a row did not get more tests passing" in result.response
    assert result.checks is not None and result.checks.passed == 1


async def test_tries_that_leave_the_tests_unimportable_are_not_progress(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "calc_test.py").write_text(
        "from calc import add, double\n\n\ndef test_double():\n    assert double(add(1, 1)) == 4\n"
    )
    still_broken = [
        {"content": f"calc.py\n```python\ndef add(a, b):\n    return a + b + {n} - {n}\n```"}
        for n in range(6)
    ]
    small_server.extend(still_broken)
    async with agent_for(small_server, tmp_path, stall_tries=3, max_turns=6, samples=1) as agent:
        result = await agent.run("Add double to calc.py; the tests in calc_test.py must pass.")
    assert len(small_server.requests) == 3  # each try left `double` missing: three without progress
    assert "3 tries in a row did not get more tests passing" in result.response


async def test_progress_resets_the_count_and_zero_turns_it_off(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    three_functions(tmp_path)
    one = calc("a + b", "a + b", "a")
    two = calc("a + b", "a - b", "a")
    three = calc("a + b", "a - b", "2 * a")
    small_server.extend([one, one, two, two, three])
    async with agent_for(small_server, tmp_path, stall_tries=2, samples=1) as agent:
        result = await agent.run("Fix calc.py.")
    assert result.success and result.verified and len(small_server.requests) == 5
    three_functions(tmp_path)
    small_server.extend(
        [one] + [calc("a - b", "a - b", "a"), calc("a - b", "a - b", "2 * a - a")] * 2 + [three]
    )
    async with agent_for(small_server, tmp_path, stall_tries=0, max_turns=8, samples=1) as agent:
        result = await agent.run("Fix calc.py.")
    assert result.success and result.verified


STATS_TEST = "from stats import mean\n\n\ndef test_mean():\n    assert mean([1, 3]) == 2\n\n\ndef test_one():\n    assert mean([5]) == 5\n"


async def test_example_code_appended_to_a_tested_module_runs_only_as_a_script(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "stats.py").write_text("def mean(xs):\n    raise NotImplementedError\n")
    (tmp_path / "test_stats.py").write_text(STATS_TEST)
    demo = "stats.py\n```python\ndef mean(xs):\n    return sum(xs) / len(xs)\n\n\n# Example usage:\nprint(mean([]))\n```"
    small_server.extend([{"content": demo}])
    async with agent_for(small_server, tmp_path) as agent:
        result = await agent.run("Implement mean in stats.py.")
    # At module level, print(mean([])) raised ZeroDivisionError on import: no test could even be collected.
    assert result.success and result.verified and result.checks is not None and result.checks.passed == 2
    assert (
        (tmp_path / "stats.py")
        .read_text()
        .endswith('if __name__ == "__main__":\n    # Example usage:\n    print(mean([]))\n')
    )


async def test_an_import_the_whole_file_forgot_is_added_and_said(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "days.py").write_text(
        "import datetime as dt\n\n\ndef month_days(day: dt.date) -> int:\n    return 0\n"
    )
    (tmp_path / "test_days.py").write_text(
        "import datetime\n\nfrom days import month_days\n\n\ndef test_february():\n"
        "    assert month_days(datetime.date(2024, 2, 3)) == 29\n"
    )
    body = "def month_days(day: dt.date) -> int:\n    return calendar.monthrange(day.year, day.month)[1]\n"
    small_server.extend(
        [{"content": f"Use calendar.\n\ndays.py\n```python\n{body}```"}, {"content": "Done."}]
    )
    async with agent_for(small_server, tmp_path) as agent:
        result = await agent.run("Make month_days in days.py return the number of days in the month.")
    # Without the imports the test ends in a NameError and the right answer is undone as worse.
    assert result.success and result.verified
    assert (tmp_path / "days.py").read_text() == "import datetime as dt\nimport calendar\n\n" + body
    [write] = [e for e in trace_entries(tmp_path, "tool") if e["name"] == "write_file"]
    assert (
        "(Added `import datetime as dt`, `import calendar` to days.py: your code uses them without having them"
        in write["output"]
    )


async def test_an_edit_that_breaks_importing_the_module_is_undone(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "stats.py").write_text("def mean(xs):\n    return sum(xs) / len(xs) + 1\n\n\nTABLE = {}\n")
    (tmp_path / "test_stats.py").write_text(STATS_TEST)
    breaks = "stats.py\n```python\ndef mean(xs):\n    return sum(xs) / len(xs)\n\n\nTABLE = {}[0]\n```"
    fixed = "stats.py\n```python\ndef mean(xs):\n    return sum(xs) / len(xs)\n\n\nTABLE = {}\n```"
    small_server.extend([{"content": breaks}, {"content": fixed}])
    async with agent_for(small_server, tmp_path, resample=False) as agent:
        result = await agent.run("Fix mean in stats.py.")
    second = small_server.requests[1]["messages"][-1]["content"]
    assert "made things worse" in second and "TABLE = {}[0]" not in second  # undone: the file as it was
    assert result.success and result.verified


async def test_tries_without_progress_sample_hotter_and_progress_cools_down(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    three_functions(tmp_path)
    sideways = calc("a - b", "a + b", "a + 0")  # nothing fixed: no progress, not worse
    one = calc("a + b", "a + b", "a")  # add fixed
    two = calc("a + b", "a - b", "a")  # sub fixed too
    small_server.extend(
        [sideways, calc("a - b", "a + b", "a + 1 - 1"), one, two, calc("a + b", "a - b", "2 * a")]
    )
    async with agent_for(
        small_server, tmp_path, temperature=0.0, stall_tries=0, max_turns=6, resample=False
    ) as agent:
        result = await agent.run("Fix calc.py.")
    assert result.success
    # A write that went through used to reset the schedule: every retry stayed at 0.3.
    assert [b["temperature"] for b in small_server.requests] == [0.0, 0.3, 0.6, 0.0, 0.0]


async def test_fresh_tries_alternate_a_new_sample_of_the_first_message_and_a_try_shown_its_failures(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    three_functions(tmp_path)
    one = calc("a + b", "a + b", "a")  # add fixed
    sideways = calc("a + b", "a + b", "a + 0")  # the same one passing: no progress
    two = calc("a + b", "a - b", "a")  # sub fixed too
    three = calc("a + b", "a - b", "2 * a")
    small_server.extend([one, sideways, two, three])
    async with agent_for(small_server, tmp_path, stall_tries=0, max_turns=6, samples=1) as agent:
        result = await agent.run("Fix calc.py.")
    assert result.success and result.verified and len(small_server.requests) == 4
    first, second, third, fourth = (r["messages"] for r in small_server.requests)
    # try 2 and try 4 ask the first message again, word for word (the server's cached prompt): the files as
    # they were, no failures; try 3 shows the best version so far and what still fails
    assert second == first and fourth == first
    assert [m["role"] for m in third] == ["system", "user"]
    assert "A previous try did not pass." in third[-1]["content"] and "test_sub" in third[-1]["content"]
    assert "return a + b\n" in third[-1]["content"].split("calc.py:")[1]
    # a new sample is drawn hot even after progress (at the base temperature it would repeat the answer)
    assert [r["temperature"] for r in small_server.requests] == [0.2, 0.8, 0.5, 0.8]
    restarts = trace_entries(tmp_path, "restart")
    assert [(r["how"], r["n"]) for r in restarts] == [("resample", 1), ("feedback", 2), ("resample", 3)]


def five_tries(server: ScriptedModelServer) -> dict[str, str]:
    """Scripts five versions of calc.py (100 prompt and 20 reply tokens each): add fixed, two that get no more
    tests passing, sub fixed too, all fixed. Returns the last."""
    one = calc("a + b", "a + b", "a")
    sideways = calc("a + b", "a + b", "a + 0")
    aside = calc("a + b", "b + a", "a")
    two = calc("a + b", "a - b", "a")
    three = calc("a + b", "a - b", "2 * a")
    usage = {"usage": {"prompt_tokens": 100, "completion_tokens": 20}}
    server.extend([{**r, **usage} for r in (one, sideways, aside, two, three)])
    return three


async def run_telling_status(
    server: ScriptedModelServer, root: Path, samples_first: bool
) -> tuple[RunResult, list[str]]:
    """ "Fix calc.py." with three samples a request and no stall stop; the run's result and its status texts."""
    async with agent_for(
        server, root, stall_tries=0, max_turns=8, samples=3, samples_first=samples_first
    ) as agent:
        told: list[str] = []
        agent.on("status", lambda payload: told.append(payload["text"]))
        return await agent.run("Fix calc.py."), told


async def test_fresh_samples_come_several_to_a_request_and_are_used_before_a_try_shown_its_failures(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    """SMALLCODE_SAMPLES=3 without samples_first: the first resample asks for three samples at once (`n`, not
    streamed); the two kept are the next fresh tries without a request; then a try shown its failures."""
    three_functions(tmp_path)
    three = five_tries(small_server)
    result, told = await run_telling_status(small_server, tmp_path, samples_first=False)
    assert result.success and result.verified and result.turns == 5
    assert (tmp_path / "calc.py").read_text() == parse_whole_files(three["content"], ["calc.py"])[0].content
    assert told == [
        "asking for 3 versions at once; they come when all are done"
    ]  # not silence while it waits
    first, batch, third = small_server.requests  # five tries, three requests
    assert (batch["n"], batch["stream"], batch["messages"]) == (3, False, first["messages"])
    assert "n" not in first and "n" not in third and first["stream"] is True
    assert "temperatures" not in batch  # all three drawn hot
    # each sample ends once it has written calc.py whole (as try 1 left it), as streamed replies are cut there
    end = batch["until_file_written"]
    assert (end["path"], end["files"]) == ("calc.py", ["calc.py"])
    assert end["current"] == parse_whole_files(calc("a + b", "a + b", "a")["content"], ["calc.py"])[0].content
    assert "A previous try did not pass." in third["messages"][-1]["content"]
    # the batch's prompt is counted once: 3 prompts of 100 tokens, 5 replies of 20
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (300, 100)
    trace = trace_entries(tmp_path)
    restarts = [(e["how"], e["n"]) for e in trace if e["type"] == "restart"]
    assert restarts == [("resample", 1), ("resample", 2), ("resample", 3), ("feedback", 4)]
    turns = [e for e in trace if e["type"] == "turn"]
    assert [t.get("sample") for t in turns] == [None, None] + ["kept from an earlier request"] * 2 + [None]
    assert turns[1]["samples_left"] == 2 and turns[2]["usage"]["total_tokens"] == 0


async def test_the_first_request_brings_the_greedy_answer_and_the_samples_together(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    """samples_first: the run's first request asks for three choices of its message, the greedy
    answer and two hot samples; the samples are the next fresh tries, without a request; when they are used up
    the next fresh sample is a batch of three, all hot. Five tries, two requests where there were three."""
    three_functions(tmp_path)
    three = five_tries(small_server)
    small_server.extend([{**three, "usage": {"prompt_tokens": 100, "completion_tokens": 20}}])  # not used
    result, told = await run_telling_status(small_server, tmp_path, samples_first=True)
    assert result.success and result.verified and result.turns == 5
    assert told == ["asking for 3 versions at once; they come when all are done"] * 2
    first, second = small_server.requests
    assert (first["n"], first["stream"], first["temperature"]) == (3, False, 0.2)
    assert first["temperatures"] == [0.2, 0.8, 0.8]  # the greedy answer at the base, the samples hot
    assert (second["n"], second["messages"], second["temperature"]) == (3, first["messages"], 0.8)
    assert "temperatures" not in second
    assert (tmp_path / "calc.py").read_text() == parse_whole_files(three["content"], ["calc.py"])[0].content
    # each batch's prompt is counted once: 2 prompts of 100 tokens, 6 replies of 20
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (200, 120)
    trace = trace_entries(tmp_path)
    turns = [e for e in trace if e["type"] == "turn"]
    assert turns[0]["greedy_first"] and turns[0]["samples_left"] == 2
    kept = "kept from an earlier request"
    assert [t.get("sample") for t in turns] == [None, kept, kept, None, kept]
    assert "greedy_first" not in turns[3] and turns[3]["samples_left"] == 2


@pytest.mark.parametrize("server_answer", ["unmarked", "ignore", "reject"])
async def test_a_server_that_cannot_draw_choices_apart_gets_the_greedy_answer_first_as_before(
    server_answer: str, tmp_path: Path
) -> None:
    """A server that answers `n` without saying each choice's temperature (it drew them all at the greedy
    answer's) gives no samples with the first request: its other choices are dropped and the samples come from
    a resample, as without samples_first. One that answers one choice (llama-cpp-python's own server) or
    refuses `n` (llama.cpp's, 400) gives the greedy answer alone."""
    three_functions(tmp_path)
    one = calc("a + b", "a + b", "a")
    sideways = calc("a + b", "a + b", "a + 0")
    three = calc("a + b", "a - b", "2 * a")
    script = [one, sideways, sideways] if server_answer == "unmarked" else [one]
    script += [three, three, three]
    with ScriptedModelServer(script, models=[SMALL], samples=server_answer) as server:
        async with agent_for(
            server, tmp_path, stall_tries=0, max_turns=6, samples=3, samples_first=True
        ) as agent:
            result = await agent.run("Fix calc.py.")
        asked = [r.get("n") for r in server.requests]
        temperatures = [r["temperature"] for r in server.requests]
    assert result.success and result.verified and result.turns == 2
    assert (tmp_path / "calc.py").read_text() == parse_whole_files(three["content"], ["calc.py"])[0].content
    if server_answer == "reject":
        assert asked == [3, None, None]  # refused once: the greedy answer alone, then one sample a request
        assert temperatures[1] == temperatures[0] < temperatures[2]
    else:
        assert asked == [3, 3]  # the second try is a resample batch (all hot), as without samples_first
        assert "temperatures" not in server.requests[1] and temperatures[1] > temperatures[0]


async def test_a_kept_sample_that_repeats_a_tried_reply_is_skipped(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    """A sample identical to a reply already tried would only run the same tests again: it is skipped
    (traced), and the next one is tried."""
    three_functions(tmp_path)
    one = calc("a + b", "a + b", "a")
    fixed = calc("a + b", "a - b", "2 * a")
    small_server.extend([one, one, one, fixed])
    async with agent_for(
        small_server, tmp_path, stall_tries=0, max_turns=6, samples=3, samples_first=True
    ) as agent:
        result = await agent.run("Fix calc.py.")
    assert result.success and result.verified and result.turns == 2  # the batch's two repeats not tried
    assert [r["n"] for r in small_server.requests] == [3, 3]  # the next sample is asked for instead
    trace = trace_entries(tmp_path)
    skipped = [e["samples_left"] for e in trace if e["type"] == "sample_skipped"]
    assert skipped == [1, 0]


async def test_a_whole_file_reply_is_bounded_by_the_size_of_its_file(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    """A reply that rewrites calc.py needs about twice its tokens and a sentence: a sample that loops on past
    that is cut there, not at the 2048 of max_tokens (one such sample held a batch of three for 218 s)."""
    three_functions(tmp_path)
    size = TokenCounter().estimate((tmp_path / "calc.py").read_text())
    small_server.extend([calc("a + b", "a - b", "2 * a")])
    async with agent_for(small_server, tmp_path, max_tokens=2048) as agent:
        result = await agent.run("Fix calc.py.")
    assert result.success
    assert small_server.requests[0]["max_tokens"] <= 2 * size + 400 < 2048


@pytest.mark.parametrize("server_answer", ["reject", "ignore"])
async def test_a_server_that_does_not_answer_several_samples_gets_one_at_a_time(
    server_answer: str, tmp_path: Path
) -> None:
    """llama.cpp's server refuses `n` > 1 (400): asked again for one, and not for several again;
    llama-cpp-python's own answers one choice: the run goes on with it."""
    three_functions(tmp_path)
    one = calc("a + b", "a + b", "a")
    sideways = calc("a + b", "a + b", "a + 0")
    three = calc("a + b", "a - b", "2 * a")
    with ScriptedModelServer([one, sideways, three, three], models=[SMALL], samples=server_answer) as server:
        async with agent_for(
            server, tmp_path, stall_tries=0, max_turns=6, samples=3, samples_first=False
        ) as agent:
            result = await agent.run("Fix calc.py.")
        asked = [r.get("n") for r in server.requests]
        temperatures = [r["temperature"] for r in server.requests]
    assert result.success and result.verified
    if server_answer == "reject":
        assert asked == [None, 3, None, None]  # refused once, then one sample per request
        assert temperatures[2] == temperatures[1] > temperatures[0]  # the one asked instead is as hot
    else:
        assert asked == [None, 3, None]


async def test_samples_at_hand_are_tried_before_a_stall_ends_the_run(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    """samples_first: the stall count reached with the first request's two samples still unused: trying them costs no
    request, so both are tried (the second is the one that passes); once none is left, the count stops the
    run."""
    three_functions(tmp_path)
    sideways = [calc("a - b", "a + b", f"a - {k}") for k in range(3)]  # none gets a test passing
    fixed = calc("a + b", "a - b", "2 * a")
    small_server.extend([*sideways[:2], fixed])
    async with agent_for(
        small_server, tmp_path, stall_tries=1, max_turns=8, samples=3, samples_first=True
    ) as agent:
        result = await agent.run("Fix calc.py.")
    assert result.success and result.verified and result.turns == 3
    assert [r.get("n") for r in small_server.requests] == [3]  # tries 2 and 3 cost no request
    trace = trace_entries(tmp_path)
    assert [(e["tries"], e["samples_left"]) for e in trace if e["type"] == "stall"] == [(1, 2), (2, 1)]

    three_functions(tmp_path)
    small_server.extend([*sideways, fixed])
    async with agent_for(
        small_server, tmp_path, stall_tries=1, max_turns=8, samples=3, samples_first=True
    ) as agent:
        result = await agent.run("Fix calc.py.")
    assert not result.success and result.turns == 3  # all three tried, then the stop
    assert "3 tries in a row did not get more tests passing" in result.response
    assert [r.get("n") for r in small_server.requests[1:]] == [3]


async def test_a_turn_read_only_to_its_files_end_is_counted_by_the_servers_tokenizer(tmp_path: Path) -> None:
    """A reply cut once its file is complete, from a server that streams no usage (llama-cpp-python): its
    tokens are the server tokenizer's count of what was sent and read, not the rough estimate."""
    three_functions(tmp_path)
    done = calc("a + b", "a - b", "2 * a")
    done["content"] += "\n\nThis fixes all three functions." * 20  # prose after the file, never read
    with ScriptedModelServer(
        [done], models=[SMALL], tokenize="llama-cpp-python", stream_usage=False
    ) as server:
        async with agent_for(server, tmp_path, resample=False) as agent:
            result = await agent.run("Fix calc.py.")
    assert result.success
    turn = trace_entries(tmp_path, "turn")[0]
    assert turn["cut"] == "the file was complete"
    tokens = [
        (len(m["content"]) + 3) // 4 + 5 for m in turn["messages"]
    ]  # the stand-in: 4 characters a token
    assert turn["usage"]["prompt_tokens"] == sum(tokens) + 3
    assert turn["usage"]["completion_tokens"] == (len(turn["reply"]["content"]) + 3) // 4
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (
        turn["usage"]["prompt_tokens"],
        turn["usage"]["completion_tokens"],
    )


def shapes(root: Path) -> str:
    """geo/shapes.py with a wrong rectangle_area and its test; returns the module's text."""
    (root / "geo").mkdir()
    source = "def rectangle_area(w, h):\n    return w + h\n"
    (root / "geo" / "shapes.py").write_text(source)
    (root / "tests").mkdir()
    (root / "tests" / "test_shapes.py").write_text(
        "from geo.shapes import rectangle_area\n\n\ndef test_area():\n    assert rectangle_area(2, 3) == 6\n"
    )
    return source


@pytest.mark.parametrize("model", [SMALL, "scripted-model"])
async def test_a_run_that_gives_up_leaves_no_unparseable_file_when_the_task_named_none(
    tmp_path: Path, model: str
) -> None:
    # The task names no file, so no check runs before the run and nothing is "best" yet: the first broken try
    # used to become the best version and stay on disk when the run gave up.
    source = shapes(tmp_path)
    broken = fenced("patch", path="geo/shapes.py", search="    return w + h", replace="    return (w * h")
    with ScriptedModelServer(models=[model]) as server:
        server.extend([broken] + [{"content": "I cannot fix it."}] * 8)
        async with agent_for(server, tmp_path, model=model, fix_rounds=1, max_turns=6) as agent:
            result = await agent.run("the area of a rectangle comes out wrong: fix it")
        told = server.requests[1]["messages"][-1]["content"]
    assert (tmp_path / "geo" / "shapes.py").read_text() == source
    assert "Syntax check failed" in told and "was never closed" in told
    assert "reverted" in told
    assert result.success is False


async def test_an_edit_to_a_file_that_did_not_parse_before_is_kept(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    # Undoing it would not give back a version that parses: the model's step toward a fix stays.
    (tmp_path / "area.py").write_text("def area(w, h)\n    return w + h\n")
    small_server.extend(
        [fenced("patch", path="area.py", search="return w + h", replace="return w * h")]
        + [{"content": "Done."}] * 4
    )
    async with agent_for(small_server, tmp_path, fix_rounds=1, max_turns=4) as agent:
        await agent.run("the area function is wrong: fix it")
    assert (tmp_path / "area.py").read_text() == "def area(w, h)\n    return w * h\n"
    assert "reverted" not in small_server.requests[1]["messages"][-1]["content"]


async def test_with_failing_tests_the_model_first_says_what_a_test_expects(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    two_functions(tmp_path)
    fixed = "calc.py\n```python\ndef add(a, b):\n    return a + b\n\n\ndef double(a):\n    return 2 * a\n```"
    small_server.extend([{"content": fixed}])
    async with agent_for(small_server, tmp_path) as agent:
        result = await agent.run("Fix add in calc.py.")
    first = small_server.requests[0]["messages"][-1]["content"]
    # The failing test is shown above; setting its expectation against the code comes before the file.
    assert first.endswith(
        "First say in one or two sentences what a failing test expects, what the code in calc.py does "
        "instead, and what must change. Then write the line calc.py and the complete new calc.py in one "
        "fenced code block, with the change made."
    )
    assert result.success and result.verified


async def test_without_tests_the_model_first_says_what_must_change_and_why(
    small_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    documented = 'calc.py\n```python\ndef add(a, b):\n    """The sum."""\n    return a + b\n```'
    small_server.extend([{"content": documented}, {"content": "Done."}])
    async with agent_for(small_server, tmp_path) as agent:
        await agent.run("Add a docstring to add in calc.py.")
    first = small_server.requests[0]["messages"][-1]["content"]
    assert "what a failing test expects" not in first  # there is no test to set against the code
    assert "First say in one or two sentences what must change in calc.py and why." in first
    assert '"""The sum."""' in (tmp_path / "calc.py").read_text()
