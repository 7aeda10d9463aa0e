"""A multi-step task driven through the real tools the way the loop drives them (no model): plan, edit,
mark done, the check runs; a failing test keeps the step open until the code is fixed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent_core.config import Settings
from agent_core.planning.detect import detect_project
from agent_core.planning.store import PlanStore
from agent_core.planning.validate import step_validator
from agent_core.tools import ToolRegistry, default_tools
from agent_core.tools.base import ToolContext, ToolOutput
from agent_core.tools.plan_tools import plan_tools
from agent_core.workspace import FileWorkspace


@pytest.fixture(autouse=True)
def _fast_inner_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


async def test_create_module_then_tests_then_make_them_pass(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'calc'\nversion = '0'\n[tool.pytest.ini_options]\n"
    )
    settings = Settings()
    info = detect_project(root, settings)
    events: list[tuple[str, str]] = []
    store = PlanStore(
        root,
        on_event=lambda name, payload: events.append((name, payload.get("step", {}).get("id", ""))),
        validator=step_validator(root, info, settings),
        task="Create calc.py with add(), then tests, then make them pass",
    )
    ctx = ToolContext(root=root, settings=settings, workspace=FileWorkspace(root), plan=store)
    registry = ToolRegistry(default_tools() + plan_tools())

    async def call(name: str, **arguments: Any) -> ToolOutput:
        out = await registry.execute(name, arguments, ctx)
        store.record_edits(out.created + out.edited)  # what the loop does after every call
        return out

    try:
        out = await call(
            "plan",
            steps=[
                {"title": "Create calc.py with add()", "file": "calc.py"},
                {"title": "Write test_calc.py", "file": "test_calc.py", "check": "pytest"},
                "Make the tests pass",
            ],
        )
        assert out.ok and "CURRENT STEP 1." in out.text

        assert (await call("write_file", path="calc.py", content="def add(a, b):\n    return a - b\n")).ok
        out = await call("todo", step=1, status="done")
        assert out.ok, out.text  # syntax passes; no tests yet

        test_src = "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"
        assert (await call("write_file", path="test_calc.py", content=test_src)).ok
        out = await call("todo", step=2, status="done")
        assert not out.ok and "Tests failed" in out.text and "assert 0 == 4" in out.text

        # The model fixes the code while step 2 is still current; the step's check now passes.
        assert (await call("read_file", path="calc.py")).ok
        fix = await call("patch", path="calc.py", search="return a - b", replace="return a + b")
        assert fix.ok, fix.text
        out = await call("todo", step=2, status="done")
        assert out.ok, out.text
        out = await call("todo", step=3, status="done")
        assert out.ok and "All steps are finished" in out.text
    finally:
        await ctx.aclose()

    plan = store.plan
    assert plan is not None and plan.succeeded()
    assert [s.attempts for s in plan.steps] == [0, 1, 0]
    assert events == [
        ("plan_created", ""),
        ("step_started", "1"),
        ("step_done", "1"),
        ("step_started", "2"),
        ("step_failed", "2"),
        ("step_done", "2"),
        ("step_started", "3"),
        ("step_done", "3"),
    ]
    md = (root / ".smallcode" / "plan.md").read_text()
    assert md.count("- [x]") == 3 and "attempts: 1" in md
