"""PlanStore: the session's plan, mirrored to .smallcode/plan.md, with events for every change.

One per agent, attached to the ToolContext (`ctx.plan`) so the plan/todo tools can act on it. The loop reads
`store.plan` each turn (which picks up the user's edits to plan.md), calls `record_edits` with the files a
tool call touched, and maps `on_event(name, payload)` onto its event bus:

- plan_created {path, task, steps, source: "model" | "agent" | "user", revised}
- step_started {path, step}
- step_done {path, step, check?}
- step_failed {path, step, output?, final}   (final=False: an attempt failed and the step stays current)
- step_skipped {path, step}

`step` is a PlanStep as a dict (id, title, file, line, check, status, attempts, note). The callback may be a
plain function or return an awaitable (it is then scheduled; `await store.flush_events()` waits for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_core.planning.markdown import plan_from_markdown, plan_to_markdown
from agent_core.planning.plan import DECOMPOSE_AFTER, Plan, PlanStep, StepSpec, StepStatus
from agent_core.workspace import atomic_write

if TYPE_CHECKING:
    from agent_core.planning.validate import ValidationResult

log = logging.getLogger(__name__)

EventCallback = Callable[[str, dict[str, Any]], Awaitable[None] | None]
StepValidator = Callable[[PlanStep, list[str]], Awaitable["ValidationResult"]]
"""Checks a step before it counts as done: (step, files touched while it ran) → ValidationResult."""

PLAN_EVENTS = ("plan_created", "step_started", "step_done", "step_failed", "step_skipped")
Specs = Iterable[str | dict[str, Any] | StepSpec] | str


class PlanStore:
    def __init__(
        self,
        root: Path,
        on_event: EventCallback | None = None,
        validator: StepValidator | None = None,
        decompose_after: int = DECOMPOSE_AFTER,
        task: str = "",
    ) -> None:
        self.root = Path(root)
        self.task = task
        """The user's task, recorded in plan.md; the loop sets it at the start of a run."""
        self.path = self.root / ".smallcode" / "plan.md"
        self.on_event = on_event
        self.validator = validator
        """Set by the loop (e.g. `validate_files` with the detected project); None: no check before done."""
        self.decompose_after = decompose_after
        self._plan: Plan | None = None
        self._synced: str | None = None  # plan.md as last written or read by us
        self._touched: dict[str, list[str]] = {}  # step id → files edited while it was current
        self._pending: set[asyncio.Task[None]] = set()

    # --- reading ---

    @property
    def plan(self) -> Plan | None:
        """The current plan, re-read first if the user edited (or deleted) plan.md."""
        self.refresh()
        return self._plan

    def refresh(self) -> bool:
        """Pick up a user's edit to plan.md; True if the plan changed."""
        if self._synced is None:
            return False  # we never wrote a plan: an old plan.md from another session is not ours
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._plan, self._synced = None, None  # the user removed the plan
            return True
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("cannot read %s: %s", self.path, exc)
            return False
        if text == self._synced:
            return False
        edited = plan_from_markdown(text)
        if not edited.task and self._plan is not None:
            edited.task = self._plan.task
        self._plan, self._synced = edited, text
        self._emit("plan_created", self._plan_payload(source="user", revised=True))
        return True

    def load(self) -> Plan | None:
        """Adopt an existing plan.md (e.g. to resume); None if there is none or it has no steps."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        plan = plan_from_markdown(text)
        if not plan.steps:
            return None
        self._plan, self._synced = plan, text
        return plan

    def render_for_prompt(self) -> str:
        plan = self.plan
        return plan.render_for_prompt() if plan is not None else ""

    def touched(self, step: PlanStep) -> list[str]:
        return list(self._touched.get(step.id, []))

    # --- session data ---

    def to_data(self) -> dict[str, Any] | None:
        plan = self.plan
        return plan.model_dump() if plan is not None else None

    def restore(self, data: dict[str, Any] | None) -> None:
        """Resume a session's plan (and write it back to plan.md)."""
        if data:
            self._plan = Plan.model_validate(data)
            self._save()

    # --- changes ---

    def create(self, specs: Specs, task: str = "", source: str = "model") -> Plan:
        """Create the plan, or revise the existing one (steps it repeats keep their progress). `source`: who
        made it, for the plan_created event ("model", or "agent" for a plan the agent drafted itself)."""
        current = self.plan
        revised = current is not None and bool(current.steps)
        task = task or self.task
        plan = current.revise(specs) if current is not None and revised else Plan.from_specs(specs, task=task)
        if not plan.task and task:
            plan.task = task
        if not plan.steps:
            raise ValueError("the plan has no steps")
        self._plan = plan
        self._save()
        self._emit("plan_created", self._plan_payload(source=source, revised=revised))
        self._start_next()
        return plan

    def clear(self) -> None:
        self._plan = None
        self._synced = None
        self._touched.clear()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def record_edits(self, paths: Iterable[str]) -> None:
        """Files a tool call created or edited: they belong to the current step's check."""
        plan = self.plan
        step = plan.current() if plan is not None else None
        if step is None:
            return
        files = self._touched.setdefault(step.id, [])
        for path in paths:
            if path not in files:
                files.append(path)

    def start(self, ref: int | str) -> PlanStep:
        step = self._step(ref)
        for other in self._require().steps:
            if other.status == "running" and other is not step:
                other.status = "pending"
        step.status = "running"
        self._save()
        self._emit("step_started", self._step_payload(step))
        return step

    def mark(self, ref: int | str, status: StepStatus, note: str = "") -> PlanStep:
        """Set a step's status without a check (see `complete` for done-with-check)."""
        step = self._step(ref)
        if status == "running":
            step = self.start(step.id)
            if note:
                step.note = note
                self._save()
            return step
        if status == "failed":
            step.attempts += 1
        step.status = status
        if note:
            step.note = note
        self._save()
        event = {"done": "step_done", "failed": "step_failed", "skipped": "step_skipped"}.get(status)
        if event == "step_failed":
            self._emit(event, {**self._step_payload(step), "final": True})
        elif event:
            self._emit(event, self._step_payload(step))
        if status in ("done", "skipped", "failed"):
            self._start_next()
        return step

    async def complete(self, ref: int | str, note: str = "") -> tuple[PlanStep, ValidationResult | None]:
        """Mark a step done if its check passes; otherwise it stays current with one more failed attempt."""
        step = self._step(ref)
        result = None
        if self.validator is not None:
            result = await self.validator(step, self.touched(step))
            if not result.ok:
                step.attempts += 1
                step.status = "running"
                step.note = f"{result.stage} check failed"
                self._save()
                self._emit(
                    "step_failed", {**self._step_payload(step), "output": result.output, "final": False}
                )
                return step, result
        step = self.mark(step.id, "done", note)
        return step, result

    def decompose(self, ref: int | str, specs: Specs) -> list[PlanStep]:
        """Split a step that keeps failing: mark it failed and insert the sub-steps after it."""
        plan = self._require()
        step = self._step(ref)
        subs = plan.decompose(step.id, specs)
        self._save()
        self._emit("step_failed", {**self._step_payload(step), "final": True})
        self._emit("plan_created", self._plan_payload(source="model", revised=True))
        self.start(subs[0].id)
        return subs

    def needs_split(self, step: PlanStep) -> bool:
        return step.attempts >= self.decompose_after and not self._require().children(step)

    async def flush_events(self) -> None:
        """Wait for events whose callbacks returned awaitables."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    # --- internals ---

    def _require(self) -> Plan:
        plan = self.plan
        if plan is None or not plan.steps:
            raise LookupError("there is no plan yet: call plan with a list of steps first")
        return plan

    def _step(self, ref: int | str) -> PlanStep:
        plan = self._require()
        step = plan.find(ref)
        if step is None:
            ids = ", ".join(s.id for s in plan.steps)
            raise KeyError(f"no step {str(ref)!r} in the plan (steps: {ids})")
        return step

    def _start_next(self) -> None:
        plan = self._plan
        if plan is None or any(s.status == "running" for s in plan.steps):
            return
        nxt = plan.current()
        if nxt is not None:
            self.start(nxt.id)

    def _save(self) -> None:
        if self._plan is None:
            return
        text = plan_to_markdown(self._plan)
        try:
            atomic_write(self.path, text.encode("utf-8"))
        except OSError as exc:  # the session copy still holds the plan; losing the mirror is not fatal
            log.warning("cannot write %s: %s", self.path, exc)
        self._synced = text

    def _plan_payload(self, source: str, revised: bool) -> dict[str, Any]:
        plan = self._plan or Plan()
        return {
            "path": str(self.path),
            "task": plan.task,
            "steps": [s.model_dump() for s in plan.steps],
            "source": source,
            "revised": revised,
        }

    def _step_payload(self, step: PlanStep) -> dict[str, Any]:
        return {"path": str(self.path), "step": step.model_dump()}

    def _emit(self, name: str, payload: dict[str, Any]) -> None:
        if self.on_event is None:
            return
        try:
            result = self.on_event(name, payload)
        except Exception:  # a subscriber's bug must not break planning
            log.exception("plan event callback failed for %s", name)
            return
        if inspect.isawaitable(result):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no running loop: nothing could ever await it
                if inspect.iscoroutine(result):
                    result.close()
                return
            task = loop.create_task(_await(result))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)


async def _await(awaitable: Awaitable[None]) -> None:
    await awaitable
