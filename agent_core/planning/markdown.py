"""The plan as Markdown (.smallcode/plan.md): written for people to read and edit, parsed back forgivingly.

    # Plan

    > the task, as given

    - [x] 1. Create calc.py with add()
      - file: calc.py:3
      - check: python -m pytest -q
    - [~] 2. Write tests for add()
      - attempts: 1
      - note: test_add failed: expected 3, got 4
    - [ ] 3. Make the tests pass

Marks: [ ] pending, [~] running, [x] done, [!] failed, [-] skipped. Users may tick boxes, reword, reorder,
delete or add steps (a new line `- [ ] do this`, number optional); the agent picks the edit up.
"""

from __future__ import annotations

import re

from agent_core.planning.plan import STATUS_MARK, Plan, PlanStep, StepStatus, clean_title

HEADER_COMMENT = (
    "<!-- SmallCode's TODO plan; edit freely, it is read back before every turn. "
    "Marks: [ ] pending, [~] running, [x] done, [!] failed, [-] skipped. -->"
)

_MARK_STATUS: dict[str, StepStatus] = {
    " ": "pending",
    "": "pending",
    "x": "done",
    "X": "done",
    "~": "running",
    ">": "running",
    "/": "running",
    "!": "failed",
    "-": "skipped",
}
_STEP_RE = re.compile(r"^(?P<indent>\s*)(?:[-*+]|\d+[.)])\s+\[(?P<mark>.?)\]\s*(?P<rest>.*)$")
_PLAIN_ITEM_RE = re.compile(r"^(?:[-*+]|\d+[.)])\s+(?P<rest>\S.*)$")
_META_RE = re.compile(r"^\s+[-*+]\s*(?P<key>file|line|check|attempts|note|status)\s*:\s*(?P<value>.*)$", re.I)
_ID_RE = re.compile(r"^(?P<id>\d+(?:\.\d+)*)[.):]?\s+(?P<title>.*)$")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def plan_to_markdown(plan: Plan) -> str:
    lines = ["# Plan", ""]
    if plan.task.strip():
        lines += [f"> {line}".rstrip() for line in plan.task.strip().splitlines()]
        lines.append("")
    lines += [HEADER_COMMENT, ""]
    for step in plan.steps:
        lines.append(f"- [{STATUS_MARK[step.status]}] {step.id}. {_one_line(step.title)}")
        if step.file:
            lines.append(f"  - file: {step.file}" + (f":{step.line}" if step.line else ""))
        if step.check:
            lines.append(f"  - check: {_one_line(step.check)}")
        if step.attempts:
            lines.append(f"  - attempts: {step.attempts}")
        if step.note:
            lines.append(f"  - note: {_one_line(step.note)}")
    return "\n".join(lines) + "\n"


def _apply_meta(step: PlanStep, key: str, value: str) -> None:
    key = key.lower()
    value = value.strip().strip("`").strip()
    if key == "file":
        match = re.match(r"^(?P<path>.+?):(?P<line>\d+)$", value)
        if match:
            step.file, step.line = match.group("path"), int(match.group("line"))
        else:
            step.file = value or None
    elif key == "line" and value.isdigit():
        step.line = int(value)
    elif key == "check":
        step.check = value or None
    elif key == "attempts" and value.isdigit():
        step.attempts = int(value)
    elif key == "note":
        step.note = value
    elif key == "status" and value.lower() in STATUS_MARK:
        step.status = value.lower()  # type: ignore[assignment]


def plan_from_markdown(text: str) -> Plan:
    """Parse plan.md; never raises. Unnumbered or duplicate steps get fresh ids."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    task_lines: list[str] = []
    steps: list[PlanStep] = []
    raw_ids: list[str | None] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not steps and line.startswith(">"):
            task_lines.append(line[1:].removeprefix(" "))
            continue
        step_match = _STEP_RE.match(line)
        meta_match = _META_RE.match(line) if step_match is None else None
        if meta_match and steps:
            _apply_meta(steps[-1], meta_match.group("key"), meta_match.group("value"))
            continue
        if step_match:
            status = _MARK_STATUS.get(step_match.group("mark"), "pending")
            rest = step_match.group("rest")
        else:
            plain = _PLAIN_ITEM_RE.match(line)
            if plain is None:
                if steps and line[:1].isspace():  # an indented remark under a step: keep it as its note
                    steps[-1].note = _one_line(f"{steps[-1].note} {line.strip().lstrip('-*+ ')}")
                continue
            status, rest = "pending", plain.group("rest")
        id_match = _ID_RE.match(rest.strip())
        raw_id = id_match.group("id") if id_match else None
        title = clean_title(id_match.group("title") if id_match else rest)
        if not title:
            continue
        steps.append(PlanStep(id="?", title=title, status=status))
        raw_ids.append(raw_id)
    _assign_ids(steps, raw_ids)
    return Plan(task="\n".join(task_lines).strip(), steps=steps)


def _assign_ids(steps: list[PlanStep], raw_ids: list[str | None]) -> None:
    """Keep the ids users and the model refer to; number new or duplicated steps after the highest one."""
    used: set[str] = set()
    tops = [int(r.split(".")[0]) for r in raw_ids if r]
    next_id = max(tops, default=0) + 1
    for step, raw in zip(steps, raw_ids, strict=True):
        if raw and raw not in used:
            step.id = raw
        else:
            step.id = str(next_id)
            next_id += 1
        used.add(step.id)
