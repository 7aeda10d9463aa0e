"""Trust decay (SMALLCODE_TRUST_DECAY): how much of an edit is taken on trust follows how edits have gone lately.

(Not to be confused with agent_core/safety/trust.py, the user's trust in a workspace's settings.)

Each edit of a Python, JSON or TOML file is parsed as it lands and the outcome kept for the model that made it
(`edits:MODEL`), and every tool call's for its tool (`tool:NAME`), in .smallcode/reliability.json. While a
model's recent edits broke the syntax more than LOW_TRUST_ABOVE of the time (after MIN_CALLS edits), or the edit
patches failed to apply that often, its edits are no longer trusted until the turn's check:
- each edit is syntax-checked as it lands, and a broken file comes back with that edit (as a failed call);
- the edit scope shrinks: one file per turn, and a patch replaces at most MAX_PATCH_LINES lines.
As its edits come back clean the rate falls and the checks stop again. The user is told when trust drops and
when it returns (`status` events). It works as a built-in tool hook (agent_core/extend/plugins.py).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agent_core.config import Settings
from agent_core.observe.reliability import Reliability, rate_text
from agent_core.python_ast import parse_module
from agent_core.workspace import Workspace, WorkspaceError

EDIT_TOOLS = frozenset({"write_file", "patch"})
LOW_TRUST_ABOVE = 0.3
MAX_PATCH_LINES = 30

Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


def syntax_problem(rel: str, text: str) -> tuple[bool, str | None]:
    """(checked, problem): whether this kind of file can be checked here, and what is wrong (None: parses)."""
    suffix = Path(rel).suffix.lower()
    try:
        if suffix in (".py", ".pyi"):
            parse_module(text, filename=rel)
        elif suffix == ".json" and not Path(rel).name.startswith(("tsconfig", "jsconfig")):
            json.loads(text)
        elif suffix == ".toml":
            tomllib.loads(text)
        else:
            return False, None
    except SyntaxError as exc:
        return True, f"{rel}, line {exc.lineno}: {exc.msg}"
    except (ValueError, tomllib.TOMLDecodeError) as exc:  # JSONDecodeError is a ValueError; so are null bytes
        return True, f"{rel}: {' '.join(str(exc).split())[:200]}"
    return True, None


class TrustGate:
    """Before and after each tool call (see the module docstring)."""

    name = "trust decay"

    def __init__(
        self,
        root: Path,
        workspace: Workspace,
        reliability: Reliability,
        settings: Callable[[], Settings],
        model: Callable[[], str | None],
        emit: Emit,
    ) -> None:
        self.root = root
        self.workspace = workspace
        self.reliability = reliability
        self.settings = settings
        self.model = model
        self.emit = emit
        self.edited_this_turn: set[str] = set()
        self._was_low: dict[str, bool] = {}

    def on_turn(self, payload: dict[str, Any]) -> None:
        self.edited_this_turn.clear()

    def _model_key(self) -> str:
        return f"edits:{self.model() or '(server default)'}"

    def low(self) -> str | None:
        """Why edits are not trusted now, or None when they are (or trust decay is off)."""
        if not self.settings().trust_decay:
            return None
        # write_file's failures are mostly the write guard's first refusal: they say nothing about edit quality
        for key, what in (
            (self._model_key(), "of its recent edits broke the syntax"),
            ("tool:patch", "of the recent patches did not apply"),
        ):
            rate = self.reliability.failure_rate(key)
            if rate is not None and rate > LOW_TRUST_ABOVE:
                recent = self.reliability.recent(key)
                return f"{recent.count(False)} of {len(recent)} {what}"
        return None

    async def before_tool(self, name: str, arguments: dict[str, Any]) -> str | None:
        if name not in EDIT_TOOLS:
            return None
        why = self.low()
        if why is None:
            return None
        path = str(arguments.get("path") or "")
        if self.edited_this_turn and path not in self.edited_this_turn:
            done = ", ".join(sorted(self.edited_this_turn))
            return (
                f"Not run: {why}, so edits go one file per turn now. {done} was edited this turn; send the edit of "
                f"{path or 'the other file'} again after its check."
            )
        replace = str(arguments.get("replace") or "")
        if name == "patch" and replace.count("\n") + 1 > MAX_PATCH_LINES:
            return (
                f"Not run: {why}, so a patch may replace at most {MAX_PATCH_LINES} lines now. Split this change "
                "into smaller patches, one after another."
            )
        return None

    async def after_tool(self, name: str, arguments: dict[str, Any], output: Any) -> None:
        before = self.low()
        outcomes = {f"tool:{name}": bool(output.ok)}
        if name in EDIT_TOOLS and output.ok:
            for rel in [*output.created, *output.edited]:
                self.edited_this_turn.add(rel)
                clean = await self._check(rel, output, checked_one_by_one=before is not None)
                if clean is not None:
                    outcomes[self._model_key()] = clean and outcomes.get(self._model_key(), True)
        self.reliability.record(outcomes)
        await self._tell_change(before)

    async def _check(self, rel: str, output: Any, *, checked_one_by_one: bool) -> bool | None:
        """Whether the edited file parses (None: cannot tell); reported with the edit while not trusted."""
        try:
            text = await self.workspace.read_text(self.root / rel)  # the editor's buffer, when it has one
        except (WorkspaceError, OSError, UnicodeDecodeError):
            return None
        checked, problem = syntax_problem(rel, text)
        if not checked:
            return None
        if not checked_one_by_one:
            return problem is None
        if problem is None:
            output.text += f"\nSyntax check of {rel} after this edit: OK."
            return True
        output.ok = False
        output.text += (
            f"\nSyntax check of {rel} after this edit failed (edits are checked one by one while they often break "
            f"the syntax): {problem}\nFix that before anything else."
        )
        return False

    async def _tell_change(self, before: str | None) -> None:
        model = self.model() or "the model"
        after = self.low()
        if (before is None) == (after is None):
            return
        if after is not None:
            text = f"trust decay: {after}; each edit by {model} is now syntax-checked as it lands, one file per turn"
        else:
            rate = self.reliability.failure_rate(self._model_key())
            recent = self.reliability.recent(self._model_key())
            text = (
                f"trust decay: edits by {model} are trusted again until the turn's check "
                f"(syntax breaks {rate_text(rate, recent.count(False), len(recent))})"
            )
        await self.emit("status", {"text": text})
