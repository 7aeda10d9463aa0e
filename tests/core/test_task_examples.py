"""A project without tests: the examples its task states ("`python x.py 2 3` prints 5") are the check."""

from __future__ import annotations

from pathlib import Path

from agent_core import SmallCode
from agent_core.config import Settings
from agent_core.verify.examples import Example, run_examples, task_examples
from tests.support.scripted_server import ScriptedModelServer

PRODUCT = "import sys\n\ntotal = 1\nfor arg in sys.argv[1:]:\n    total *= int(arg)\nprint(total)\n"
SUM = PRODUCT.replace("total = 1", "total = 0").replace("*=", "+=")
TASK = (
    "sum_args.py should print the sum of the numbers given on its command line (python sum_args.py 2 3 4 "
    "prints 9) but it prints their product. Fix sum_args.py."
)


def test_examples_are_read_from_the_task_in_their_usual_spellings() -> None:
    assert task_examples(TASK) == [Example("python sum_args.py 2 3 4", "sum_args.py", "9")]
    assert task_examples("Running `node cli.js --name Ada` should print `Hello, Ada!`.") == [
        Example("node cli.js --name Ada", "cli.js", "Hello, Ada!")
    ]
    assert task_examples(
        'python3 tools/shout.py hi outputs "HI"; python3 tools/half.py 3 must print 1.5.'
    ) == [
        Example("python3 tools/shout.py hi", "tools/shout.py", "HI"),
        Example("python3 tools/half.py 3", "tools/half.py", "1.5"),
    ]
    assert task_examples("Create hello.py that prints exactly: Hello, world!\nKeep it short.") == [
        Example("python hello.py", "hello.py", "Hello, world!")
    ]
    assert task_examples("python greet.py prints exactly: `hi there`") == [
        Example("python greet.py", "greet.py", "hi there")
    ]
    # no example: a program named without what it prints, a script outside the workspace, another language
    assert task_examples("make python sum_args.py faster") == []
    # descriptions, not output: unquoted words, a bare "print"
    assert task_examples("python sum.py 2 3 prints the sum of its arguments") == []
    assert task_examples("make `python app.py` print the version") == []
    assert task_examples("python count.py prints 3 lines") == []
    # descriptions, not output: unquoted words, a bare "print"
    assert task_examples("python sum.py 2 3 prints the sum of its arguments") == []
    assert task_examples("make `python app.py` print the version") == []
    assert task_examples("python count.py prints 3 lines") == []
    assert task_examples("python ../other/x.py prints 1") == []
    assert task_examples("ruby x.rb prints 1") == []
    assert task_examples("Create fizzbuzz.py that prints the numbers 1 to 15, one per line.") == []


def agent_for(server: ScriptedModelServer, root: Path) -> SmallCode:
    return SmallCode(model="scripted-model", base_url=server.base_url, cwd=root, shell_sandbox="off")


def write(content: str) -> dict[str, object]:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": "sum_args.py", "content": content}}]}


async def test_a_wrong_program_is_not_a_success_and_the_model_is_told_what_it_printed(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "sum_args.py").write_text(PRODUCT)
    wrong = PRODUCT.replace("total *= int(arg)", "total /= int(arg)")
    model_server.extend(
        [write(wrong), {"content": "The task is complete."}, write(SUM), {"content": "Fixed."}]
    )
    async with agent_for(model_server, tmp_path) as agent:
        agent.ctx.read_paths.add((tmp_path / "sum_args.py").resolve())
        result = await agent.run(TASK)
    told = [str(m.get("content")) for r in model_server.requests for m in r["messages"][-1:]]
    assert any("`python sum_args.py 2 3 4` printed '0.041666666666666664'" in t and "'9'" in t for t in told)
    assert result.success and result.verified
    assert result.checks is not None and result.checks.passed == 1
    assert "python sum_args.py 2 3 4 → 9" in result.checks.command
    assert (tmp_path / "sum_args.py").read_text() == SUM


async def test_an_argument_with_shell_syntax_is_passed_as_it_is_written(tmp_path: Path) -> None:
    # an apostrophe made shlex.split raise (the check crashed); `;` must not end the command
    (tmp_path / "echo_args.py").write_text("import sys\n\nprint(' '.join(sys.argv[1:]))\n")
    examples = task_examples("python echo_args.py don't;ls prints `don't;ls`") + task_examples(
        "python echo_args.py 7 prints 8"
    )
    run = await run_examples(tmp_path, examples, Settings(shell_sandbox="off"))
    assert (run.passed, run.failed) == (1, 1), run.feedback
    assert "`python echo_args.py 7` printed '7' (exit code 0); the task says it prints '8'." in run.feedback


async def test_a_run_that_never_gets_the_example_right_fails(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    (tmp_path / "sum_args.py").write_text(PRODUCT)
    wrong = PRODUCT.replace("total *= int(arg)", "total /= int(arg)")
    model_server.extend([write(wrong)] + [{"content": "The task is complete."}] * 5)
    async with agent_for(model_server, tmp_path) as agent:
        agent.ctx.read_paths.add((tmp_path / "sum_args.py").resolve())
        result = await agent.run(TASK)
    assert not result.success and not result.verified
    assert result.checks is not None and result.checks.status == "failed" and result.checks.failed == 1
