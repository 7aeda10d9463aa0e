"""Early-stop detectors: notice when a small model is stuck and say so, or end the run.

- Repetition loop: the same tool call (name + arguments) three times with no edit in between, or the same
  answer text twice in a row. First a message for the model; if it goes on, a stop reason.
- Greeting regression: "Hello! How can I help you today?" in reply to a real task means the model lost the
  conversation; the message re-injects the task and the plan.
- Patch spiral (the same file failing to patch again and again → rewrite it whole) is tracked by
  `agent_core.patch.spiral.PatchSpiralTracker` (record_failure / record_success / record_write), not here:
  the loop feeds it patch results, this class sees only calls and answers.

Usage in the loop: `msg = early.observe_call(name, args)`; if `isinstance(msg, StopReason)` end the run with
it, else if `msg` append it to the tool result / as a user message. Same for `observe_answer(text)`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any


class StopReason(str):
    """A message that means: end the run (the model keeps looping after being told)."""


EDIT_TOOLS = frozenset({"write_file", "patch", "edit", "apply_patch", "create_file"})
"""Calls that change files: repeating a read or a test run after one of these is progress, not a loop."""

# "Hello! How can I help you today?", "Hi there! I'm your assistant. What can I do for you?": an offer to help,
# optionally after a hello and one short sentence. "Let me know if you need more help" at the end of real work
# is not one.
_GREETING = re.compile(
    r"^\W*(?:(?:hello|hi|hey|greetings|howdy)(?: there)?\b\W*(?:[^.!?\n]{0,60}[.!?]\s*)?)?"
    r"(?:how (?:can|may) i (?:help|assist)|what can i (?:help you with|do for you)|i'?m (?:here|ready) to help"
    r"|what would you like (?:me )?to do)",
    re.IGNORECASE,
)
_SMALL_TALK = re.compile(
    r"^\W*(hello|hi|hey|greetings|good (morning|afternoon|evening)|thanks?|thank you)\W*$", re.I
)


def _call_key(name: str, args: Any) -> str:
    try:
        return name + " " + json.dumps(args, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return f"{name} {args!r}"


def _normalize(text: str) -> str:
    return " ".join(text.lower().split())


class EarlyStop:
    """One per run. Feed it every tool call and every final answer; it returns advice or a StopReason."""

    def __init__(
        self,
        task: str = "",
        plan_text: Callable[[], str] | None = None,
        repeat_limit: int = 3,
        max_warnings: int = 2,
    ) -> None:
        self.task = task
        """The user's task, re-injected on greeting regression."""
        self.plan_text = plan_text
        """Returns the plan as the model should see it now (e.g. PlanStore.render_for_prompt)."""
        self.repeat_limit = repeat_limit
        self.max_warnings = max_warnings
        """Warnings of one kind before the next occurrence becomes a StopReason."""
        self._since_edit: list[str] = []
        self._last_edit: str | None = None
        self._last_answer: str | None = None
        self._warnings: dict[str, int] = {}
        self.calls = 0

    def observe_call(self, name: str, args: Any) -> str | None:
        """A tool call the model made. Returns None, a message for the model, or a StopReason."""
        self.calls += 1
        key = _call_key(name, args)
        if name in EDIT_TOOLS and key != self._last_edit:
            self._since_edit = []  # files changed: re-reading or re-running tests is legitimate now
            self._last_edit = key
        self._since_edit.append(key)
        count = self._since_edit.count(key)
        if name == "read_file" and count >= 2 and count < self.repeat_limit + 2:
            # Small models re-read a file they were just shown while they work up to the edit: not a loop
            # yet. Point at what they have instead of stopping (the loop does not run the read again).
            path = args.get("path", "the file") if isinstance(args, dict) else "the file"
            return (
                f"You already have {path} above, and it has not changed since. Now change it (write the whole "
                "file, or patch), or answer if the task is done."
            )
        if count < self.repeat_limit:
            return None
        shown = key if len(key) <= 160 else key[:157] + "..."
        return self._warn(
            "loop",
            f"You have made the same call {count} times ({shown}) and nothing changed in between; the result "
            "will be the same. Do something different: use what you already got, try another approach, or give "
            "your final answer.",
            f"stopped: the model repeated the same tool call ({name}) {count} times",
        )

    def observe_answer(self, text: str) -> str | None:
        """A reply without tool calls. Returns None, a message for the model, or a StopReason."""
        normalized = _normalize(text)
        previous, self._last_answer = self._last_answer, normalized
        if self._is_greeting(text):
            return self._warn("greeting", self._reinjection(), "stopped: the model keeps losing the task")
        if normalized and normalized == previous:
            return self._warn(
                "answer",
                "You gave exactly the same answer as last time. If the task is done, say what you changed; if "
                "not, continue with the next step using a tool.",
                "stopped: the model repeated the same answer",
            )
        return None

    def _is_greeting(self, text: str) -> bool:
        # A greeting in reply to small talk is fine; in reply to a real task, the task was lost.
        if not self.task.strip() or _SMALL_TALK.match(self.task):
            return False
        return len(text) < 400 and bool(_GREETING.match(text.strip()))

    def _reinjection(self) -> str:
        parts = [
            "You are in the middle of a task; don't greet, continue the work.",
            f"The task is:\n{self.task.strip()}",
        ]
        plan = self.plan_text() if self.plan_text is not None else ""
        if plan:
            parts.append(plan)
        parts.append("Continue with the current step using the tools.")
        return "\n\n".join(parts)

    def _warn(self, kind: str, message: str, stop: str) -> str:
        seen = self._warnings.get(kind, 0)
        self._warnings[kind] = seen + 1
        return StopReason(stop) if seen >= self.max_warnings else message
