"""TODO plan steps as code lenses: at the file and line a step concerns, and at the step's line in
.smallcode/plan.md; state (pending / running / done / failed / skipped) plus "▶ Run step", "Skip", "Retry".

The plan is read through agent_core.planning (the agent's PlanStore when it has one, else plan.md itself).
Lenses are refreshed with workspace/codeLens/refresh when plan events arrive (if the client supports it).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from agent_core.planning.plan import Plan, PlanStep
from agent_core.planning.store import PlanStore
from lsp_server import capabilities
from lsp_server.replies import CommandReply
from lsp_server.server import SmallCodeServer, UserError

PLAN_FILE = Path(".smallcode") / "plan.md"
PLAN_EVENTS = {"plan_created", "step_started", "step_done", "step_failed", "step_skipped"}
STEP_COMMAND = "smallcode.planStep"
ICONS = {"pending": "○", "running": "◐", "done": "✓", "failed": "✗", "skipped": "–"}
ACTIONS: dict[str, list[tuple[str, str]]] = {
    "pending": [("▶ Run step", "run"), ("Skip", "skip")],
    "running": [("Retry", "retry"), ("Skip", "skip")],
    "failed": [("Retry", "retry"), ("Skip", "skip")],
    "skipped": [("▶ Run step", "run")],
    "done": [("Retry", "retry")],
}


def read_plan(ls: SmallCodeServer, root: Path) -> Plan | None:
    agent = ls.agents.get(root)
    store = getattr(getattr(agent, "ctx", None), "plan", None) if agent is not None else None
    if isinstance(store, PlanStore) and store.plan is not None:
        return store.plan
    path = root / PLAN_FILE
    if not path.is_file():
        return None
    text = _document_text(ls, path)
    plan = Plan.from_markdown(text)
    return plan if plan.steps else None


def _document_text(ls: SmallCodeServer, path: Path) -> str:
    doc = ls.workspace.text_documents.get(from_fs_path(str(path)) or "")  # the editor's unsaved text wins
    return str(doc.source) if doc is not None else path.read_text(encoding="utf-8", errors="replace")


def _step_line(lines: list[str], step: PlanStep) -> int:
    pattern = re.compile(rf"^\s*(?:[-*+]|\d+[.)])\s+\[.?\]\s*{re.escape(step.id)}[.):]?\s")
    for number, line in enumerate(lines):
        if pattern.match(line):
            return number
    return 0


def plan_lenses(ls: SmallCodeServer, uri: str, lines: list[str]) -> list[types.CodeLens]:
    path = Path(to_fs_path(uri) or "")
    root = ls.workspace_root_of(uri)
    if root is None:  # a document outside the workspace has no plan steps
        return []
    plan = read_plan(ls, root)
    if plan is None:
        return []
    in_plan_file = path == root / PLAN_FILE
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return []
    lenses: list[types.CodeLens] = []
    for step in plan.steps:
        if in_plan_file:
            line = _step_line(lines, step)
        elif step.file and step.file.strip("./") == rel:
            line = max(0, min((step.line or 1) - 1, max(len(lines) - 1, 0)))
        else:
            continue
        lenses.extend(_lenses_for(step, line, uri, busy=root in ls.runs))
    return lenses


def _lenses_for(step: PlanStep, line: int, uri: str, busy: bool = False) -> list[types.CodeLens]:
    """The state lens (it shows the plan) and the step's actions: a step left "running" by a run that is over
    (cancelled, the server restarted) can be retried; while a run is working here, only skipped."""
    where = types.Range(
        start=types.Position(line=line, character=0), end=types.Position(line=line, character=0)
    )
    state = types.CodeLens(
        range=where,
        command=types.Command(
            title=f"{ICONS.get(step.status, '?')} step {step.id} {step.status}: {step.title[:60]}",
            command="smallcode.plan",
            arguments=[{"uri": uri}],
        ),
    )
    actions = [
        types.CodeLens(
            range=where,
            command=types.Command(
                title=title, command=STEP_COMMAND, arguments=[{"action": action, "step": step.id, "uri": uri}]
            ),
        )
        for title, action in ACTIONS.get(step.status, [])
        if not (busy and step.status == "running" and action == "retry")
    ]
    return [state, *actions]


async def step_action(ls: SmallCodeServer, arg: dict[str, Any]) -> CommandReply:
    """smallcode.planStep {action: run | retry | skip, step, uri}: on the agent's own plan store (step checks
    and plan events kept), plan.md adopted when the agent holds no plan in memory."""
    from lsp_server.features.ask import AskArgs, run_ask

    action, ref = str(arg.get("action", "")), str(arg.get("step", ""))
    if action not in ("run", "retry", "skip") or not ref:
        raise UserError("smallcode.planStep takes {action: run | retry | skip, step: ID}")
    root = ls.root_for(arg.get("uri"))
    agent = await ls.agent_for(root)
    if agent.load_plan() is None:
        raise UserError("there is no plan (.smallcode/plan.md) in this workspace")
    store = agent.plan_store()
    try:
        step = store.mark(ref, "skipped") if action == "skip" else store.start(ref)
    except (KeyError, LookupError) as exc:
        raise UserError(str(exc).strip("'\"")) from None
    schedule_refresh(ls)
    if action == "skip":
        return CommandReply(data={"step": step.model_dump()}, text=f"skipped step {step.id}")
    where = f" in {step.file}" + (f" around line {step.line}" if step.line else "") if step.file else ""
    check = f" Check: {step.check}." if step.check else ""
    prompt = f"Work on step {step.id} of the plan{where}: {step.title}.{check}"
    return await run_ask(ls, AskArgs(prompt=prompt, uri=arg.get("uri")))


def schedule_refresh(ls: SmallCodeServer) -> None:
    """Ask the client to re-request code lenses (once, even when several plan events arrive together)."""
    if not capabilities.code_lens_refresh(ls) or ls.lens_refresh_pending:
        return
    ls.lens_refresh_pending = True

    async def refresh() -> None:
        await asyncio.sleep(0)  # let a burst of events coalesce into one refresh
        ls.lens_refresh_pending = False
        try:
            await asyncio.wait_for(ls.workspace_code_lens_refresh_async(None), 10)
        except Exception as exc:
            ls.log(f"SmallCode: code lens refresh failed: {exc}", types.MessageType.Log)

    asyncio.get_running_loop().create_task(refresh())


def register(server: SmallCodeServer) -> None:
    def on_event(root: Path, event: dict[str, Any]) -> None:
        if event.get("event") in PLAN_EVENTS:
            schedule_refresh(server)

    server.event_listeners.append(on_event)
