"""TODO plan steps as code lenses: at the file and line a step concerns, and at the step's line in
.smallcode/plan.md; state (pending / running / done / failed / skipped) plus "▶ Run step", "Skip", "Retry";
smallcode.planStep carries them out.

The plan is the agent's (SmallCode.load_plan: the one in memory, else plan.md adopted), or plan.md as the
editor has it for a root without an agent yet. Lenses are refreshed with workspace/codeLens/refresh when plan
events arrive (if the client supports it).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from agent_core.planning import PLAN_EVENTS
from agent_core.planning.markdown import plan_from_markdown
from agent_core.planning.plan import Plan, PlanStep
from lsp_server import capabilities
from lsp_server.agents import Agents
from lsp_server.errors import UserError
from lsp_server.feature import CommandHandler, Feature
from lsp_server.features.ask import AskArgs, AskFeature
from lsp_server.replies import CommandReply, one_arg

PLAN_FILE = Path(".smallcode") / "plan.md"
STEP_COMMAND = "smallcode.planStep"
ICONS = {"pending": "○", "running": "◐", "done": "✓", "failed": "✗", "skipped": "–"}
ACTIONS: dict[str, list[tuple[str, str]]] = {
    "pending": [("▶ Run step", "run"), ("Skip", "skip")],
    "running": [("Retry", "retry"), ("Skip", "skip")],
    "failed": [("Retry", "retry"), ("Skip", "skip")],
    "skipped": [("▶ Run step", "run")],
    "done": [("Retry", "retry")],
}
USAGE = "smallcode.planStep takes {action: run | retry | skip, step: ID}"


class PlanLensFeature(Feature):
    name = "plan lenses"

    def __init__(self, agents: Agents, ask: AskFeature) -> None:
        super().__init__(agents.server)
        self.agents = agents
        self.ask = ask
        self._refresh: asyncio.Task[None] | None = None

    def commands(self) -> dict[str, CommandHandler]:
        return {"planStep": self.plan_step}

    # lenses -----------------------------------------------------------------------------------------
    def code_lenses(self, uri: str, lines: list[str]) -> list[types.CodeLens]:
        path = Path(to_fs_path(uri) or "")
        root = self.agents.root_of(uri)
        if root is None:  # a document outside the workspace has no plan steps
            return []
        plan = self.read_plan(root)
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
            lenses.extend(_lenses_for(step, line, uri, busy=self.agents.busy(root)))
        return lenses

    def read_plan(self, root: Path) -> Plan | None:
        agent = self.agents.get(root)
        store = agent.ctx.plan if agent is not None else None
        if store is not None and store.plan is not None:
            return store.plan
        path = root / PLAN_FILE
        if not path.is_file():
            return None
        doc = self.server.workspace.text_documents.get(from_fs_path(str(path)) or "")
        # the editor's unsaved text wins
        text = str(doc.source) if doc is not None else path.read_text(encoding="utf-8", errors="replace")
        plan = plan_from_markdown(text)
        return plan if plan.steps else None

    # smallcode.planStep -----------------------------------------------------------------------------
    async def plan_step(self, *args: Any) -> CommandReply:
        """{action: run | retry | skip, step, uri}: on the agent's own plan store (step checks and plan
        events kept), plan.md adopted when the agent holds no plan in memory."""
        arg = one_arg(args)
        if not isinstance(arg, dict):
            raise UserError(USAGE)
        action, ref = str(arg.get("action", "")), str(arg.get("step", ""))
        if action not in ("run", "retry", "skip") or not ref:
            raise UserError(USAGE)
        root = self.agents.root_for(arg.get("uri"))
        agent = await self.agents.agent_for(root)
        if agent.load_plan() is None:
            raise UserError("there is no plan (.smallcode/plan.md) in this workspace")
        store = agent.plan_store()
        try:
            step = store.mark(ref, "skipped") if action == "skip" else store.start(ref)
        except (KeyError, LookupError) as exc:
            raise UserError(str(exc).strip("'\"")) from None
        self.schedule_refresh()
        if action == "skip":
            return CommandReply(data={"step": step.model_dump()}, text=f"skipped step {step.id}")
        where = f" in {step.file}" + (f" around line {step.line}" if step.line else "") if step.file else ""
        check = f" Check: {step.check}." if step.check else ""
        prompt = f"Work on step {step.id} of the plan{where}: {step.title}.{check}"
        return await self.ask.run(AskArgs(prompt=prompt, uri=arg.get("uri")))

    # refresh ----------------------------------------------------------------------------------------
    async def on_agent_event(self, root: Path, event: dict[str, Any]) -> None:
        if event.get("event") in PLAN_EVENTS:
            self.schedule_refresh()

    def schedule_refresh(self) -> None:
        """Ask the client to re-request code lenses (once, even when several plan events arrive together)."""
        if not capabilities.code_lens_refresh(self.server) or self._refresh is not None:
            return
        self._refresh = asyncio.get_running_loop().create_task(self._refresh_lenses())

    async def _refresh_lenses(self) -> None:
        await asyncio.sleep(0)  # let a burst of events coalesce into one refresh
        self._refresh = None
        try:
            await asyncio.wait_for(self.server.workspace_code_lens_refresh_async(None), 10)
        except Exception as exc:
            self.server.log(f"SmallCode: code lens refresh failed: {exc}", types.MessageType.Log)


def _step_line(lines: list[str], step: PlanStep) -> int:
    pattern = re.compile(rf"^\s*(?:[-*+]|\d+[.)])\s+\[.?\]\s*{re.escape(step.id)}[.):]?\s")
    for number, line in enumerate(lines):
        if pattern.match(line):
            return number
    return 0


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
