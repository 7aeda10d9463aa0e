"""The plan and todo tools through the ToolRegistry, the PlanStore's plan.md mirror, events and user edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent_core.config import Settings
from agent_core.planning.markdown import plan_from_markdown
from agent_core.planning.plan import PlanStep
from agent_core.planning.store import PlanStore
from agent_core.planning.validate import ValidationResult, step_validator
from agent_core.tools.base import ToolContext
from agent_core.tools.plan_tools import plan_tools
from agent_core.tools.registry import ToolRegistry
from agent_core.workspace import FileWorkspace


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, payload: dict[str, Any]) -> None:
        self.events.append((name, payload))

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def steps(self, name: str) -> list[str]:
        return [p["step"]["id"] for n, p in self.events if n == name]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    return tmp_path / "ws"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def ctx(root: Path, recorder: Recorder) -> ToolContext:
    return ToolContext(
        root=root,
        settings=Settings(),
        workspace=FileWorkspace(root),
        plan=PlanStore(root, on_event=recorder, task="Build calc with tests"),
    )


async def call(ctx: ToolContext, name: str, **arguments: Any) -> Any:
    return await ToolRegistry(plan_tools()).execute(name, arguments, ctx)


async def test_plan_tool_creates_the_plan_file_and_starts_step_one(
    ctx: ToolContext, recorder: Recorder
) -> None:
    out = await call(
        ctx, "plan", steps=["Create calc.py with add()", "Write tests/test_calc.py", "Run the tests"]
    )
    assert out.ok, out.text
    assert "Plan saved to .smallcode/plan.md (3 steps)." in out.text
    assert "CURRENT STEP 1. Create calc.py with add() (file calc.py)" in out.text
    md = (ctx.root / ".smallcode" / "plan.md").read_text()
    assert "> Build calc with tests" in md and "- [~] 1. Create calc.py with add()" in md
    assert recorder.names() == ["plan_created", "step_started"]
    created = recorder.events[0][1]
    assert created["source"] == "model" and not created["revised"]
    assert [s["title"] for s in created["steps"]][0] == "Create calc.py with add()"
    assert created["path"].endswith(".smallcode/plan.md")


async def test_todo_marks_steps_and_moves_to_the_next(ctx: ToolContext, recorder: Recorder) -> None:
    await call(ctx, "plan", steps=[{"title": "Create a.py"}, {"title": "Create b.py"}, {"title": "Docs"}])
    out = await call(ctx, "todo", step=1, status="completed", note="wrote a.py")
    assert out.ok and out.text.startswith("Step 1 done.")
    assert "CURRENT STEP 2. Create b.py" in out.text
    out = await call(ctx, "todo", step="3", status="skip")
    assert out.ok and "Step 3 marked skipped." in out.text
    out = await call(ctx, "todo", step="Create b.py", status="failed", note="b.py is locked")
    assert out.ok and "plan(split='2'" in out.text
    plan = ctx.plan.plan  # type: ignore[union-attr]
    assert plan is not None
    assert [(s.status, s.attempts) for s in plan.steps] == [("done", 0), ("failed", 1), ("skipped", 0)]
    assert recorder.steps("step_done") == ["1"] and recorder.steps("step_skipped") == ["3"]
    assert recorder.steps("step_failed") == ["2"]
    assert recorder.events[-1][1]["final"] is True
    assert plan_from_markdown((ctx.root / ".smallcode" / "plan.md").read_text()) == plan


async def test_todo_errors_are_one_line_messages_for_the_model(ctx: ToolContext) -> None:
    out = await call(ctx, "todo", step=1, status="done")
    assert not out.ok and out.text == "there is no plan yet: call plan with a list of steps first"
    await call(ctx, "plan", steps=["a", "b"])
    out = await call(ctx, "todo", step=7, status="done")
    assert not out.ok and out.text == "no step '7' in the plan (steps: 1, 2)"
    out = await call(ctx, "todo", step=1, status="maybe")
    assert not out.ok and out.text.startswith("Invalid arguments for todo: status")
    out = await call(ctx, "plan", steps=[])
    assert not out.ok and "the plan has no steps" in out.text and "Traceback" not in out.text


async def test_replanning_keeps_done_steps(ctx: ToolContext, recorder: Recorder) -> None:
    await call(ctx, "plan", steps=["Create a.py", "Test a.py"])
    await call(ctx, "todo", step=1, status="done")
    out = await call(ctx, "plan", steps="1. Create a.py\n2. Add b.py\n3. Test a.py")
    assert out.ok
    plan = ctx.plan.plan  # type: ignore[union-attr]
    assert [(s.title, s.status) for s in plan.steps] == [  # type: ignore[union-attr]
        ("Create a.py", "done"),
        ("Add b.py", "running"),
        ("Test a.py", "pending"),
    ]
    assert [p["revised"] for n, p in recorder.events if n == "plan_created"] == [False, True]


async def test_split_a_failing_step(ctx: ToolContext, recorder: Recorder) -> None:
    await call(ctx, "plan", steps=["Create calc.py", "Write tests"])
    out = await call(ctx, "plan", split=1, steps=["Write add()", "Write sub()"])
    assert out.ok and out.text.startswith("Step 1 split into 2 smaller steps.")
    assert "CURRENT STEP 1.1. Write add() (file calc.py)" in out.text
    assert recorder.steps("step_started") == ["1", "1.1"]
    out = await call(ctx, "plan", split=9, steps=["x"])
    assert not out.ok and out.text.startswith("no step '9'")


async def test_a_users_edit_to_plan_md_is_picked_up(ctx: ToolContext, recorder: Recorder) -> None:
    await call(ctx, "plan", steps=["Create a.py", "Create b.py"])
    path = ctx.root / ".smallcode" / "plan.md"
    path.write_text(
        path.read_text().replace("- [ ] 2. Create b.py", "- [ ] 2. Create b.py with a main()")
        + "- [ ] Write README.md\n"
    )
    store = ctx.plan
    assert store is not None
    text = store.render_for_prompt()
    assert "[ ] 2. Create b.py with a main()" in text and "[ ] 3. Write README.md" in text
    assert recorder.events[-1][0] == "plan_created" and recorder.events[-1][1]["source"] == "user"
    assert store.plan.task == "Build calc with tests"  # type: ignore[union-attr]
    out = await call(ctx, "todo", step=3, status="done")
    assert out.ok and "Write README.md" in path.read_text()
    path.unlink()  # the user drops the plan
    assert store.plan is None


async def test_session_data_round_trip(root: Path) -> None:
    store = PlanStore(root)
    store.create(["a", "b"], task="t")
    data = store.to_data()
    other = PlanStore(root)
    other.restore(data)
    assert other.plan == store.plan
    fresh = PlanStore(root)
    assert fresh.plan is None  # an existing plan.md is only adopted on request
    assert fresh.load() == store.plan


async def test_tools_create_a_store_when_the_agent_attached_none(root: Path) -> None:
    ctx = ToolContext(root=root, settings=Settings(), workspace=FileWorkspace(root))
    out = await call(ctx, "plan", steps=["only step"])
    assert out.ok and ctx.plan is not None and (root / ".smallcode" / "plan.md").is_file()


async def test_async_event_callbacks_are_awaited(root: Path) -> None:
    seen: list[str] = []

    async def on_event(name: str, payload: dict[str, Any]) -> None:
        seen.append(name)

    store = PlanStore(root, on_event=on_event)
    store.create(["a"])
    await store.flush_events()
    assert seen == ["plan_created", "step_started"]


async def test_done_runs_the_check_and_a_failing_check_keeps_the_step(
    ctx: ToolContext, recorder: Recorder
) -> None:
    store = ctx.plan
    assert store is not None
    store.validator = step_validator(ctx.root, None, Settings())
    await call(ctx, "plan", steps=["Create calc.py", "Write docs"])
    store.record_edits(["calc.py"])
    (ctx.root / "calc.py").write_text("def add(a, b)\n    return a + b\n")
    for attempt in (1, 2, 3):
        out = await call(ctx, "todo", step=1, status="done")
        assert not out.ok
        assert "Step 1 is not done yet: its check failed." in out.text
        assert "calc.py, line 1" in out.text
        assert store.plan.steps[0].attempts == attempt  # type: ignore[union-attr]
    assert "Split it into 2-4 smaller steps: call plan with split='1'" in out.text
    assert [p["final"] for n, p in recorder.events if n == "step_failed"] == [False, False, False]
    (ctx.root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    out = await call(ctx, "todo", step=1, status="done")
    assert out.ok and "Checks passed: syntax: calc.py" in out.text
    assert store.plan.steps[0].status == "done"  # type: ignore[union-attr]
    assert store.touched(PlanStep(id="1", title="")) == ["calc.py"]


async def test_validator_failure_payload_carries_the_output(root: Path, recorder: Recorder) -> None:
    async def always_fails(step: PlanStep, files: list[str]) -> ValidationResult:
        return ValidationResult(False, "tests", "1 failed")

    store = PlanStore(root, on_event=recorder, validator=always_fails)
    store.create(["a"])
    step, result = await store.complete(1)
    assert result is not None and not result.ok and step.status == "running"
    assert recorder.events[-1] == (
        "step_failed",
        {**recorder.events[-1][1], "output": "1 failed", "final": False},
    )
