"""The agent loop: model → tool calls → results back, until a final answer, the turn limit, or a loop.

Small enough to read in one sitting. Everything else (parsing, tools, budget, traces) lives in its own module.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agent_core.config import Settings
from agent_core.context.budget import ContextBudget, tool_result_message, wire_messages
from agent_core.extend.plugins import PluginHost
from agent_core.llm.batch_samples import until_file_written
from agent_core.llm.grammar import reply_grammar
from agent_core.llm.reply_watch import ReplyComplete, ReplyWatch
from agent_core.llm.types import ChatResponse, Message, ModelClient, ModelError
from agent_core.memory.scratchpad import pad_for_prompt
from agent_core.observe.events import EventBus
from agent_core.observe.trace import TraceWriter
from agent_core.parsing import ParseOutcome, ToolCall, parse_reply
from agent_core.patch import PatchError, PatchSpiralTracker, parse_edit_blocks
from agent_core.patch.example_code import guard_example_code
from agent_core.patch.missing_names import add_missing_names
from agent_core.patch.partial import drops_everything, restore_methods, splice_partial
from agent_core.patch.whole import WholeFile, closes_whole_file, parse_whole_files
from agent_core.planning import EarlyStop, StopReason, TemperatureSchedule
from agent_core.python_ast import parse_module
from agent_core.result import Checks, RunResult, ToolCallRecord, Usage
from agent_core.tools import ToolContext, ToolOutput, ToolRegistry
from agent_core.tools.base import describe_call
from agent_core.tools.edit_blocks import apply_blocks
from agent_core.tools.routing import (
    CATEGORIES,
    category_of,
    parse_category,
    routing_enabled,
    routing_tool_schema,
    schemas_for,
)
from agent_core.verify import Verdict, Verifier, is_test_file
from agent_core.verify.testfiles import covering_tests
from agent_core.workspace import WorkspaceError

log = logging.getLogger(__name__)

MAX_FORMAT_ERRORS = 3
"""Consecutive replies with unusable tool calls (or empty replies) before the run gives up."""
EDIT_TOOLS = frozenset({"write_file", "patch"})
MIN_REPLY_TOKENS = 256
REPLY_MARGIN = 64
"""Tokens kept free beyond the estimate (chat template overhead the estimate does not see)."""
WHOLE_FILE_REPLY = 400
"""Tokens a whole-file reply gets beyond twice its files' size: the sentence before each file, the path lines."""
ROUTING_TOOL = "choose_category"
MAX_REPEATED_DONE = 2
"""Re-sends of an edit that already succeeded before the run is ended as done."""
ALREADY_DONE = (
    "That exact edit was already made and succeeded; it was not applied again. If the task is complete, "
    "reply with a one-line summary and no tool call; otherwise make the next change."
)

NOT_DONE = (
    "Not done yet: the checks fail after your changes.\n{feedback}\n"
    "Fix the code (the tests are correct), then answer with a one-line summary when they pass."
)
NOTHING_TO_TEST = (
    "The change is in place (there are no tests to run for it). If the task is complete, reply with a one-line "
    "summary and no tool call."
)
CHECKS_PASS = (
    "Checks passed: {summary}. If the task is complete, answer with a one-line summary and no tool call."
)
_DOC_SUFFIXES = (".md", ".rst", ".txt", ".adoc")
WORSE = (
    "That change made things worse ({now}; before it: {before}).{broke} It was undone: the files are back as "
    "they were. Still to fix:\n{feedback}"
)

EMPTY_REPLY = (
    "Your reply was empty. Call a tool to make progress, or answer with a short summary if the task is done."
)


class _RunOver(Exception):
    """Ends a run: the final response and whether the task succeeded."""

    def __init__(self, response: str, success: bool = False, stalled: bool = False) -> None:
        super().__init__(response)
        self.response = response
        self.success = success
        self.stalled = stalled
        """Stopped because the model kept repeating itself (it may have finished the work and not known
        how to stop: then the checks decide)."""


@dataclass
class _RunState:
    early_stop: EarlyStop
    format_errors: int = 0
    """Consecutive replies without a usable call."""
    last_good_edit: str | None = None
    """The last edit call that succeeded (name and arguments), to catch it being sent again."""
    repeated_done: int = 0
    category: str | None = None
    """With two-stage routing: the category whose tools are offered now."""
    verdict: Verdict | None = None
    """The last check, while nothing has changed since it ran (None: none yet, or stale)."""
    fix_rounds: int = 0
    """Final answers refused because the checks failed."""
    best: Verdict | None = None
    """The failing check with the most tests passing so far: an edit that does worse is undone."""
    stale_tries: int = 0
    """Turns in a row that did not get more tests passing (small models; see Settings.stall_tries)."""
    turn: int = 0
    counted: int = 0
    """The last turn already judged for progress (a turn counts once, whatever it did)."""


class AgentLoop:
    def __init__(
        self,
        *,
        client: ModelClient,
        tools: ToolRegistry,
        ctx: ToolContext,
        settings: Settings,
        events: EventBus,
        budget: ContextBudget,
        trace: TraceWriter,
        verifier: Verifier | None = None,
        change_task: bool = True,
        end_when_green: bool = False,
        known_files: list[str] | None = None,
        send_schemas: bool = True,
        baseline: Verdict | None = None,
        edit_hint: str = "",
        refresh: Callable[[str], Awaitable[str]] | None = None,
        opening_at: int | None = None,
        hooks: PluginHost | None = None,
    ) -> None:
        self.client = client
        self.hooks = hooks
        """Plugins' hooks around each model request (tool calls have theirs in the registry)."""
        self.verifier = verifier
        """Judges the run by the project's tests; None: the model's word is taken (no checks)."""
        self.change_task = change_task
        """Whether the task asks for a change (then a final answer is checked even if nothing was edited)."""
        self.end_when_green = end_when_green
        self.known_files = list(known_files or [])
        self.task = ""
        self.baseline = baseline
        """The tests' state before the run: the first "best so far" that an edit must not make worse."""
        self.edit_hint = edit_hint
        """Added to failure feedback: how this model should send its next edit (small models forget)."""
        self.refresh = refresh
        """Builds a fresh opening (current files, the given failures, the task); with `opening_at` (where the
        run's opening sits in the history) a failed try restarts the conversation from it instead of growing."""
        self.opening_at = opening_at
        self._first_opening: Message | None = None
        """The run's first message, as the model first saw it: what a resampled fresh try is asked again."""
        self._restarts = 0
        self._resampling = False
        """The next request asks the first message again (a fresh sample)."""
        self._samples: list[ChatResponse] = []
        """Samples of the first message that came with an earlier request (`n` > 1) and are not used yet."""
        self._samples_refused = False
        self._mixed_refused = False
        """The server drew a first request's samples at the greedy answer's temperature (no `temperatures`)."""
        self._tried: set[str] = set()
        """Replies tried in this run: a kept sample that repeats one is skipped (a test run, a stall try)."""
        self.send_schemas = send_schemas
        """Send the tool schemas with each request. Off for small models: the chat template then adds no tool
        preamble of its own (which made the 0.5B model answer every turn with a JSON call, even when asked to
        write a file whole), the prompt is shorter, and the calls the system prompt describes are parsed from
        the text as usual."""
        """Files the task names (existing or to be created): whole-file blocks for them are edits."""
        """Tests covering the task failed before the run: once the checks pass after an edit, it is done."""
        self.tools = tools
        self.ctx = ctx
        self.settings = settings
        self.events = events
        self.budget = budget
        self.trace = trace
        self.schemas = tools.schemas()
        self.routing = routing_enabled(settings.tool_routing, budget.window)
        """Two-stage routing: small windows see `choose_category` plus one category's tools at a time."""
        self.parse_schemas = [*self.schemas, routing_tool_schema()] if self.routing else self.schemas
        self.temperature = TemperatureSchedule(settings)
        self._takes_grammar: bool | None = None
        """Whether the server constrains sampling by a grammar (asked once, when first needed)."""
        self._prompt_scale = 1.0
        self._completion_scale = 1.0
        """The server's tokens per estimated token in the prompt and in the reply, from the last reply that
        reported usage (see _cut_usage)."""
        self.spiral = PatchSpiralTracker()
        """Failed patches per file in this run; after two, the model is told to rewrite the file whole."""

    async def run(self, history: list[Message], result: RunResult, task: str = "") -> None:
        """Run turns on `history` (which it extends in place) and fill `result`."""
        self.task = task
        plan = self.ctx.plan
        state = _RunState(EarlyStop(task, plan_text=plan.render_for_prompt if plan else None, max_warnings=1))
        state.best = self.baseline if self.baseline is not None and self.baseline.blocking else None
        if self.routing:  # start with the category the task's own words name ("create …" → write), if any
            state.category = parse_category(task)
        if self.opening_at is not None and self.opening_at < len(history):
            self._first_opening = dict(history[self.opening_at])
        try:
            for turn in range(1, self.settings.max_turns + 1):
                result.turns = turn
                self.ctx.workspace.begin_turn(turn)  # checkpoints are taken per turn, before its first change
                await self.events.emit("turn", {"n": turn})
                state.turn = turn
                reply, outcome = await self._ask_model(history, result, turn, self._offered(state))
                if _garbled_writes(outcome) and await self._whole_file_blocks(reply.content, result):
                    outcome = ParseOutcome()  # the file in the reply's block is the edit, not the broken call
                history.append(_assistant_message(reply, outcome))
                if outcome.calls:
                    state.format_errors = 0
                    await self._run_calls(outcome, history, result, state)
                else:
                    await self._without_calls(reply, outcome, history, result, state)
                # A turn that got no more tests passing (a prose answer, a test run, a read, a refused or
                # unchanged edit) is a try without progress too: on json_path the 1.5B model spent ten turns
                # on pytest runs and failed patches that the count of failed edits never saw.
                self._no_progress(state)
            raise _RunOver(
                f"Stopped after {self.settings.max_turns} turns without a final answer "
                "(raise --max-turns or split the task)."
            )
        except _RunOver as over:
            result.response = over.response
            result.success = over.success
            changed = bool(result.files_created or result.files_edited)
            if result.checks is None and changed:
                # The run stopped early (turn limit, loop): still say where the code stands.
                self._record_checks(result, await self._verify(result, state))
            if over.stalled and changed and self.verifier is not None:
                # A small model that made its change and then repeats a check (running the script again and
                # again) has not failed the task: the checks decide, as for a final answer.
                verdict = await self._verify(result, state)
                if verdict is not None and not verdict.blocking:
                    result.success = True
                    result.response = (
                        f"{_finished_summary(result)} ({over.response.lower().rstrip('.')} afterwards.)"
                    )

    async def _without_calls(
        self,
        reply: ChatResponse,
        outcome: ParseOutcome,
        history: list[Message],
        result: RunResult,
        state: _RunState,
    ) -> None:
        """A reply with no usable call: edit blocks in prose, the final answer, or a problem to report back."""
        if not outcome.errors:
            blocks_output = await self._edit_blocks(reply.content, result, state)
            if blocks_output is not None:
                changed = blocks_output.created + blocks_output.edited
                if not changed and self.refresh is not None:  # e.g. the file sent back unchanged
                    self.temperature.edit_failed()
                    self._no_progress(state)
                    await self._tell(history, blocks_output.text)
                    return
                history.append(tool_result_message("edit blocks", blocks_output.text, None))
                if changed:
                    state.verdict = None
                    plan = self.ctx.plan
                    if plan is None or plan.plan is None:
                        await self._check_turn(history, changed, result, state)
                return
        problem = "\n".join(outcome.errors) or (EMPTY_REPLY if not reply.content.strip() else "")
        if not problem:
            advice = state.early_stop.observe_answer(reply.content)
            if isinstance(advice, StopReason):
                raise _RunOver(f"Stopped: {advice.removeprefix('stopped: ')}.", stalled=True)
            if advice is None:
                await self._finish(reply.content.strip(), history, result, state)
                return
            history.append({"role": "user", "content": advice})  # e.g. the task re-injected after a greeting
            return
        state.format_errors += 1
        if state.format_errors >= MAX_FORMAT_ERRORS:
            raise _RunOver(
                f"Stopped: the model's last {state.format_errors} replies had no usable tool call. {problem}"
            )
        history.append({"role": "user", "content": problem})

    async def _run_calls(
        self, outcome: ParseOutcome, history: list[Message], result: RunResult, state: _RunState
    ) -> None:
        edited: list[str] = []
        for call in outcome.calls:
            if call.name == ROUTING_TOOL:
                history.append(tool_result_message(_label(call), self._choose_category(call, state), call.id))
                continue
            self._fill_path(call, result)
            if call.name in EDIT_TOOLS and _key(call) == state.last_good_edit:
                # Small models often send a finished edit again instead of ending: don't redo it.
                state.repeated_done += 1
                if state.repeated_done >= MAX_REPEATED_DONE:
                    await self._finish(_finished_summary(result), history, result, state)
                    return
                history.append(tool_result_message(_label(call), ALREADY_DONE, call.id))
                continue
            advice = state.early_stop.observe_call(call.name, call.arguments)
            if isinstance(advice, StopReason):
                self.trace.write("loop_detected", call={"name": call.name, "arguments": call.arguments})
                raise _RunOver(
                    f"Stopped: {advice.removeprefix('stopped: ')} without making progress.", stalled=True
                )
            if advice is not None:  # a repeated call is not run again; the model is told why
                history.append(tool_result_message(_label(call), advice, call.id))
                continue
            output = await self._run_tool(call, result)
            if self.routing and call.name in self.tools:
                state.category = category_of(call.name)[0]  # keep offering the kind of tool just used
            if call.name in EDIT_TOOLS:
                self._after_edit(call, output)
                state.last_good_edit = _key(call) if output.ok else None
            edited += output.created + output.edited
            if output.created or output.edited or call.name == "bash":
                state.verdict = None  # files may have changed: the last check no longer holds
            history.append(tool_result_message(_label(call), output.text, call.id))
        plan = self.ctx.plan
        if edited and (plan is None or plan.plan is None):
            await self._check_turn(history, edited, result, state)
        if outcome.errors:
            history.append({"role": "user", "content": "\n".join(outcome.errors)})

    def _after_edit(self, call: ToolCall, output: ToolOutput) -> None:
        """Adaptive temperature and the patch spiral: two failed patches on one file → rewrite it whole."""
        path = str(call.arguments.get("path", ""))
        if output.ok:
            if self.verifier is None:  # with checks, an edit succeeds when its tests say so (_check_turn)
                self.temperature.edit_succeeded()
            if call.name == "write_file":
                self.spiral.record_write(path)
            else:
                self.spiral.record_success(path)
            return
        self.temperature.edit_failed()
        if call.name == "patch" and path:
            note = self.spiral.record_failure(path)
            if note:
                output.text += "\n" + note

    async def _edit_blocks(self, content: str, result: RunResult, state: _RunState) -> ToolOutput | None:
        """SEARCH/REPLACE blocks or whole files in fences, in a reply without tool calls, still edit; None
        when there are none."""
        if "<<<<<<<" not in content and "\n+++ " not in content:
            return await self._whole_files(content, result, state)
        try:
            blocks = parse_edit_blocks(content)
        except PatchError as exc:
            return ToolOutput(ok=False, text=f"Your edit blocks could not be read: {exc}")
        if not blocks:
            return None
        call = ToolCall(
            name="patch",
            arguments={"path": ", ".join(sorted({b.path for b in blocks})), "blocks": len(blocks)},
        )
        await self.events.emit("tool_start", {"name": call.name, "args": call.arguments})
        started = time.monotonic()
        output = await apply_blocks(blocks, self.ctx)
        await self._record(call, output, int((time.monotonic() - started) * 1000), result)
        return output

    async def _whole_file_blocks(self, content: str, result: RunResult) -> list[WholeFile]:
        """The whole-file blocks of a reply, for the files this run knows about."""
        if "```" not in content and "~~~" not in content:
            return []
        known = self._files_in_play(result)
        editable = self._editable(known)
        default = editable[0] if len(editable) == 1 else None
        return parse_whole_files(content, known, default, await self._current_texts(known))

    async def _whole_files(self, content: str, result: RunResult, state: _RunState) -> ToolOutput | None:
        """A file's path on a line, then its whole new content in a fence: written like write_file (so the
        same guards apply), for the files this run knows about."""
        blocks = await self._whole_file_blocks(content, result)
        if not blocks:
            return None
        outputs = []
        for block in blocks:
            completed, note = await self._complete_partial(block.path, block.content)
            if completed is None:  # a snippet, not the file: nothing is written
                outputs.append(ToolOutput(ok=False, text=note))
                self.temperature.edit_failed()
                continue
            call = ToolCall(name="write_file", arguments={"path": block.path, "content": completed})
            advice = state.early_stop.observe_call(call.name, call.arguments)
            if isinstance(advice, StopReason):  # the same file sent again and again
                raise _RunOver(
                    f"Stopped: {advice.removeprefix('stopped: ')} without making progress.", stalled=True
                )
            if advice is not None:
                outputs.append(ToolOutput(ok=False, text=advice))
                continue
            outputs.append(await self._run_tool(call, result, note))
            self._after_edit(call, outputs[-1])
        return ToolOutput(
            ok=all(o.ok for o in outputs),
            text="\n".join(o.text for o in outputs),
            created=[p for o in outputs for p in o.created],
            edited=[p for o in outputs for p in o.edited],
        )

    async def _current_texts(self, paths: set[str]) -> dict[str, str]:
        """The present text of the files in play that exist (to tell a restated file from an edit)."""
        texts = {}
        for rel in paths:
            try:
                if await self.ctx.workspace.exists(self.ctx.root / rel):
                    texts[rel] = await self.ctx.workspace.read_text(self.ctx.root / rel)
            except (WorkspaceError, OSError, UnicodeDecodeError):
                continue
        return texts

    async def _complete_partial(self, rel: str, content: str) -> tuple[str | None, str]:
        """A Python block that redefines some of a file's functions but drops others is spliced into the
        file rather than replacing it (small models write only what they changed), example code it adds at
        the end of a module the tests import goes under a main guard, and imports or module-level names it
        lost are added back where they are certain. Returns (content, note); content None when the block is
        a snippet that would delete every definition of the file (note says so)."""
        if not rel.endswith(".py"):
            return content, ""
        path = self.ctx.root / rel
        try:
            if not await self.ctx.workspace.exists(path):
                return _with_missing_names(rel, "", content, [])
            original = await self.ctx.workspace.read_text(path)
        except (WorkspaceError, OSError):
            return content, ""
        if drops_everything(original, content):
            lines = len(content.splitlines())
            return None, (
                f"Not written: your {lines}-line block for {rel} has no function or class, so as the whole file "
                f"it would delete everything {rel} defines. Write {rel} alone on a line, then the complete new "
                f"{rel} in one fenced code block, with your change made in it."
            )
        notes = []
        restored = restore_methods(original, content)
        if restored is not None:
            content = restored[0]
            notes.append(
                f"(Your block's class left out {', '.join(restored[1])}: kept as they are in {rel}.)"
            )
        spliced = splice_partial(original, content)
        if spliced is not None:
            given = ", ".join(spliced.replaced + spliced.added)
            content = spliced.text
            notes.append(f"(Your block had only {given}: spliced into {rel}, the rest of the file kept.)")
        if self._imported_by_tests(rel):
            content, moved = guard_example_code(original, content)
            if moved:
                notes.append(
                    f"(The example code you added at the end of {rel} now runs only as a script, under "
                    '`if __name__ == "__main__":`, so importing it in the tests runs nothing.)'
                )
        return _with_missing_names(rel, original, content, notes)

    def _imported_by_tests(self, rel: str) -> bool:
        """Whether tests that existed before the run exercise this file (it is a module, not a script)."""
        tests = list(self.verifier.original_tests) if self.verifier is not None else []
        return bool(tests) and bool(covering_tests(self.ctx.root, [rel], tests))

    def _editable(self, known: set[str]) -> list[str]:
        """The files in play a whole-file block may write: not tests, not protected."""
        protected = self.ctx.protected
        return [k for k in known if not is_test_file(k) and not (protected is not None and protected(k))]

    def _files_in_play(self, result: RunResult) -> set[str]:
        """Workspace-relative files this run may edit without naming a tool: named in the task (existing or
        to be created), read, or already changed."""
        known = set(self.known_files) | set(result.files_created) | set(result.files_edited)
        for path in self.ctx.read_paths:
            try:
                known.add(path.relative_to(self.ctx.root).as_posix())
            except ValueError:
                continue
        return known

    def _fill_path(self, call: ToolCall, result: RunResult) -> None:
        """A file tool called without `path` while exactly one file is in play: that file is meant."""
        if call.name not in ("patch", "write_file", "read_file") or call.arguments.get("path"):
            return
        known = self._files_in_play(result)
        if len(known) == 1:
            call.arguments["path"] = next(iter(known))

    def _choose_category(self, call: ToolCall, state: _RunState) -> str:
        category = parse_category(call.arguments.get("category"))
        if category is None:
            return f"Unknown category {call.arguments.get('category')!r}; choose one of: {', '.join(CATEGORIES)}."
        state.category = category
        names = [s["function"]["name"] for s in schemas_for(category, self.schemas)]
        return f"Category {category}: you can now call {', '.join(names)}."

    def _offered(self, state: _RunState) -> list[dict[str, Any]]:
        """The tool schemas sent this turn: all of them, or (routing) the chooser and one category's tools."""
        if not self.routing:
            return self.schemas
        chosen = schemas_for(state.category, self.schemas) if state.category else []
        return [routing_tool_schema(), *chosen]

    async def _check_turn(
        self, history: list[Message], files: list[str], result: RunResult, state: _RunState
    ) -> None:
        """After a turn's edits: syntax, then the tests covering them; failures go back to the model.

        With SMALLCODE_AUTO_ROLLBACK a file that no longer parses is a hard fail: the turn's edits are reverted."""
        if self.verifier is None or all(f.lower().endswith(_DOC_SUFFIXES) for f in files):
            return
        verdict = await self.verifier.check(files)
        state.verdict = verdict
        self._record_checks(result, verdict)
        self.trace.write("check", files=files, status=verdict.status, summary=verdict.summary())
        await self.events.emit("check", {"status": verdict.status, "summary": verdict.summary()})
        if not verdict.blocking and not verdict.ok:  # nothing to test: say the step is taken, invite the end
            history.append({"role": "user", "content": NOTHING_TO_TEST})
            return
        if verdict.ok:
            self.temperature.edit_succeeded()
            state.stale_tries, state.counted = 0, state.turn  # green is progress
            if self.end_when_green:  # the failing tests the task is about pass now: verified, no extra turn
                raise _RunOver(f"{_finished_summary(result)} {verdict.summary().capitalize()}.", success=True)
            history.append({"role": "user", "content": CHECKS_PASS.format(summary=verdict.summary())})
            return
        if not verdict.blocking:
            return
        best = state.best
        if best is not None and _worse(verdict, best):
            # Hill-climbing for small models: a change that breaks more than it fixes is undone at once,
            # so the next try starts from the best version so far, not from the wreck.
            reverted = await asyncio.to_thread(self.ctx.workspace.rollback_turn)
            self.trace.write("rollback", files=files, outcome=reverted, reason="worse")
            if reverted is not None:
                self.temperature.edit_failed()  # sample the next attempt differently
                state.verdict = best
                self._record_checks(result, best)
                self._no_progress(state)
                worse = WORSE.format(
                    now=verdict.summary(),
                    before=best.summary(),
                    broke=_broken(verdict, best),
                    feedback=best.feedback,
                )
                await self._tell(history, worse)
                return
        # A turn that leaves a file unparseable is undone unless the version before it did not parse either.
        # Without a baseline (the task named no file) the first broken try used to become the "best" and
        # stayed on disk when the run gave up.
        if verdict.status == "syntax" and (
            self.settings.auto_rollback
            or (best is None and await self.verifier.texts_parse(self.ctx.workspace.turn_originals()))
        ):
            reverted = await asyncio.to_thread(self.ctx.workspace.rollback_turn)
            self.trace.write("rollback", files=files, outcome=reverted, reason="syntax")
            if reverted is not None:
                self.temperature.edit_failed()
                state.verdict = None  # the files are as before the turn: check them again when needed
                self._no_progress(state)
                await self._tell(
                    history,
                    f"Check after your edits failed:\n{verdict.feedback}\n"
                    "All edits of that turn were reverted; the files are as before it.",
                )
                return
        improved = best is not None and _better(verdict, best)
        if improved:  # the next try builds on it at the base temperature
            self.temperature.edit_succeeded()
        else:
            # The next try samples hotter (0.3, then 0.6). A write that went through used to reset this, so
            # retries stayed at 0.3 and the 1.5B model resent the same file word for word.
            self.temperature.edit_failed()
        if best is None or improved:
            state.stale_tries = 0
            state.counted = state.turn
        else:
            self._no_progress(state)
        if best is None or not _worse(verdict, best):
            state.best = verdict
        await self._tell(history, f"Check after your edits failed:\n{verdict.feedback}")

    async def _verify(self, result: RunResult, state: _RunState) -> Verdict | None:
        """The check of everything the run changed (reusing the last one if nothing changed since)."""
        if self.verifier is None:
            return None
        if state.verdict is None:
            state.verdict = await self.verifier.check(result.files_created + result.files_edited)
            self.trace.write(
                "check", files=None, status=state.verdict.status, summary=state.verdict.summary()
            )
            await self.events.emit(
                "check", {"status": state.verdict.status, "summary": state.verdict.summary()}
            )
        return state.verdict

    async def _finish(self, answer: str, history: list[Message], result: RunResult, state: _RunState) -> None:
        """The model says it is done. Done means verified: the run ends as a success only if the checks pass
        (or there are none); otherwise the failures go back, up to SMALLCODE_FIX_ROUNDS times."""
        changed = bool(result.files_created or result.files_edited)
        if self.verifier is None or not (changed or self.change_task):
            raise _RunOver(answer, success=True)
        verdict = await self._verify(result, state)
        assert verdict is not None
        self._record_checks(result, verdict)
        if not verdict.blocking:
            result.verified = verdict.ok
            raise _RunOver(answer, success=True)
        if state.fix_rounds < self.settings.fix_rounds:
            state.fix_rounds += 1
            self._no_progress(state)
            self.temperature.edit_failed()
            await self._tell(history, NOT_DONE.format(feedback=verdict.feedback))
            return
        raise _RunOver(f"{answer}\n\nNot done: {verdict.summary()}.", success=False)

    def _no_progress(self, state: _RunState) -> None:
        """One more turn (at most once a turn) that did not get more tests passing. A small model that has had
        SMALLCODE_STALL_TRIES of them in a row is not converging (at rising temperatures it resends variants
        of the same idea): the run stops with the best version in place instead of spending its turns."""
        if self.refresh is None or self.opening_at is None or not self.settings.stall_tries:
            return
        if state.counted == state.turn:
            return
        state.counted = state.turn
        state.stale_tries += 1
        if state.stale_tries < self.settings.stall_tries:
            return
        # Samples that came with an earlier request cost no request and no token to try, only a test run:
        # stopping before them left 37 samples untried in 33 of the 44 failed tries of a 30-task bench run.
        # A batch leaves at most samples - 1 at hand, so that many tries more uses them all, and turns that
        # leave them unused (a read) still end the run.
        if self._samples and state.stale_tries < self.settings.stall_tries + self.settings.samples - 1:
            self.trace.write("stall", tries=state.stale_tries, samples_left=len(self._samples))
            return
        where = f" The best version so far is in place ({state.best.summary()})." if state.best else ""
        raise _RunOver(
            f"Stopped: {state.stale_tries} tries in a row did not get more tests passing.{where}",
            success=False,
        )

    async def _tell(self, history: list[Message], feedback: str) -> None:
        """Feedback after a failed try: a fresh opening that carries it (small models on one file), or a
        message at the end of the conversation with the shape of the next edit."""
        if self.refresh is not None and self.opening_at is not None:
            self._restarts += 1
            del history[self.opening_at :]
            if (
                self.settings.resample
                and self._first_opening is not None
                and (self._samples or self._restarts % 2 == 1)  # samples at hand are used first
            ):
                # Another independent sample of the first answer (the prompt the server has cached): a 1.5B
                # model shown its failures mostly resends a variant of the same idea (bench tasks: tries stuck
                # at the same failing tests), and its samples differ more than its repairs do.
                self.trace.write("restart", how="resample", n=self._restarts)
                self.temperature.resample()
                self._resampling = True
                history.append(dict(self._first_opening))
                return
            self.trace.write("restart", how="feedback", n=self._restarts)
            fresh = await self.refresh("A previous try did not pass. " + feedback)
            history.append({"role": "user", "content": fresh})
            return
        hint = f"\n{self.edit_hint}" if self.edit_hint else ""
        history.append({"role": "user", "content": feedback + hint})

    @staticmethod
    def _record_checks(result: RunResult, verdict: Verdict | None) -> None:
        if verdict is None:
            return
        previous = result.checks.restored_tests if result.checks is not None else []
        result.checks = Checks(
            command=verdict.command,
            passed=verdict.passed,
            failed=verdict.failed,
            output_tail=verdict.output_tail,
            status=str(verdict.status),
            summary=verdict.summary(),
            restored_tests=sorted({*previous, *verdict.restored}),
        )
        result.verified = verdict.ok

    def _with_plan(self, messages: list[Message]) -> list[Message]:
        """The plan and its current step, and the model's scratchpad, shown every turn (appended to this
        request only, not kept)."""
        plan = self.ctx.plan
        text = plan.render_for_prompt() if plan is not None else ""
        if "scratchpad" in self.tools:  # only a model offered the tool keeps one (never the small tier)
            pad = pad_for_prompt(self.ctx.root, self.budget.window // 16, self.budget.counter.estimate)
            text = "\n\n".join(t for t in (text, pad) if t)
        return [*messages, {"role": "user", "content": text}] if text else messages

    async def _ask_model(
        self, history: list[Message], result: RunResult, turn: int, offered: list[dict[str, Any]]
    ) -> tuple[ChatResponse, ParseOutcome]:
        schemas = self.budget.counter.estimate(json.dumps(offered)) if self.send_schemas else 0
        messages = self._with_plan(wire_messages(self.budget.fit(history, others=schemas)))
        started = time.monotonic()
        if self.hooks is not None:
            await self.hooks.before_request(messages, offered)
        resampling, self._resampling = self._resampling, False
        if resampling:
            self._drop_repeated_samples()
        kept = resampling and bool(self._samples)  # a sample that came with an earlier request
        # The run's first request may bring the samples of its prompt with its greedy answer (samples_first).
        first = turn == 1 and self._samples_first()
        batch = (
            (first or (resampling and not kept)) and self.settings.samples > 1 and not self._samples_refused
        )
        watch = None if batch else await self._reply_watch(result)
        cut = False
        try:
            if kept:
                reply = self._samples.pop(0)
                await self._on_token(reply.content)
            else:
                reply = await self._request(messages, offered, result, watch, batch, with_greedy=first)
        except ReplyComplete as done:  # the file is written whole: the rest would be prose about it
            cut = True
            counted = getattr(self.client, "usage_of", None)
            usage = await counted(messages, done.text) if counted is not None else None
            reply = ChatResponse(
                content=done.text, finish_reason="stop", usage=usage or self._cut_usage(messages, done)
            )
        if not (cut or kept or batch):  # a batch's usage covers all its samples, a kept one's is in it
            self._measure_counts(messages, reply)
        if not reply.usage.total_tokens and not kept:  # some servers send no usage: estimate, not zero
            prompt = self.budget.counter.count_messages(messages)
            completion = self.budget.counter.estimate(reply.content + str(reply.tool_calls or ""))
            reply.usage = Usage(
                prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
            )
        result.usage.add(reply.usage)
        self._tried.add(reply.content.strip())
        if self.hooks is not None:
            await self.hooks.after_request(reply)
        # Every real tool is recognised, offered this turn or not: a call the model meant is still run.
        outcome = parse_reply(
            reply.content,
            reply.tool_calls,
            self.parse_schemas,
            reasoning=reply.reasoning,
            finish_reason=reply.finish_reason,
            task=self.task,  # a reply that is only a ```bash block runs only when the task asked to run something
        )
        self.trace.write(
            "turn",
            n=turn,
            ms=int((time.monotonic() - started) * 1000),
            messages=messages,
            offered=[s["function"]["name"] for s in offered],
            reply={
                "content": reply.content,
                "reasoning": reply.reasoning,
                "native_tool_calls": [c.model_dump() for c in reply.tool_calls],
            },
            calls=[{"name": c.name, "arguments": c.arguments} for c in outcome.calls],
            parse_errors=outcome.errors,
            usage=reply.usage.model_dump(),
            finish_reason=reply.finish_reason,
            **({"cut": "the file was complete"} if cut else {}),
            **({"sample": "kept from an earlier request"} if kept else {}),
            **({"samples_left": len(self._samples)} if batch else {}),
            **({"greedy_first": True} if batch and first else {}),
        )
        return reply, outcome

    def _samples_first(self) -> bool:
        """Whether the run's first request asks for the samples of its prompt too: they are what its first
        fresh tries would ask for again (the same message, hotter), so one request brings all of them."""
        return (
            self.settings.samples_first
            and self.settings.resample
            and self.refresh is not None
            and self._first_opening is not None
            and not self._mixed_refused
        )

    def _drop_repeated_samples(self) -> None:
        """Kept samples that repeat a reply already tried would get the same test run again: skipped."""
        while self._samples and self._samples[0].content.strip() in self._tried:
            self._samples.pop(0)
            self.trace.write(
                "sample_skipped", why="the same reply was tried", samples_left=len(self._samples)
            )

    async def _request(
        self,
        messages: list[Message],
        offered: list[dict[str, Any]],
        result: RunResult,
        watch: ReplyWatch | None,
        batch: bool,
        with_greedy: bool = False,
    ) -> ChatResponse:
        """One request; `batch`: SMALLCODE_SAMPLES samples at once, the ones after the first kept for the next
        fresh tries (a server that refuses `n` is asked for one, and not asked for several again);
        `with_greedy`: the first choice at the current temperature, the others drawn hot."""
        constraint = await self._constraint(result)
        # Asked once: a resample's raised temperature is used up by asking, and a request that falls back to one
        # sample must be drawn as hot as the refused one.
        temperature = self.temperature.current()
        max_tokens = self._reply_budget(messages, offered if self.send_schemas else [])
        if (sized := await self._whole_file_reply_size(result)) is not None:
            max_tokens = max(MIN_REPLY_TOKENS, min(max_tokens, sized))

        # Each sample of a batch ends where its file has been written, as a streamed reply is cut there.
        file_end = {"until_file_written": end} if batch and (end := await self._file_end(result)) else {}

        async def ask(samples: int) -> ChatResponse:
            return await self.client.chat(
                messages,
                tools=offered if self.send_schemas else None,
                temperature=temperature,
                max_tokens=max_tokens,
                stream=self.settings.stream and samples == 1,  # several samples come whole
                on_token=watch.on_token if watch is not None else self._on_token,
                extra={**(constraint or {}), **several(samples)} if samples > 1 else constraint,
            )

        def several(samples: int) -> dict[str, Any]:
            if not with_greedy:
                return {"n": samples, **file_end}
            hot = [self.temperature.hot()] * (samples - 1)
            return {"n": samples, "temperatures": [temperature, *hot], **file_end}

        if not batch:
            return await ask(1)
        # Nothing streams while the samples are written (half a minute on a laptop CPU): say what is going on.
        await self.events.emit(
            "status",
            {"text": f"asking for {self.settings.samples} versions at once; they come when all are done"},
        )
        try:
            reply = await ask(self.settings.samples)
        except ModelError as exc:
            log.info(
                "the model server refused %d samples at once (%s); asking for one", self.settings.samples, exc
            )
            self._samples_refused = True
            return await ask(1)
        self._samples, reply.others = reply.others, []
        if with_greedy and any(sample.temperature is None for sample in (reply, *self._samples)):
            # A server that does not say each choice's temperature drew them all at the greedy answer's:
            # repeats of it, not samples. Its samples come from resamples, as without samples_first.
            log.info(
                "the model server drew %d choices at one temperature; samples come later",
                self.settings.samples,
            )
            self._mixed_refused = True
            self._samples = []
        return reply

    async def _reply_watch(self, result: RunResult) -> ReplyWatch | None:
        """For a small model with one file to change, a watch that ends the reply once that file has been
        written whole (ReplyComplete); None otherwise."""
        if not self.settings.stream or (end := await self._file_end(result)) is None:
            return None
        known, path, current = set(end["files"]), end["path"], end["current"]
        return ReplyWatch(lambda text: closes_whole_file(text, known, path, current), self._on_token)

    async def _file_end(self, result: RunResult) -> dict[str, Any] | None:
        """For a small model with one file to change, where its reply is complete: once that file has been
        written whole (`closes_whole_file` of these arguments); None otherwise. A batch of samples sends it as
        `until_file_written`, so the embedded server ends each sample there (batch_samples)."""
        if self.send_schemas:
            return None
        known = self._files_in_play(result)
        editable = self._editable(known)
        if len(editable) != 1:
            return None
        path = editable[0]
        current = (await self._current_texts({path})).get(path)
        return until_file_written(path, known, current)

    def _measure_counts(self, messages: list[Message], reply: ChatResponse) -> None:
        """Keep the server's tokens per estimated token of the last reply that reported usage."""
        counter = self.budget.counter
        prompt, completion = counter.count_messages(messages), counter.estimate(reply.content)
        if reply.usage.prompt_tokens and prompt:
            self._prompt_scale = reply.usage.prompt_tokens / prompt
        if reply.usage.completion_tokens and completion and not reply.tool_calls:
            self._completion_scale = reply.usage.completion_tokens / completion

    def _cut_usage(self, messages: list[Message], done: ReplyComplete) -> Usage:
        """Tokens of a reply read only up to its file's end: the server sends usage only at the end of a
        stream, so both counts are the calibrated estimates scaled by the last measured reply's ratios of
        reported to estimated tokens (within 1% on the bench's traces; streamed pieces are no measure: a
        llama.cpp server sends some tokens in several)."""
        counter = self.budget.counter
        prompt = round(counter.count_messages(messages) * self._prompt_scale)
        completion = max(1, round(counter.estimate(done.text) * self._completion_scale))
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)

    async def _constraint(self, result: RunResult) -> dict[str, Any] | None:
        """The request's `grammar` for a small model on a llama.cpp server (SMALLCODE_CONSTRAINED_DECODING):
        fences always closed, and a reply about one file ends at the close of its block."""
        mode = self.settings.constrained_decoding
        if self.send_schemas or mode == "off":
            return None
        if self._takes_grammar is None:
            self._takes_grammar = mode == "on" or await self.client.takes_grammar()
        if not self._takes_grammar:
            return None
        editable = self._editable(self._files_in_play(result))
        return {"grammar": reply_grammar(max(1, len(editable)))}

    async def _whole_file_reply_size(self, result: RunResult) -> int | None:
        """Enough tokens for a reply that rewrites the files in play whole (a small model without tool
        schemas), or None when a file to write does not exist yet. A reply that runs on far past that is a
        model repeating itself: unbounded, one such sample of a batch kept the others waiting (218 s, and the
        request timed out)."""
        if self.send_schemas:
            return None
        editable = self._editable(self._files_in_play(result))
        texts = await self._current_texts(set(editable))
        if not editable or len(texts) < len(editable):
            return None
        size = sum(self.budget.counter.estimate(text) for text in texts.values())
        return 2 * size + WHOLE_FILE_REPLY * len(editable)

    def _reply_budget(self, messages: list[Message], offered: list[dict[str, Any]]) -> int:
        """max_tokens for this request: the prompt plus the reply must fit the window (llama.cpp servers
        refuse, or hang up, when prompt + max_tokens exceeds n_ctx). Tool schemas count: templates render them."""
        prompt = self.budget.counter.count_messages(messages) + self.budget.counter.estimate(
            json.dumps(offered)
        )
        room = self.budget.window - prompt - REPLY_MARGIN
        return max(MIN_REPLY_TOKENS, min(self.settings.max_tokens, room))

    async def _on_token(self, text: str) -> None:
        await self.events.emit("token", {"text": text})

    async def _run_tool(self, call: ToolCall, result: RunResult, note: str = "") -> ToolOutput:
        """Run one call and record it; `note` (what the agent did to the call) joins a successful output,
        so the trace and the model both see it."""
        await self.events.emit("tool_start", {"name": call.name, "args": call.arguments})
        started = time.monotonic()
        # A shell command's changes are checkpointed like edits, so /undo and rollbacks revert them too.
        shell = call.name == "bash"
        shell_note = await asyncio.to_thread(self.ctx.workspace.before_shell) if shell else ""
        output = await self.tools.execute(call.name, call.arguments, self.ctx)
        if shell:
            await asyncio.to_thread(self.ctx.workspace.after_shell)
            if shell_note:
                output.text += f"\n{shell_note}"
        if note and output.ok:
            output.text += " " + note
        await self._record(call, output, int((time.monotonic() - started) * 1000), result)
        return output

    async def _record(self, call: ToolCall, output: ToolOutput, ms: int, result: RunResult) -> None:
        error = None if output.ok else (output.text.splitlines()[0][:300] if output.text else "failed")
        await self.events.emit("tool_end", {"name": call.name, "ms": ms, "ok": output.ok, "error": error})
        result.tool_calls.append(
            ToolCallRecord(name=call.name, args=call.arguments, ok=output.ok, ms=ms, error=error)
        )
        for path in output.created:
            if path not in result.files_created:
                result.files_created.append(path)
        for path in output.edited:
            if path not in result.files_created and path not in result.files_edited:
                result.files_edited.append(path)
        if self.ctx.plan is not None and output.created + output.edited:
            self.ctx.plan.record_edits(output.created + output.edited)
        self.trace.write(
            "tool", name=call.name, arguments=call.arguments, ok=output.ok, ms=ms, output=output.text
        )


_RANK = {"syntax": 0, "error": 1, "timeout": 1, "failed": 2}
"""How far a failing check got (the blocking statuses): the code parses, then the tests import and run."""


def _with_missing_names(rel: str, original: str, content: str, notes: list[str]) -> tuple[str, str]:
    """`content` with the imports and module-level names it lost added back (agent_core/patch/missing_names.py),
    and the notes with one saying which."""
    content, added = add_missing_names(original, content)
    if added:
        lines = ", ".join(f"`{line}`" for line in added)
        what = "it" if len(added) == 1 else "them"
        notes = [*notes, f"(Added {lines} to {rel}: your code uses {what} without having {what}.)"]
    return content, " ".join(notes)


def _garbled_writes(outcome: ParseOutcome) -> bool:
    """Whether every call of a reply writes a Python file with text that does not parse: a small model that
    wrote the file in a block, then a write_file call whose content is a placeholder (`"content": ```python
    obj['new_content'] ```"`, seen with the 1.5B model) that only JSON repair made a string."""
    if not outcome.calls:
        return False
    for call in outcome.calls:
        path, content = call.arguments.get("path"), call.arguments.get("content")
        if call.name != "write_file" or not isinstance(path, str) or not path.endswith(".py"):
            return False
        try:
            parse_module(content if isinstance(content, str) else "")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        return False
    return True


def _rank(verdict: Verdict) -> int:
    return _RANK.get(str(verdict.status), 2)


def _better(new: Verdict, old: Verdict) -> bool:
    """Whether a failing check is progress over an earlier one: it got further or more tests pass. Two broken
    test runs in a row are not progress (on inventory_out_of_stock every try of the 1.5B model left the tests
    unimportable, and each counted as progress, so the stall stop never came)."""
    new_rank, old_rank = _rank(new), _rank(old)
    return new_rank > old_rank or (new_rank == old_rank == 2 and new.passed > old.passed)


def _worse(new: Verdict, old: Verdict) -> bool:
    """Whether a check after an edit is worse than an earlier failing one: it got less far (the code no longer
    parses, the test run broke where tests used to run), or fewer tests pass in the same run."""
    new_rank, old_rank = _rank(new), _rank(old)
    if new_rank != old_rank:
        return new_rank < old_rank
    if new.status == old.status == "failed" and new.command == old.command:
        # Fewer passing, or as many but some that passed before fail now: the edit broke something it
        # should not have touched (the 1.5B model dropped a `.lower()` while fixing the ends of a slug).
        return new.passed < old.passed or (new.passed == old.passed and bool(old.passing - new.passing))
    return False


def _broken(new: Verdict, old: Verdict) -> str:
    """The tests an edit broke, as a clause for the model ("" when none is known)."""
    names = sorted(t.split("::")[-1] for t in old.passing - new.passing)
    return f" It broke {', '.join(names[:5])}, which passed before." if names else ""


def _key(call: ToolCall) -> str:
    return f"{call.name}:{json.dumps(call.arguments, sort_keys=True, ensure_ascii=False)}"


def _finished_summary(result: RunResult) -> str:
    parts = []
    if result.files_created:
        parts.append("created " + ", ".join(result.files_created))
    if result.files_edited:
        parts.append("edited " + ", ".join(result.files_edited))
    return "Done: " + ("; ".join(parts) or "the last edit is in place") + "."


def _label(call: ToolCall) -> str:
    return describe_call(call.name, call.arguments, width=60)


def _assistant_message(reply: ChatResponse, outcome: ParseOutcome) -> Message:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    native = [c for c in outcome.calls if c.id]
    if native:
        message["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)},
            }
            for c in native
        ]
    return message
