"""The checks run code the model wrote (its tests), so they run as the model's shell does: the allow-listed
environment plus the user's `shell_env_pass`, and inside bubblewrap where the sandbox is on. Covered: the
Verifier (saved files and the editor's shadow copy), the plan step validator, and an agent run's final check,
each with a real pytest in a real process writing what it saw into the workspace."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent_core import SmallCode
from agent_core.config import Settings
from agent_core.planning.detect import ProjectInfo
from agent_core.planning.plan import PlanStep
from agent_core.planning.validate import run_command, step_validator
from agent_core.safety import sandbox
from agent_core.verify import Verifier
from tests.safety.conftest import tree_digest
from tests.support.scripted_server import ScriptedModelServer

_FOUND = sandbox.probe(Path(__file__).parent)
needs_bwrap = pytest.mark.skipif(
    not _FOUND.available, reason=f"bubblewrap cannot run here: {_FOUND.reason} (apt-get install bubblewrap)"
)

SECRETS = {
    "OPENAI_API_KEY": "sk-test-0123456789abcdefghij",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
PASSED = {"MY_TOOL_TOKEN": "let-through"}
SHOWN = [*SECRETS, *PASSED, "PATH", "HOME", "CI"]
CALC = "def add(a, b):\n    return a + b\n"


def probe_test(canary: Path) -> str:
    """A test "the model wrote": records the environment it got and tries to write outside the workspace."""
    return (
        "import json, os, pathlib\n\n"
        "from calc import add\n\n\n"
        "def test_what_the_check_sees():\n"
        f"    canary = pathlib.Path({str(canary)!r})\n"
        "    escaped = []\n"
        "    for name in ('planted.txt', 'victim.txt'):\n"
        "        try:\n"
        "            with open(canary / name, 'a') as out:\n"
        "                out.write('written by a test\\n')\n"
        "            escaped.append(name)\n"
        "        except OSError as exc:\n"
        "            escaped.append(type(exc).__name__)\n"
        f"    seen = {{name: os.environ.get(name) for name in {SHOWN!r}}}\n"
        "    seen['escaped'] = escaped\n"
        "    pathlib.Path('seen.json').write_text(json.dumps(seen))\n"
        "    assert add(1, 2) == 3\n"
    )


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A workspace `ws/` with calc.py and the probe test; a canary folder beside it; secrets in the environment."""
    ws, canary = tmp_path / "ws", tmp_path / "canary"
    ws.mkdir()
    canary.mkdir()
    (canary / "victim.txt").write_text("untouched\n")
    (ws / "calc.py").write_text(CALC)
    (ws / "test_probe.py").write_text(probe_test(canary))
    for name, value in {**SECRETS, **PASSED}.items():
        monkeypatch.setenv(name, value)
    return {"ws": ws, "canary": canary}


def seen_in(ws: Path) -> dict[str, Any]:
    return json.loads((ws / "seen.json").read_text())


def assert_filtered(seen: dict[str, Any]) -> None:
    import os

    assert all(seen[name] is None for name in SECRETS), seen
    assert seen["MY_TOOL_TOKEN"] == "let-through", seen
    assert seen["PATH"] == os.environ["PATH"] and seen["HOME"] == os.environ["HOME"], seen
    assert seen["CI"] == "1", seen


def settings(**values: object) -> Settings:
    return Settings(shell_env_pass=["MY_TOOL_*"], **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["off", "auto"])
async def test_the_verifier_runs_tests_with_the_shells_environment(
    layout: dict[str, Path], mode: str
) -> None:
    ws = layout["ws"]
    verifier = Verifier(ws, None, settings(shell_sandbox=mode), "Add a test for add in calc.py.")
    verdict = await verifier.check(["calc.py"])
    assert verdict.status == "passed", verdict.feedback
    assert_filtered(seen_in(ws))


def _unsaved(ws: Path) -> Callable[[], Awaitable[dict[Path, str]]]:
    async def texts() -> dict[Path, str]:
        return {ws / "calc.py": CALC + "\n# unsaved in the editor\n"}

    return texts


@needs_bwrap
@pytest.mark.parametrize("shadow", [False, True], ids=["saved", "shadow-copy"])
async def test_a_verifier_test_cannot_write_outside_the_workspace(
    layout: dict[str, Path], shadow: bool
) -> None:
    ws, canary = layout["ws"], layout["canary"]
    before = tree_digest(canary)
    unsaved = _unsaved(ws) if shadow else None
    verifier = Verifier(ws, None, settings(), "Add a test for add in calc.py.", unsaved=unsaved)
    verdict = await verifier.check(["calc.py"])
    assert verdict.status == "passed" and verdict.passed == 1, verdict.feedback
    assert tree_digest(canary) == before
    assert not (canary / "planted.txt").exists()
    if not shadow:  # the shadow copy (and what the test wrote in it) is gone
        seen = seen_in(ws)
        assert_filtered(seen)
        assert "planted.txt" not in seen["escaped"] and "victim.txt" not in seen["escaped"], seen


async def test_the_plan_step_validator_runs_tests_with_the_shells_environment(
    layout: dict[str, Path],
) -> None:
    ws, canary = layout["ws"], layout["canary"]
    before = tree_digest(canary)
    info = ProjectInfo(test_command=f"{sys.executable} -m pytest -p no:cacheprovider")
    validate = step_validator(ws, info, settings())
    result = await validate(PlanStep(id="1", title="Test add"), ["calc.py", "test_probe.py"])
    assert result.ok and result.stage == "tests", result.output
    assert_filtered(seen_in(ws))
    if _FOUND.available:
        assert tree_digest(canary) == before
        assert not (canary / "planted.txt").exists()


async def test_a_required_sandbox_that_cannot_run_runs_nothing(
    layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ws = layout["ws"]
    empty = tmp_path / "no-bwrap"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no bwrap (nor anything else) on PATH
    verifier = Verifier(ws, None, settings(shell_sandbox="on"), "Add a test for add in calc.py.")
    verdict = await verifier.check(["calc.py"])
    assert verdict.status == "unavailable" and not verdict.blocking
    assert "SMALLCODE_SHELL_SANDBOX=on" in verdict.feedback
    info = ProjectInfo(test_command=f"{sys.executable} -m pytest")
    result = await step_validator(ws, info, settings(shell_sandbox="on"))(
        PlanStep(id="1", title="t"), ["calc.py"]
    )
    assert result.ok and "SMALLCODE_SHELL_SANDBOX=on" in result.output, result.output
    assert not (ws / "seen.json").exists()


@needs_bwrap
async def test_a_timed_out_sandboxed_check_is_stopped(tmp_path: Path) -> None:
    started = time.monotonic()
    result = await run_command("sleep 30", tmp_path, timeout=1, settings=Settings())
    assert result.exit_code is None
    assert time.monotonic() - started < 10


async def test_an_agent_runs_the_test_the_model_wrote_confined(
    model_server: ScriptedModelServer, layout: dict[str, Path]
) -> None:
    ws, canary = layout["ws"], layout["canary"]
    before = tree_digest(canary)
    written = (ws / "test_probe.py").read_text()
    (ws / "test_probe.py").unlink()
    model_server.extend(
        [
            {
                "content": "```json\n"
                + json.dumps(
                    {"name": "write_file", "arguments": {"path": "test_probe.py", "content": written}}
                )
                + "\n```"
            },
            {"content": "Added a test for add."},
        ]
    )
    async with SmallCode(
        model="scripted-model", base_url=model_server.base_url, cwd=ws, shell_env_pass=["MY_TOOL_*"]
    ) as agent:
        result = await agent.run("Add a test for add in calc.py.")
    assert result.checks is not None and result.checks.status == "passed", result.checks
    assert result.verified is True
    assert_filtered(seen_in(ws))
    if _FOUND.available:
        assert tree_digest(canary) == before
        assert not (canary / "planted.txt").exists()
