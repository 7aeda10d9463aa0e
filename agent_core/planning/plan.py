"""The TODO plan: atomic steps (what, which file, how to check), their status, and when a task needs one.

Small models lose the thread on multi-step work; a short plan they see every turn, with one current step,
keeps them on it. The plan is plain data (pydantic, JSON-able for the session) and is kept as readable,
user-editable Markdown in .smallcode/plan.md (see `agent_core.planning.markdown`, `agent_core.planning.store`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_core.config import Settings

StepStatus = Literal["pending", "running", "done", "failed", "skipped"]

DECOMPOSE_AFTER = 3
"""A step that failed this many times should be split into smaller steps."""

# Markers shared by the prompt rendering and the Markdown file.
STATUS_MARK: dict[str, str] = {"pending": " ", "running": "~", "done": "x", "failed": "!", "skipped": "-"}

_FILE_RE = re.compile(
    r"(?<![\w/.-])((?:[\w.-]+/)*[\w-][\w.-]*\.(?:py|pyi|js|jsx|mjs|cjs|ts|tsx|json|toml|ya?ml|md|txt|cfg|ini|"
    r"go|rs|java|kt|rb|php|cs|fs|ex|exs|c|h|cc|cpp|hpp|swift|sh|html|css|scss|sql|vue|svelte))(?![\w/])"
)


class PlanStep(BaseModel):
    """One atomic step of the plan."""

    id: str
    """"1", "2", …; sub-steps of a split step are "3.1", "3.2"."""
    title: str
    """What to do, in one line."""
    file: str | None = None
    """The workspace-relative file the step is about, if one."""
    line: int | None = None
    """A 1-based line in `file` (where the editor shows the step)."""
    check: str | None = None
    """How to check the step is done (a command or a short description)."""
    status: StepStatus = "pending"
    attempts: int = 0
    """Failed attempts so far (a failed check or the model marking it failed)."""
    note: str = ""
    """Last note: why it failed, what was done."""

    def brief(self) -> str:
        """`3. Title (file x.py; check: pytest)` — one line."""
        extras = []
        if self.file:
            extras.append(f"file {self.file}" + (f":{self.line}" if self.line else ""))
        if self.check:
            extras.append(f"check: {self.check}")
        return f"{self.id}. {self.title}" + (f" ({'; '.join(extras)})" if extras else "")


class StepSpec(BaseModel):
    """A step as the model (or a caller) describes it; forgiving about key names small models pick."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    title: str = Field(
        validation_alias=AliasChoices("title", "step", "description", "task", "name", "text", "what")
    )
    file: str | None = Field(default=None, validation_alias=AliasChoices("file", "path", "filename"))
    line: int | None = None
    check: str | None = Field(
        default=None, validation_alias=AliasChoices("check", "test", "verify", "validation")
    )

    @field_validator("title")
    @classmethod
    def _clean_title(cls, value: str) -> str:
        cleaned = clean_title(value)
        if not cleaned:
            raise ValueError("a step needs a non-empty title")
        return cleaned


def clean_title(text: str) -> str:
    """One line, without list bullets, checkboxes or numbering the model copied into it."""
    text = " ".join(str(text).split())
    text = re.sub(r"^(?:[-*+]\s*)?(?:\[[ xX~!>/-]\]\s*)?", "", text)
    for _ in range(2):  # "3) Step 3: run tests"
        text = re.sub(r"^(?:step\s*)?\d+(?:\.\d+)*\s*[.):-]\s*", "", text, flags=re.IGNORECASE)
    return text.strip()


def guess_file(title: str) -> str | None:
    """The one file a step title names, if it names exactly one."""
    files = {m.group(1) for m in _FILE_RE.finditer(title)}
    return files.pop() if len(files) == 1 else None


def to_specs(steps: Iterable[str | dict[str, Any] | StepSpec] | str) -> list[StepSpec]:
    """Step descriptions → StepSpecs. A single string is split into lines (a model's numbered list)."""
    if isinstance(steps, str):
        steps = [line for line in steps.splitlines() if clean_title(line)]
    specs = []
    for n, item in enumerate(steps, start=1):
        if isinstance(item, StepSpec):
            spec = item
        elif isinstance(item, dict):
            try:
                spec = StepSpec.model_validate(item)
            except ValidationError:
                raise ValueError(f"step {n} has no title (got {item!r})") from None
        elif clean_title(str(item)):
            spec = StepSpec(title=str(item))
        else:
            continue  # a blank line in the model's list
        if spec.file is None:
            spec.file = guess_file(spec.title)
        specs.append(spec)
    return specs


class Plan(BaseModel):
    """The task's TODO list. JSON-able (`model_dump`) for the session; Markdown for the user."""

    task: str = ""
    steps: list[PlanStep] = Field(default_factory=list)

    @classmethod
    def from_specs(cls, specs: Iterable[str | dict[str, Any] | StepSpec] | str, task: str = "") -> Plan:
        steps = [
            PlanStep(id=str(n), title=s.title, file=s.file, line=s.line, check=s.check)
            for n, s in enumerate(to_specs(specs), start=1)
        ]
        return cls(task=task, steps=steps)

    # --- queries ---

    def find(self, ref: int | str) -> PlanStep | None:
        """A step by id ("3", 3, "3.1", "step 3", "#3") or, failing that, by a unique piece of its title."""
        text = str(ref).strip()
        key = re.sub(r"^(?:step\s*|#)", "", text, flags=re.IGNORECASE).rstrip(".")
        for step in self.steps:
            if step.id == key:
                return step
        lowered = text.lower()
        if not lowered:
            return None
        exact = [s for s in self.steps if s.title.lower() == lowered]
        if len(exact) == 1:
            return exact[0]
        partial = [s for s in self.steps if lowered in s.title.lower()]
        if len(partial) == 1:
            return partial[0]
        # "1. Fix mean() in stats.py": the id the plan shows, followed by the title (seen with the 1.5B model).
        numbered = re.match(r"^(?:step\s*|#)?(\d+(?:\.\d+)*)[.):]?\s+\S", text, flags=re.IGNORECASE)
        if numbered:
            return next((s for s in self.steps if s.id == numbered.group(1)), None)
        return None

    def current(self) -> PlanStep | None:
        """The step being worked on: the first running one, else the first pending one."""
        for status in ("running", "pending"):
            for step in self.steps:
                if step.status == status:
                    return step
        return None

    def children(self, step: PlanStep) -> list[PlanStep]:
        return [s for s in self.steps if s.id.startswith(step.id + ".")]

    def progress(self) -> tuple[int, int]:
        """(finished, total), counting done and skipped steps as finished."""
        finished = sum(1 for s in self.steps if s.status in ("done", "skipped"))
        return finished, len(self.steps)

    def is_finished(self) -> bool:
        """Nothing left to do: no pending or running step."""
        return all(s.status not in ("pending", "running") for s in self.steps)

    def succeeded(self) -> bool:
        """Finished, and every failed step was split into sub-steps that all finished."""
        if not self.is_finished():
            return False
        for step in self.steps:
            if step.status == "failed":
                kids = self.children(step)
                if not kids or any(k.status == "failed" and not self.children(k) for k in kids):
                    return False
        return True

    # --- changes ---

    def revise(self, specs: Iterable[str | dict[str, Any] | StepSpec] | str) -> Plan:
        """A new plan from the model's revised list; steps it repeats (same title) keep their progress.

        The first unfinished step in the new order becomes the current one.
        """
        old = {s.title.lower(): s for s in self.steps}
        new = Plan.from_specs(specs, task=self.task)
        for step in new.steps:
            before = old.get(step.title.lower())
            if before is not None:
                # A running step is pending again: the revised order decides what comes next.
                step.status = "pending" if before.status == "running" else before.status
                step.attempts, step.note = before.attempts, before.note
                step.file = step.file or before.file
                step.line = step.line or before.line
                step.check = step.check or before.check
        return new

    def decompose(
        self, ref: int | str, specs: Iterable[str | dict[str, Any] | StepSpec] | str
    ) -> list[PlanStep]:
        """Mark a step failed and insert the given sub-steps right after it (ids "3.1", "3.2", …).

        Sub-steps inherit the step's file and check when they name none. Raises KeyError for an unknown step
        and ValueError when no sub-steps are given.
        """
        step = self.find(ref)
        if step is None:
            raise KeyError(str(ref))
        parsed = to_specs(specs)
        if not parsed:
            raise ValueError("no sub-steps given")
        existing = {s.id for s in self.steps}
        n = 1
        subs: list[PlanStep] = []
        for spec in parsed:
            while f"{step.id}.{n}" in existing:
                n += 1
            subs.append(
                PlanStep(
                    id=f"{step.id}.{n}",
                    title=spec.title,
                    file=spec.file or step.file,
                    line=spec.line,
                    check=spec.check or step.check,
                )
            )
            n += 1
        step.status = "failed"
        step.note = f"split into {subs[0].id}–{subs[-1].id}" if len(subs) > 1 else f"split into {subs[0].id}"
        # After the step and any earlier sub-steps of it.
        index = max(i for i, s in enumerate(self.steps) if s is step or s.id.startswith(step.id + "."))
        self.steps[index + 1 : index + 1] = subs
        return subs

    # --- rendering ---

    def render_for_prompt(self, max_lines: int = 14) -> str:
        """The plan and the current step in a few lines, for the model's context each turn."""
        if not self.steps:
            return ""
        finished, total = self.progress()
        current = self.current()
        lines = [
            f"PLAN ({finished}/{total} done). Work on the current step only; when it is done call "
            "todo(step, status='done'); call plan to revise."
        ]
        shown = self.steps
        if len(shown) > max_lines:
            # Keep the current step in view: fold the finished steps before it into one line.
            cut = self.steps.index(current) if current else len(self.steps)
            folded = [s for s in self.steps[:cut] if s.status in ("done", "skipped")]
            if folded:
                lines.append(f"[x] {len(folded)} earlier steps finished")
            shown = [s for s in self.steps if s not in folded][: max_lines - 1]
        for step in shown:
            lines.append(f"[{STATUS_MARK[step.status]}] {step.id}. {step.title}")
        if current is not None:
            lines.append(f"CURRENT STEP {current.brief()}")
            if current.attempts:
                lines.append(f"It failed {current.attempts} time(s) so far: {current.note or 'see above'}.")
        elif self.succeeded():
            lines.append("All steps are finished: check the result and give your final answer.")
        else:
            failed = ", ".join(s.id for s in self.steps if s.status == "failed" and not self.children(s))
            lines.append(
                f"No step left, but step(s) {failed} failed: retry one (todo status='running'), split it "
                "(plan split=<id>), or give your final answer saying what is left."
            )
        return "\n".join(lines)


def decomposition_prompt(step: PlanStep) -> str:
    """What to tell the model when a step keeps failing: split it with the plan tool."""
    return (
        f"Step {step.id} ({step.title}) has failed {step.attempts} times"
        + (f"; last error: {step.note}" if step.note else "")
        + f". Split it into 2-4 smaller steps: call plan with split={step.id!r} and steps=[...], "
        "each step one small edit you can check."
    )


# --- does a task need a plan? ---------------------------------------------------------------------------

_VERBS = {
    "add", "build", "change", "convert", "create", "delete", "document", "extract", "fix", "implement",
    "improve", "install", "make", "migrate", "move", "optimize", "port", "refactor", "remove", "rename",
    "replace", "rewrite", "run", "set", "setup", "split", "test", "update", "upgrade", "write",
}  # fmt: skip
_SEQUENCE = re.compile(
    r"\b(and then|then|after that|afterwards|finally|next|first|second|once .{1,40} (?:is|are) done)\b", re.I
)
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+\S", re.MULTILINE)
_QUESTION = re.compile(r"^\s*(what|why|how|where|which|who|explain|describe|show|list)\b", re.I)


def needs_plan(task: str, settings: Settings | None = None) -> bool:
    """Whether a task is multi-step enough to plan first. settings.plan (SMALLCODE_PLAN) forces it.

    Signals: a list of two or more items; sequencing words ("and then", "finally") with two actions;
    two or more files and an action; three or more distinct actions. Questions and one-liners don't.
    """
    if settings is not None and settings.plan:
        return True
    text = task.strip()
    if not text:
        return False
    if len(_LIST_ITEM.findall(text)) >= 2:
        return True
    words = re.findall(r"[a-z]+", text.lower())
    verbs = {w for w in words if w in _VERBS}
    files = {m.group(1) for m in _FILE_RE.finditer(text)}
    if _QUESTION.match(text) and len(verbs) < 2:
        return False
    if _SEQUENCE.search(text) and len(verbs) >= 2:
        return True
    if len(files) >= 2 and verbs:
        return True
    return len(verbs) >= 3
