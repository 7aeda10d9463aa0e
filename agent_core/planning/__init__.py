"""Planning: project detection, TODO plans (plan.md), step validation, early stop, adaptive temperature."""

from agent_core.planning.detect import ProjectInfo, detect_project
from agent_core.planning.early_stop import EarlyStop, StopReason
from agent_core.planning.plan import Plan, PlanStep, StepSpec, decomposition_prompt, needs_plan
from agent_core.planning.store import PLAN_EVENTS, PlanStore
from agent_core.planning.temperature import TemperatureSchedule, retry_temperature
from agent_core.planning.validate import ValidationResult, step_validator, validate_files

__all__ = [
    "PLAN_EVENTS",
    "EarlyStop",
    "Plan",
    "PlanStep",
    "PlanStore",
    "ProjectInfo",
    "StepSpec",
    "StopReason",
    "TemperatureSchedule",
    "ValidationResult",
    "decomposition_prompt",
    "detect_project",
    "needs_plan",
    "retry_temperature",
    "step_validator",
    "validate_files",
]
