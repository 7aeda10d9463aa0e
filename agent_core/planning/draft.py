"""The agent drafts a task's TODO plan itself with its declared planning prompt (prompts/plan.toml), instead of
asking the model to call the plan tool: one request constrained to the plan's schema, validated, cached and
budgeted by the cognition layer. SMALLCODE_PLAN_DRAFT turns it on; a draft that fails leaves the plan to the
model, as before.
"""

from __future__ import annotations

import logging
from pathlib import Path

from agent_core.cognition import Cognition, CognitionError, load
from agent_core.planning.plan import Plan, to_specs
from agent_core.planning.store import PlanStore

log = logging.getLogger(__name__)

PLAN_PROMPT = Path(__file__).with_name("prompts") / "plan.toml"


async def draft_plan(cognition: Cognition, store: PlanStore, task: str, project: str = "") -> Plan | None:
    """Draft the plan for `task` into `store` (and plan.md); None when no valid plan came back."""
    try:
        out = await load(PLAN_PROMPT, runtime=cognition).acall(task=task, project=project)
    except CognitionError as exc:
        log.warning("could not draft a plan (%s); the model plans with the plan tool", exc)
        return None
    try:
        specs = to_specs([step.model_dump(exclude_none=True) for step in out.steps])
        return store.create(specs, task=task, source="agent")
    except ValueError as exc:
        log.warning("the drafted plan was not usable (%s); the model plans with the plan tool", exc)
        return None
