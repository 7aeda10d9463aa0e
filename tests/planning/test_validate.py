"""Step validation on real files and real subprocesses: syntax, linter, tests, timeouts, output caps."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path

import pytest

from agent_core.config import Settings
from agent_core.planning.detect import ProjectInfo, detect_project
from agent_core.planning.validate import (
    cap_output,
    relevant_test_command,
    run_command,
    validate_files,
)


@pytest.fixture(autouse=True)
def _fast_inner_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    """The projects' own pytest runs need none of this environment's plugins; skipping them saves seconds."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


async def test_python_syntax_error_is_caught_with_line_and_pointer(tmp_path: Path) -> None:
    write(tmp_path, {"calc.py": "def add(a, b):\n    return a +\n"})
    result = await validate_files(tmp_path, ["calc.py"])
    assert not result.ok and result.stage == "syntax"
    assert "calc.py, line 2" in result.output
    assert "return a +" in result.output and "^" in result.output
    assert result.output.rstrip().endswith("Fix the syntax error(s), then try again.")


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("data.json", '{"a": 1,}', "data.json, line 1"),
        ("conf.toml", "a = [", "conf.toml: invalid TOML"),
        ("app.mjs", "export const f = () => {\n", "app.mjs: node --check failed"),
    ],
)
async def test_other_formats_are_checked(tmp_path: Path, name: str, text: str, needle: str) -> None:
    if name.endswith(".mjs") and shutil.which("node") is None:
        pytest.skip("node is not installed")
    write(tmp_path, {name: text})
    result = await validate_files(tmp_path, [name])
    assert not result.ok and result.stage == "syntax"
    assert needle in result.output


async def test_valid_files_pass_and_say_what_ran(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.py": "x = 1\n",
            "b.json": "{}",
            "tsconfig.json": "{ // comments allowed\n}",
            "c.js": "let x = 1;\n",
        },
    )
    result = await validate_files(
        tmp_path, ["a.py", str(tmp_path / "b.json"), "tsconfig.json", "c.js", "gone.py"]
    )
    assert result.ok and result.stage == "syntax"
    assert result.checks == ["syntax: a.py, b.json, tsconfig.json, c.js, gone.py"]


async def test_only_docs_touched_runs_no_tests(tmp_path: Path) -> None:
    write(tmp_path, {"README.md": "# hi\n"})
    info = ProjectInfo(runtime="python", test_command="false")
    result = await validate_files(tmp_path, ["README.md"], info)
    assert result.ok and not any(c.startswith("tests") for c in result.checks)


PROJECT = {
    "pyproject.toml": "[project]\nname = 'calc'\nversion = '0'\n[tool.pytest.ini_options]\n",
    "calc.py": "def add(a, b):\n    return a - b\n",
    "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    "tests/test_other.py": "def test_other():\n    assert True\n",
    "tests/conftest.py": "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parent.parent))\n",
}


async def test_a_failing_pytest_test_is_caught_then_passes_once_fixed(tmp_path: Path) -> None:
    write(tmp_path, PROJECT)
    info = detect_project(tmp_path)
    assert info.test_command == "python -m pytest"
    result = await validate_files(tmp_path, ["calc.py"], info)
    assert not result.ok and result.stage == "tests"
    assert result.output.startswith("Tests failed (`python -m pytest`, exit 1):")
    assert "assert -1 == 3" in result.output
    assert "Fix the code" in result.output
    assert result.checks == ["syntax: calc.py", "tests: python -m pytest"]

    write(tmp_path, {"calc.py": "def add(a, b):\n    return a + b\n"})
    result = await validate_files(tmp_path, ["calc.py"], info)
    assert result.ok and result.stage == "tests"
    assert "Tests passed (`python -m pytest`)." in result.output


async def test_touched_test_files_narrow_the_pytest_run(tmp_path: Path) -> None:
    write(tmp_path, {**PROJECT, "tests/test_other.py": "def test_other():\n    assert False\n"})
    info = detect_project(tmp_path)
    write(tmp_path, {"calc.py": "def add(a, b):\n    return a + b\n"})
    narrowed = await validate_files(tmp_path, ["calc.py", "tests/test_calc.py"], info)
    assert narrowed.ok, narrowed.output
    assert narrowed.checks[-1] == "tests: python -m pytest tests/test_calc.py"
    whole = await validate_files(tmp_path, ["calc.py"], info)
    assert not whole.ok and "test_other" in whole.output


async def test_new_python_tests_run_even_without_a_detected_command(tmp_path: Path) -> None:
    write(tmp_path, {"test_x.py": "def test_x():\n    assert 1 == 2\n"})
    result = await validate_files(tmp_path, ["test_x.py"], ProjectInfo())
    assert not result.ok and result.stage == "tests" and "assert 1 == 2" in result.output


async def test_settings_disable_or_replace_the_tests(tmp_path: Path) -> None:
    write(tmp_path, PROJECT)
    info = detect_project(tmp_path)
    disabled = await validate_files(tmp_path, ["calc.py"], info, Settings(test_disable=True))
    assert disabled.ok and disabled.stage == "syntax"
    replaced = await validate_files(
        tmp_path, ["calc.py"], info, Settings(test_runner="echo custom-runner && exit 3")
    )
    assert not replaced.ok and "custom-runner" in replaced.output and "exit 3" in replaced.output


async def test_a_missing_runner_does_not_block_the_step(tmp_path: Path) -> None:
    write(tmp_path, {"a.go": "package a\n"})
    info = ProjectInfo(runtime="x", test_command="surely-not-installed-runner --all")
    result = await validate_files(tmp_path, ["a.go"], info)
    assert result.ok and "Tests not run: `surely-not-installed-runner` is not installed here" in result.output


async def test_ruff_runs_when_the_project_configures_it(tmp_path: Path) -> None:
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed")
    write(tmp_path, {"pyproject.toml": "[tool.ruff]\n", "m.py": "import os\n"})
    info = detect_project(tmp_path)
    assert info.linter == "ruff"
    result = await validate_files(tmp_path, ["m.py"], info)
    assert not result.ok and result.stage == "lint"
    assert "F401" in result.output and "m.py" in result.output
    write(tmp_path, {"m.py": "import os\n\nprint(os.sep)\n"})
    result = await validate_files(tmp_path, ["m.py"], info)
    assert result.ok and result.checks == ["syntax: m.py", "ruff"]


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has already exited


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # A background child that would outlive its shell if only the shell were killed.
    command = f"sleep 60 & echo $! > {pidfile}; wait"
    start = time.monotonic()
    result = await run_command(command, tmp_path, timeout=1)
    assert result.exit_code is None
    assert time.monotonic() - start < 10
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not _alive(pid)


async def test_a_test_timeout_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "x = 1\n"})
    info = ProjectInfo(runtime="python", test_command="echo started; sleep 30")
    result = await validate_files(tmp_path, ["a.py"], info, test_timeout=0.5)
    assert not result.ok and result.stage == "tests"
    assert result.output.startswith("Tests timed out after 0.5s (`echo started; sleep 30`) and were stopped.")
    assert "started" in result.output


async def test_long_output_is_capped_keeping_head_and_tail(tmp_path: Path) -> None:
    result = await run_command("seq 1 100000", tmp_path, timeout=30, max_output=1000)
    assert result.exit_code == 0
    assert len(result.output) < 1100
    assert result.output.startswith("1\n2\n") and result.output.endswith("99999\n100000")
    assert "characters cut" in result.output


def test_cap_output_and_relevant_command_helpers(tmp_path: Path) -> None:
    assert cap_output("short", 100) == "short"
    capped = cap_output("a" * 50 + "b" * 50, 40)
    assert capped.startswith("a" * 8) and capped.endswith("b" * 32)
    write(tmp_path, {"tests/test_a.py": ""})
    assert relevant_test_command("uv run pytest", tmp_path, ["tests/test_a.py", "x.py"]) == (
        "uv run pytest tests/test_a.py"
    )
    assert relevant_test_command("npm test", tmp_path, ["tests/test_a.py"]) == "npm test"


async def test_a_new_test_file_without_tests_fails_the_check(tmp_path: Path) -> None:
    """Seen in the plan bench: a step that wrote tests/test_x.py with no test in it was accepted as done."""
    from agent_core.planning.validate import run_tests

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text("import calc\n")
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    result = await run_tests(tmp_path, f"{sys.executable} -m pytest", ["tests/test_calc.py"])
    assert not result.ok and "No tests were collected" in result.output
    other = await run_tests(tmp_path, f"{sys.executable} -m pytest", ["calc.py"])
    assert other.ok
