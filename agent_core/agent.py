"""SmallCode: the public API. `await SmallCode(...).run(task) -> RunResult`."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agent_core.cognition import Cognition
from agent_core.config import ConfigError, Settings, load_settings
from agent_core.context.budget import DEFAULT_WINDOW, ContextBudget
from agent_core.context.symbol_refs import defining_files, symbol_references, symbols_context
from agent_core.context.task_files import TaskFiles, new_files_named, task_files_context
from agent_core.context.tokens import TokenCounter
from agent_core.extend import skills as skill_book
from agent_core.extend.mcp_client import McpManager
from agent_core.extend.mcp_tools import PREFIX as MCP_PREFIX
from agent_core.extend.mcp_tools import mcp_tools
from agent_core.extend.plugins import PluginHost
from agent_core.extend.web import web_tools
from agent_core.llm.client import ChatClient
from agent_core.llm.embedded import wants_embedded
from agent_core.llm.steering import ModelSteering
from agent_core.llm.types import Message, ModelError
from agent_core.loop import AgentLoop
from agent_core.memory.evidence import record_run
from agent_core.memory.recall import opening_memory
from agent_core.memory.sessions import new_session_id, save_session
from agent_core.observe.events import Callback, EventBus
from agent_core.observe.files import FileRecorder, final_files, start_snapshot
from agent_core.observe.trace import TraceWriter
from agent_core.planning import Plan, PlanStore, ProjectInfo, detect_project, needs_plan, step_validator
from agent_core.planning.draft import draft_plan
from agent_core.prompts import system_prompt
from agent_core.result import RunResult, Usage
from agent_core.safety.checkpointing import CheckpointingWorkspace
from agent_core.safety.endpoints import EndpointError, check_url
from agent_core.safety.trust_decay import TrustGate
from agent_core.tools import ToolContext, ToolRegistry, default_tools
from agent_core.tools.graph_tools import graph_tools
from agent_core.tools.memory_tools import memory_tools
from agent_core.tools.plan_tools import plan_tools
from agent_core.tools.routing import routing_enabled, routing_prompt
from agent_core.tools.scaffold import scaffold_tools
from agent_core.verify import Verdict, Verifier, asks_for_change, is_test_file
from agent_core.workspace import FileWorkspace, Workspace

log = logging.getLogger(__name__)

UNREPORTED_WINDOW_CAP = 8192
"""Context window assumed at most when neither the server nor SMALLCODE_CONTEXT says (see _detect_window)."""
PLAN_TOOLS = frozenset({"plan", "todo"})
"""Offered only when a task needs a plan (or one is in progress)."""
SMALL_TIER_TOOLS = ("read_file", "write_file", "patch", "bash")
"""What a model of 4B or fewer is offered: fewer tools, fewer wrong choices (files are edited whole in fences)."""
MAX_HINTED_FILES = 3
"""A small model told the shape of its edit (and restarted fresh after a failed try) on up to this many
named source files; beyond that the task is left to its own tool calls."""


class SmallCode:
    """A coding agent bound to one workspace. Conversation, shell and model connection persist across runs."""

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        cwd: str | Path = ".",
        *,
        workspace: Workspace | None = None,
        settings: Settings | None = None,
        confirm: Callable[[str, str], Awaitable[bool]] | None = None,
        **overrides: Any,
    ) -> None:
        self.root = Path(cwd).resolve()
        if not self.root.is_dir():
            raise ConfigError(f"workspace {self.root} is not a directory")
        if settings is None:
            settings = load_settings(self.root, model=model, base_url=base_url, **overrides)
        else:
            updates = {
                k: v for k, v in {"model": model, "base_url": base_url, **overrides}.items() if v is not None
            }
            settings = settings.model_copy(update=updates)
        self.settings = settings
        self.events = EventBus()
        # Every edit goes through this seam; each turn is committed to the checkpoint store (/undo, rollbacks).
        self.workspace = CheckpointingWorkspace(
            workspace or FileWorkspace(self.root), enabled=settings.snapshot
        )
        self.tools = ToolRegistry(
            default_tools()
            + scaffold_tools()
            + graph_tools()  # the small tier keeps its four tools (SMALL_TIER_TOOLS)
            + memory_tools()
            + ([] if settings.plan_disable else plan_tools())
            + (web_tools() if settings.web_browse else [])
        )
        self.plugins = PluginHost.load()
        for name in self.tools.add(self.plugins.tools()):
            log.warning("a plugin's tool %s is not used: a tool of that name exists", name)
        self.mcp = McpManager(self.root)
        """MCP servers: configured at first use, started with the first run that offers more than the small four."""
        self.skills = skill_book.load_skills(self.root)
        self.active_skills: list[str] = []
        """Skills in the system prompt for this session (/skill use)."""
        self.auto_skill: str | None = None
        """The skill chosen for the last task by its `when` phrases, if any."""
        self.ctx = ToolContext(
            root=self.root,
            settings=self.settings,
            workspace=self.workspace,
            hooks=self.plugins,
            confirm=confirm,
        )
        self.project: ProjectInfo | None = None
        self.counter = TokenCounter()
        self.steering = ModelSteering(self.root, lambda: self.settings, self.events, self.counter)
        """Which model answers each request: routing tiers, cloud escalation, the thinking budget."""
        gate = TrustGate(
            self.root,
            self.workspace,
            self.steering.reliability,
            lambda: self.settings,
            lambda: self.steering.model or self.settings.model,
            self.events.emit,
        )
        self.plugins.attach(gate)
        self.events.on("turn", gate.on_turn)
        self.history: list[Message] = []
        self.session_id = new_session_id()
        self.usage = Usage()
        self.runs: list[RunResult] = []
        self.last_trace: TraceWriter | None = None
        self.context_window: int = settings.context or DEFAULT_WINDOW
        self.cognition = Cognition(
            self.root,
            lambda: self.settings,
            connect=self._connect,
            trace=lambda: self.last_trace,
            counter=self.counter,
        )
        """Declared prompts (agent_core/cognition) on this agent's model connection, in its run's trace."""
        self._client: ChatClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._embedded: Any = None
        self._connecting: asyncio.Task[ChatClient] | None = None
        self._status_tasks: set[asyncio.Task[None]] = set()
        self._named: list[str] = []
        self._shown: list[Path] = []
        self._tier: tuple[str, bool] | None = None
        """(model, small tier?) for the model last asked about."""
        """Files the current task names (shown in its first message)."""

    # events -----------------------------------------------------------------------------------------
    def on(self, event: str, callback: Callback) -> None:
        """Subscribe to tool_start {name, args}, tool_end {name, ms, ok, error}, token {text}, turn {n},
        check {status, summary}, error {error}."""
        self.events.on(event, callback)

    # running ----------------------------------------------------------------------------------------
    async def run(self, task: str) -> RunResult:
        """Run one task to its end. Failures (model down, bad output) end in a RunResult, not an exception.

        Cancelling the task that awaits this (asyncio) stops the run at its next await and leaves the
        conversation as it was before the run: a half turn (a tool call without its result) would make the
        next request invalid. The files keep what the run did; /undo reverts them."""
        before = list(self.history)
        result = RunResult()
        started = time.monotonic()
        trace = TraceWriter(self.root, enabled=self.settings.trace)
        self.last_trace = trace
        # The files as they were, so `smallcode trace test` can replay the run against them.
        snapshot = await asyncio.to_thread(start_snapshot, self.root) if self.settings.trace else {}
        trace.write(
            "run_start",
            task=task,
            model=self.settings.model,
            base_url=self.settings.base_url,
            cwd=str(self.root),
            files=snapshot,
        )
        recorder = FileRecorder(self.root, trace.write, snapshot)
        self.events.on("tool_start", recorder.on_tool_start)
        try:
            client = await self._connect()
            await self.start_mcp()
            self._prepare(task)
            budget = ContextBudget(
                self.context_window, self.counter, reserve=min(self.settings.max_tokens, 2048)
            )
            verifier = (
                None
                if self.settings.test_disable
                else Verifier(
                    self.root,
                    self.project,
                    self.settings,
                    task,
                    unsaved=self.workspace.unsaved_texts,  # an editor's buffers (none on the command line)
                )
            )
            self.ctx.protected = verifier.protects if verifier is not None else None
            opening, baseline = await self._opening(task, budget, verifier)
            start = len(self.history)
            self.history.append({"role": "user", "content": opening})
            steered = self.steering.for_run(client, trace)
            for attempt in range(1, self.settings.attempts + 1):
                settings = self.settings
                if attempt > 1:  # another try from the same files, sampled differently
                    settings = settings.model_copy(
                        update={"temperature": min(1.0, settings.temperature + 0.3 * (attempt - 1))}
                    )
                loop = AgentLoop(
                    client=steered,
                    tools=self._tools_for(task),
                    ctx=self.ctx,
                    settings=settings,
                    events=self.events,
                    budget=budget,
                    trace=trace,
                    verifier=verifier,
                    change_task=asks_for_change(task),
                    end_when_green=baseline is not None and baseline.blocking,
                    known_files=[
                        *self._named,
                        *new_files_named(self.root, task, self.settings.allow_env_files),
                    ],
                    send_schemas=not self.small_tier(),
                    baseline=baseline,
                    edit_hint=self._edit_hint(tests_fail=baseline is not None and baseline.blocking),
                    refresh=self._refresher(task, budget),
                    opening_at=start,
                    hooks=self.plugins,
                )
                await loop.run(self.history, result, task)
                if (
                    result.success
                    or attempt == self.settings.attempts
                    or not self._retry(result, start, trace)
                ):
                    break
            if self.ctx.plan is not None:
                await self.ctx.plan.flush_events()
        except asyncio.CancelledError:
            self.history[:] = before
            result.response = "cancelled"
            raise
        except (ModelError, ConfigError) as exc:
            result.success = False
            result.response = str(exc)
            await self.events.emit("error", {"error": str(exc)})
            await self.plugins.on_error(str(exc))
        finally:
            result.duration_ms = int((time.monotonic() - started) * 1000)
            self.usage.add(result.usage)
            self.runs.append(result)
            self.workspace.finish_turn()  # the last turn's changes are committed, not left to the user's
            self.events.off("tool_start", recorder.on_tool_start)
            trace.write(
                "run_end",
                result=result.model_dump(),
                settings=self.settings.model_dump(mode="json", exclude={"api_key"}),
                context_window=self.context_window,
                files=final_files(self.root, [*result.files_created, *result.files_edited])
                if self.settings.trace
                else {},
            )
            record_run(self.root, task, result)
            self._save_session()
        return result

    def run_sync(self, task: str) -> RunResult:
        """Blocking `run` for scripts; opens and closes its own event loop (and model connection)."""

        async def once() -> RunResult:
            try:
                return await self.run(task)
            finally:
                await self.aclose()

        return asyncio.run(once())

    async def aclose(self) -> None:
        """Close the model connection, the shell and any embedded model server this agent started."""
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            with contextlib.suppress(BaseException):
                await self._connecting
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await self.ctx.aclose()
        await self.steering.aclose()
        await self.mcp.aclose()
        await self.cognition.aclose()
        if self._embedded is not None:
            await self._embedded.stop()
            self._embedded = None

    async def __aenter__(self) -> SmallCode:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # conversation -----------------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget the conversation (a new session starts); files are untouched."""
        self.history.clear()
        self.session_id = new_session_id()

    def resume(self, messages: list[Message]) -> None:
        self.history = list(messages)

    def set_model(self, model: str) -> None:
        self.settings = self.settings.model_copy(update={"model": model})
        self.ctx.settings = self.settings
        if self._client is not None:
            self._client.model = model

    async def model_endpoint(self) -> tuple[str, str | None, str | None]:
        """Where this agent's model answers: (base URL, model name if known, API key) of the configured server, or of
        the embedded model, started now if it is not running (one process, shared with the agent's runs).
        Raises ConfigError or ModelError, with a one-line reason, when there is none."""
        if self.settings.base_url and not wants_embedded(self.settings):
            return self.settings.base_url, self.settings.model, self.settings.api_key  # checked per request
        client = await self._connect()
        return client.base_url, client.model, self.settings.api_key

    @property
    def embedded_model_running(self) -> bool:
        """Whether this agent's model is the embedded one and it is up."""
        return self._embedded is not None and bool(self._embedded.running)

    # internals --------------------------------------------------------------------------------------
    async def _connect(self) -> ChatClient:
        """The model client, connected once however many callers ask at the same time (a run, the editor's
        completions); a caller cancelled while the embedded model loads does not cancel the loading."""
        task = self._connecting
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = self._connecting = asyncio.ensure_future(self._open_client())
            task.add_done_callback(_retrieve)  # its failure reaches the callers still waiting, or nobody
        return await asyncio.shield(task)

    async def _open_client(self) -> ChatClient:
        loop = asyncio.get_running_loop()
        if self._client is not None and self._client_loop is loop:
            if self._embedded is None or self._embedded.running:
                return self._client
            await self._client.aclose()  # the embedded server died (its cause was reported): start it again
            self._client = None
        if self._client is not None:  # bound to a closed loop (an earlier run_sync): start afresh
            self._client = None
        base_url = self.settings.base_url
        model = self.settings.model
        if not base_url or wants_embedded(self.settings):  # "always" wins over a configured server
            base_url, model = await self._start_embedded()
        else:
            try:  # LAN and local servers are fine; cloud metadata and link-local addresses are not
                await asyncio.to_thread(check_url, base_url, True)
            except EndpointError as exc:
                raise ConfigError(f"refusing SMALLCODE_BASE_URL: {exc}") from None
        client = ChatClient(
            base_url,
            model,
            api_key=self.settings.api_key,
            timeout=self.settings.request_timeout,
            retries=self.settings.retries,
            # A dead embedded server says how it ended (signal, cause, log) instead of "connection refused".
            diagnose=self._embedded.crash_report if self._embedded is not None else None,
            counter=self.counter,
        )
        try:
            await client.check()
        except ModelError:
            await client.aclose()
            raise
        if self.settings.model != client.model and client.model:
            self.settings = self.settings.model_copy(update={"model": client.model})
            self.ctx.settings = self.settings
        if not self.settings.context:
            self.context_window = await self._detect_window(client)
        client.context_window = self.context_window
        if await client.count_tokens("def f(x):\n    return x") is not None:
            await self.counter.calibrate(client)
        self._client, self._client_loop = client, loop
        return client

    async def _detect_window(self, client: ChatClient) -> int:
        from agent_core.llm.profiles import profile_for

        # The embedded server knows its n_ctx; other servers may say it (/props, /models).
        served = getattr(self._embedded, "context", None) or await client.server_context()
        profile = profile_for(self.settings.model or "", self.root, server_context=served)
        if served:
            return int(served)
        # A profile gives what the model was trained for; servers often run it with less (LM Studio and
        # Ollama default to a few thousand tokens), and overflowing is worse than evicting early.
        return min(int(profile.context_length or DEFAULT_WINDOW), UNREPORTED_WINDOW_CAP)

    def _status(self, text: str) -> None:
        """Progress of long start-up work ("loading Qwen2.5-Coder-1.5B…"), as a `status {text}` event."""
        log.info("%s", text)
        try:
            task = asyncio.get_running_loop().create_task(self.events.emit("status", {"text": text}))
        except RuntimeError:  # no running loop (e.g. at interpreter exit): the log line is enough
            return
        self._status_tasks.add(task)
        task.add_done_callback(self._status_tasks.discard)

    async def _start_embedded(self) -> tuple[str, str]:
        if self.settings.embedded == "never":
            raise ConfigError(
                "no model server configured: set SMALLCODE_BASE_URL (and SMALLCODE_MODEL), "
                "or allow the embedded model (SMALLCODE_EMBEDDED=auto)"
            )
        try:
            from agent_core.llm.embedded import EmbeddedServer
        except ImportError as exc:
            raise ConfigError(
                f"no model server configured and the embedded model is unavailable ({exc}); "
                "set SMALLCODE_BASE_URL or pip install 'smallcode[embedded]'"
            ) from None
        if self._embedded is None:  # else restart the one that died (start() reaps it and keeps its log)
            self._embedded = EmbeddedServer(self.settings, on_status=self._status)
        base_url, model = await self._embedded.start()
        return str(base_url), str(model)

    def plan_store(self) -> PlanStore:
        """The session's TODO plan store, always with the step checks and plan events (a store attached
        without them gets them): a step is marked done only when its check passes."""
        if self.project is None:
            self.project = detect_project(self.root, self.settings)
        store = self.ctx.plan
        if store is None:
            store = self.ctx.plan = PlanStore(self.root)
        if store.validator is None:
            store.validator = step_validator(self.root, self.project, self.settings)
        if store.on_event is None:
            store.on_event = self.events.emit
        return store

    def load_plan(self) -> Plan | None:
        """The plan in progress: the one in memory, else .smallcode/plan.md adopted (e.g. after a restart, for a
        step run from the editor); None when there is none."""
        store = self.plan_store()
        return store.plan or store.load()

    def _prepare(self, task: str) -> None:
        """First run: detect the project (no tool calls needed) and write the system prompt; every run: the plan."""
        self.plan_store().task = task
        if not (self.history and self.history[0].get("role") == "system"):
            self.history.insert(0, {"role": "system", "content": self.build_system_prompt()})

    async def _opening(
        self, task: str, budget: ContextBudget, verifier: Verifier | None, failures: str | None = None
    ) -> tuple[str, Verdict | None]:
        """The first message of a run: the task, the files it names as they are now, and (when tests cover
        them) how those tests fail — what a small model would otherwise spend its first turns finding out.
        `failures`: the failures to show instead of running the tests first (a refreshed opening)."""
        store = self.plan_store()
        if failures is None and self.settings.plan_draft and store.plan is None and self._planning(task):
            project = self.project.prompt_lines() if self.project is not None else ""
            await draft_plan(self.cognition, store, task, project)
        message = self._task_message(task)
        files = await self._task_files(task, budget)
        self.ctx.read_paths.update(files.shown)
        self._named = files.named
        self._shown = files.shown
        if files.text:
            message += "\n\n" + files.text
        if symbol_references(task):  # `@name`: the definition the user points at, from the code graph
            pointed = await symbols_context(
                self.root,
                task,
                self.counter,
                budget_tokens=max(256, budget.window // 6),
                unsaved=await self.workspace.unsaved_texts(),
            )
            if pointed:
                message += "\n\n" + pointed
        memory = await opening_memory(  # evidence of earlier runs; the repository map above the small tier
            self.root,
            task,
            files.named,
            files.shown,
            budget.window,
            self.counter.estimate,
            with_map=not self.small_tier(),
        )
        if memory:
            message += "\n\n" + memory
        skill = self._auto_skill(task)
        if skill is not None:  # with the task, not in the system prompt: that stays the same across tasks
            message += "\n\nHow to approach it — " + skill.prompt()
        baseline = None
        if failures is not None:
            message += "\n\n" + failures
        elif verifier is not None and files.named and asks_for_change(task):
            baseline = await verifier.baseline(files.named)
            if baseline is not None and baseline.blocking:
                if baseline.failures_shown_in(task):  # the task pasted them: twice is tokens for nothing
                    counts = f"{baseline.failed} failing, {baseline.passed} passing: `{baseline.command}`"
                    message += f"\n\nThe tests that check this fail now, as the task shows ({counts})."
                else:
                    message += (
                        "\n\nThe tests that check this fail now (what must change):\n" + baseline.feedback
                    )
        failing = failures is not None or (baseline is not None and baseline.blocking)
        hint = self._edit_hint(tests_fail=failing)
        if hint and asks_for_change(task):
            # A small model keeps the task in view best when it comes last, after the code; asked for the
            # file straight away, the 1.5B model copied it unchanged turn after turn (bench tasks).
            message = message.removeprefix(self._task_message(task)).strip()
            message += f"\n\nTask: {task.strip()}\n\n{hint}"
        return message, baseline

    async def _task_files(self, task: str, budget: ContextBudget) -> TaskFiles:
        """The files the task names, shown; or, when it names none, the files that define the code it names
        (the code graph finds `rectangle_area` in geo/shapes.py), shown and treated as named."""
        show = functools.partial(
            task_files_context,
            self.root,
            task,
            self.workspace,
            self.counter,
            budget_tokens=max(256, budget.window // 3),
            allow_env_files=self.settings.allow_env_files,
        )
        files = await show()
        if files.named or symbol_references(task):
            return files
        defined = await defining_files(self.root, task, await self.workspace.unsaved_texts())
        if not defined:
            return files
        where = ", ".join(f"{name} in {path}" for name, path in defined.items())
        return await show(
            files=list(dict.fromkeys(defined.values())), heading=f"Where the task's code is ({where}):"
        )

    def _refresher(self, task: str, budget: ContextBudget) -> Callable[[str], Awaitable[str]] | None:
        """For a small model on a few named files: after a failed try the conversation restarts from a fresh opening
        (the file as it is now, the failures now, the task), so the model cannot copy its last answer — at
        low temperature the 1.5B model resent its previous, failing file word for word (bench tasks)."""
        if not self._edit_hint() or not asks_for_change(task):
            return None

        async def refresh(failures: str) -> str:
            message, _ = await self._opening(task, budget, None, failures=failures)
            return message

        return refresh

    def _edit_hint(self, tests_fail: bool = False) -> str:
        """For a small model working on a few named files: the shape of its next edit, repeated with each
        failure (the 1.5B model answered "the tests now pass" three times when only told that they fail; on a
        two-file task it answered in prose turn after turn, the conversation growing). `tests_fail`: failing
        tests are shown, and the model first sets what one expects against what the code does (more of the
        1.5B model's first answers passed, prompt_variants.py on the bench tasks' first prompts)."""
        sources = [p for p in self._shown if not is_test_file(p.name)]
        if not self.small_tier() or not 1 <= len(sources) <= MAX_HINTED_FILES:
            return ""
        rels = [p.relative_to(self.root).as_posix() for p in sources]
        names = rels[0] if len(rels) == 1 else ", ".join(rels[:-1]) + " and " + rels[-1]
        say = (
            f"what a failing test expects, what the code in {names} does instead, and what must change"
            if tests_fail
            else f"what must change in {names} and why"
        )
        if len(rels) == 1:
            return (
                f"First say in one or two sentences {say}. Then write the line {names} and the complete new "
                f"{names} in one fenced code block, with the change made."
            )
        return (
            f"First say in one or two sentences {say}. Then, for each file you change, write its path alone on "
            "a line and the complete new file in one fenced code block, with the change made."
        )

    def _retry(self, result: RunResult, start: int, trace: TraceWriter) -> bool:
        """After a failed attempt whose checks fail: put the files back and forget the attempt's turns."""
        if result.checks is None or result.checks.status not in ("failed", "timeout", "syntax", "error"):
            return False
        trace.write(
            "attempt_failed", checks=result.checks.model_dump(), reverted=self.workspace.rollback_run()
        )
        del self.history[start + 1 :]
        result.files_created.clear()
        result.files_edited.clear()
        result.checks = None
        result.verified = False
        return True

    def small_tier(self) -> bool:
        """Whether the model gets the small scaffolding (4B and under, or its profile says so)."""
        from agent_core.llm.profiles import model_tier, profile_for

        model = self.settings.model or ""
        # Asked several times per turn (tools, prompt, hints); the profile lookup reads .smallcode/profiles,
        # so the answer is kept for as long as the model stays the same.
        if self._tier is None or self._tier[0] != model:
            self._tier = (model, model_tier(model, profile_for(model, self.root)) == "small")
        return self._tier[1]

    def _tools_for(self, task: str) -> ToolRegistry:
        tools = self.tools if self._planning(task) else self.tools.without(PLAN_TOOLS)
        if self.small_tier():
            tools = tools.without(set(tools.names()) - set(SMALL_TIER_TOOLS) - PLAN_TOOLS)
        return tools

    def _planning(self, task: str) -> bool:
        """Plan tools are offered only for multi-step work (or a plan in progress): fewer tools, fewer mistakes.
        Small models plan only when asked (SMALLCODE_PLAN): measured, the plan bookkeeping cost them more turns
        than it saved (issue 12: 36 of 129 turns went to routing, plan and todo calls)."""
        if self.settings.plan_disable:
            return False
        if self.small_tier() and not self.settings.plan:
            return False
        in_progress = self.ctx.plan is not None and self.ctx.plan.plan is not None
        return in_progress or needs_plan(task, self.settings)

    def _task_message(self, task: str) -> str:
        if self.settings.plan_disable or not needs_plan(task, self.settings):
            return task
        if self.small_tier() and not self.settings.plan:
            return task
        if self.settings.plan_draft and self.ctx.plan is not None and self.ctx.plan.plan is not None:
            return (
                f"{task}\n\nThis task has several steps; its plan is shown to you each turn. Do the current step, "
                'then mark it done with the todo tool (todo {"step": 1, "status": "done"}); call plan to revise it.'
            )
        return (
            f"{task}\n\nThis task has several steps. First call the plan tool with a short list of atomic steps "
            '(plan {"steps": ["...", "..."]}), then do them one at a time and mark each done with the todo tool '
            '(todo {"step": 1, "status": "done"}).'
        )

    def build_system_prompt(self) -> str:
        from agent_core.llm.profiles import format_instructions, profile_for

        # Plan tools are described where a task needs them (the task message), keeping this prompt stable.
        if self.small_tier():
            from agent_core.prompts import small_system_prompt

            small = self.tools.without(set(self.tools.names()) - set(SMALL_TIER_TOOLS)).schemas()
            profile = profile_for(self.settings.model or "", self.root)
            prompt = small_system_prompt(small, format_instructions(profile, small, example="bash"))
            return "\n\n".join([prompt, *self._skill_sections()])
        schemas = self.tools.without(PLAN_TOOLS).schemas()
        extra = [self.project.prompt_lines()] if self.project is not None else []
        if routing_enabled(self.settings.tool_routing, self.context_window):
            extra.append(routing_prompt())
        profile = profile_for(self.settings.model or "", self.root)
        extra += self._skill_sections()
        return system_prompt(self.root, schemas, extra, format_text=format_instructions(profile, schemas))

    def _save_session(self) -> None:
        if not self.history:
            return
        try:
            save_session(
                self.root,
                self.session_id,
                self.history,
                {"model": self.settings.model, "cwd": str(self.root)},
            )
        except OSError as exc:
            log.warning("could not save the session: %s", exc)

    # extensions: MCP servers and skills -------------------------------------------------------------
    async def start_mcp(self, names: list[str] | None = None, *, retry_failed: bool = False) -> None:
        """Start the MCP servers (lazily: the first run whose model gets more than the small tier's four
        tools, or /mcp start) and offer their tools as mcp__SERVER__TOOL."""
        if self.small_tier() and names is None:
            return
        self.mcp.load()
        if not self.mcp.servers:
            return
        await self.mcp.start(names, retry_failed=retry_failed)
        self.sync_mcp_tools()

    def sync_mcp_tools(self) -> None:
        """The registry's mcp__ tools as the running servers offer them now (the system prompt follows)."""
        old = sorted(n for n in self.tools.names() if n.startswith(MCP_PREFIX))
        self.tools.remove(old)
        for name in self.tools.add(mcp_tools(self.mcp)):
            log.warning("MCP tool %s is offered twice; the first is used", name)
        if sorted(n for n in self.tools.names() if n.startswith(MCP_PREFIX)) != old:
            self.refresh_system_prompt()

    def refresh_system_prompt(self) -> None:
        """Rewrite the conversation's system prompt after tools or skills changed (none yet: nothing to do)."""
        if self.history and self.history[0].get("role") == "system":
            self.history[0] = {"role": "system", "content": self.build_system_prompt()}

    def skill_budget(self) -> int:
        """Tokens the session's skills may take in the system prompt: an eighth of the window."""
        return self.context_window // 8

    def use_skill(self, name: str) -> skill_book.Skill:
        """Add a skill to the system prompt for this session; KeyError if unknown, ValueError if over budget."""
        skill = self.skills.get(skill_book.key(name))
        if skill is None:
            raise KeyError(name)
        chosen = [*self.active_skills, skill_book.key(skill.name)]
        chosen = list(dict.fromkeys(chosen))
        cost = sum(self.counter.estimate(self.skills[k].prompt()) for k in chosen)
        if cost > self.skill_budget():
            raise ValueError(
                f"skill {skill.name} does not fit: the session's skills would take ≈{cost} tokens, more than "
                f"an eighth of the {self.context_window}-token window ({self.skill_budget()}); "
                "/skill drop NAME first"
            )
        self.active_skills = chosen
        self.refresh_system_prompt()
        return skill

    def drop_skill(self, name: str) -> bool:
        k = skill_book.key(name)
        if k not in self.active_skills:
            return False
        self.active_skills.remove(k)
        self.refresh_system_prompt()
        return True

    def _skill_sections(self) -> list[str]:
        return [self.skills[k].prompt() for k in self.active_skills if k in self.skills]

    def _auto_skill(self, task: str) -> skill_book.Skill | None:
        """A skill the task asks for by its words; never for small models (their prompt is kept short and
        stable), nor when the session already uses skills or SMALLCODE_SKILL_AUTO is off."""
        self.auto_skill = None
        if self.small_tier() or self.active_skills or not self.settings.skill_auto:
            return None
        skill = skill_book.choose(self.skills, task)
        if skill is None or self.counter.estimate(skill.prompt()) > self.skill_budget():
            return None
        self.auto_skill = skill.name
        self._status(f"using skill {skill.name}")
        return skill

    # introspection for slash commands ---------------------------------------------------------------
    def budget_split(self) -> dict[str, Any]:
        budget = ContextBudget(self.context_window, self.counter, reserve=min(self.settings.max_tokens, 2048))
        messages = self.history or [{"role": "system", "content": self.build_system_prompt()}]
        split = budget.split(messages)
        return {**split.as_dict(), "bar": split.bar()}


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a background task's exception as seen (its awaiting callers got it; none may be left)."""
    if not task.cancelled():
        task.exception()
