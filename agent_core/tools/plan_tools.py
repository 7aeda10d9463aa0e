"""The plan tools: `plan {steps, split?}` creates or revises the TODO plan; `todo {step, status, note?}` marks
a step. Both act on the PlanStore attached to the ToolContext (`ctx.plan`); their results show the plan and
the current step so the model always knows what to do next.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema, field_validator

from agent_core.planning.plan import StepSpec, decomposition_prompt
from agent_core.planning.store import PlanStore
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput

_STATUS_SYNONYMS = {
    "complete": "done",
    "completed": "done",
    "finished": "done",
    "success": "done",
    "passed": "done",
    "ok": "done",
    "fail": "failed",
    "error": "failed",
    "blocked": "failed",
    "skip": "skipped",
    "start": "running",
    "started": "running",
    "in_progress": "running",
    "in progress": "running",
    "doing": "running",
    "active": "running",
}


def store_for(ctx: ToolContext) -> PlanStore:
    """The session's PlanStore; made on first use when the agent attached none (then without events)."""
    if ctx.plan is None:
        ctx.plan = PlanStore(ctx.root)
    return ctx.plan


# Small models read the schema: keep it flat (no $defs/$ref) while still accepting a single string.
_STEPS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "anyOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "file": {"type": "string"},
                    "check": {"type": "string"},
                },
                "required": ["title"],
            },
        ]
    },
}


class PlanArgs(ToolArgs):
    steps: Annotated[list[str | StepSpec] | str, WithJsonSchema(_STEPS_SCHEMA)] = Field(
        description="The steps, in order: short strings, or objects {title, file?, check?}. Each step one "
        "small change you can check (a file to edit, a command that shows it works)."
    )
    split: Annotated[int | str | None, WithJsonSchema({"type": ["integer", "string"]})] = Field(
        default=None,
        description="Id of a step that keeps failing: the steps replace it as its smaller sub-steps.",
    )


class PlanTool(Tool):
    name = "plan"
    description = (
        "Create or revise the TODO plan for a multi-step task. Steps that are already done keep their status. "
        "With split=<step id>, the steps become smaller sub-steps of a step that keeps failing."
    )
    Args = PlanArgs

    async def run(self, args: Any, ctx: ToolContext) -> ToolOutput:
        store = store_for(ctx)
        try:
            if args.split is not None:
                subs = store.decompose(args.split, args.steps)
                head = f"Step {args.split} split into {len(subs)} smaller steps."
            else:
                plan = store.create(args.steps)
                head = f"Plan saved to .smallcode/plan.md ({len(plan.steps)} steps)."
        except (KeyError, LookupError) as exc:
            raise ToolError(_message(exc)) from None
        except ValueError as exc:
            raise ToolError(
                f"{exc}. Give steps as a list of short strings, e.g. "
                '{"steps": ["Create calc.py with add()", "Write tests/test_calc.py", "Run the tests"]}.'
            ) from None
        return ToolOutput(text=f"{head}\n{store.render_for_prompt()}")


class TodoArgs(ToolArgs):
    step: int | str = Field(description='The step\'s id as shown in the plan (e.g. 2 or "3.1").')
    status: Literal["done", "failed", "skipped", "running"] = Field(
        description="done (its check runs first), failed, skipped, or running (start it)."
    )
    note: str = Field(default="", description="Optional: what was done, or why it failed.")

    @field_validator("status", mode="before")
    @classmethod
    def _synonyms(cls, value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip().lower()
            return _STATUS_SYNONYMS.get(key, key)
        return value


class TodoTool(Tool):
    name = "todo"
    description = (
        "Mark a step of the plan: done (the step's check runs first; it counts as done only if it passes), "
        "failed, skipped, or running."
    )
    Args = TodoArgs

    async def run(self, args: Any, ctx: ToolContext) -> ToolOutput:
        store = store_for(ctx)
        try:
            if args.status == "done":
                step, result = await store.complete(args.step, args.note)
                if result is not None and not result.ok:
                    text = f"Step {step.id} is not done yet: its check failed.\n{result.output}"
                    if store.needs_split(step):
                        text += "\n" + decomposition_prompt(step)
                    return ToolOutput(ok=False, text=f"{text}\n{store.render_for_prompt()}")
                checked = f" Checks passed: {', '.join(result.checks)}." if result and result.checks else ""
                head = f"Step {step.id} done.{checked}"
            else:
                step = store.mark(args.step, args.status, args.note)
                head = f"Step {step.id} marked {args.status}."
                if args.status == "failed":
                    head += (
                        f" Retry it with todo(step={step.id!r}, status='running') or split it with "
                        f"plan(split={step.id!r}, steps=[...])."
                    )
        except (KeyError, LookupError) as exc:
            raise ToolError(_message(exc)) from None
        return ToolOutput(text=f"{head}\n{store.render_for_prompt()}")


def _message(exc: Exception) -> str:
    return str(exc.args[0]) if exc.args else str(exc)


def plan_tools() -> list[Tool]:
    return [PlanTool(), TodoTool()]
