"""Each model request's outcome, read off the run's trace entries as they are written.

A step is one request to a model and what followed from its reply. It failed when the reply had no usable call
and no answer (parse errors, an empty reply), when one of its tool calls failed (a patch that did not apply, a
file that was not there; a failing shell command is not counted, running failing tests is often the point), when
the check after its edits failed, or when it repeated itself into a loop. Adaptive routing and cloud escalation
act on these outcomes; reading them from the trace keeps the agent loop free of bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BLOCKING_CHECKS = frozenset({"failed", "timeout", "syntax", "error"})
UNCOUNTED_TOOLS = frozenset({"bash", "choose_category"})


@dataclass
class Step:
    model: str
    """The model that answered (a cloud model as `cloud:NAME`)."""
    reasons: list[str] = field(default_factory=list)
    """Why it failed; empty: it succeeded."""

    @property
    def ok(self) -> bool:
        return not self.reasons


class StepJudge:
    """Feed it trace entries (`observe`); `begin(model)` opens a step, `close()` ends it and hands it to `on_step`."""

    def __init__(self, on_step: Callable[[Step], None]) -> None:
        self.on_step = on_step
        self.current: Step | None = None

    def begin(self, model: str) -> None:
        self.close()
        self.current = Step(model)

    def close(self) -> Step | None:
        step, self.current = self.current, None
        if step is not None:
            self.on_step(step)
        return step

    def observe(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "run_end":
            self.close()
            return
        step = self.current
        if step is None:
            return
        if kind == "turn":
            reply = data.get("reply") or {}
            if data.get("parse_errors"):
                step.reasons.append("unusable tool call")
            elif not data.get("calls") and not str(reply.get("content") or "").strip():
                step.reasons.append("empty reply")
        elif kind == "tool" and not data.get("ok", True) and data.get("name") not in UNCOUNTED_TOOLS:
            step.reasons.append(f"{data.get('name')} failed")
        elif kind == "check" and data.get("status") in BLOCKING_CHECKS:
            step.reasons.append(f"check {data.get('status')}")
        elif kind == "loop_detected":
            step.reasons.append("repeated itself")
