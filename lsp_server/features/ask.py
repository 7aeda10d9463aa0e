"""smallcode.ask: run the agent on a task from the editor, with $/progress, cancel, and streamed model text;
smallcode.cancel stops every run.

The run is an asyncio task, so the server keeps answering other requests meanwhile. Progress: begin (the
task, cancellable), a report per tool call, end with the outcome. Cancel from the progress UI
(window/workDoneProgress/cancel), by $/cancelRequest on the executeCommand request, or smallcode.cancel cancels
the task at its next await (SmallCode.run then puts the conversation back as it was); edits are whole
WorkspaceEdits whose outcome is always awaited, so none is left half-applied.
The model's text streams as `smallcode/stream` notifications {runId, text} (a final one has done: true); each
tool step, check and review decision as `smallcode/step` (lsp_server/run_steps.py), for the chat views.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from lsprotocol import types
from pydantic import BaseModel, ConfigDict, Field
from pygls.uris import to_fs_path
from pygls.workspace import Workspace as Documents

from agent_core.agent import SmallCode
from agent_core.result import RunResult
from agent_core.tools.base import describe_call
from lsp_server import capabilities
from lsp_server.agents import Agents, Run
from lsp_server.errors import UserError
from lsp_server.feature import CommandHandler, Feature
from lsp_server.replies import CommandReply
from lsp_server.run_steps import notify_step

STREAM = "smallcode/stream"
REJECTED = "the user rejected"
"""How a tool's error begins when the user rejected its edit (agent_core.tools.files.rejected)."""
MAX_SELECTION_CHARS = 6000


class Pos(BaseModel):
    line: int = Field(ge=0)
    character: int = Field(default=0, ge=0)


class Span(BaseModel):
    """An LSP Range as the command argument carries it."""

    start: Pos
    end: Pos


class AskArgs(BaseModel):
    """The argument of smallcode.ask; every field optional (a palette sends nothing)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    prompt: str | None = None
    uri: str | None = None
    range: Span | None = None
    diagnostics: list[dict[str, Any]] = Field(default_factory=list)
    """Diagnostics the request concerns ({message, range, source?}): from a quickfix code action, or the ones on
    the asked lines that the editor adds when the prompt says `#diagnostics`."""
    source: str | None = None
    """"comment" when the prompt came from an `agent:` comment."""


def parse_ask_args(args: tuple[Any, ...]) -> AskArgs:
    """One object argument, a bare prompt string, or nothing."""
    if not args:
        return AskArgs()
    first = args[0]
    if isinstance(first, str):
        return AskArgs(prompt=first, uri=args[1] if len(args) > 1 and isinstance(args[1], str) else None)
    if isinstance(first, dict):
        return AskArgs.model_validate(first)
    raise UserError("smallcode.ask takes one object {prompt, uri, range}")


def _rel(root: Path, uri: str) -> str:
    path = Path(to_fs_path(uri) or uri)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def build_task(documents: Documents, root: Path, args: AskArgs) -> str:
    """The task text: the prompt (or one derived from the diagnostics/selection) plus the code it is about."""
    selected = ""
    rel = _rel(root, args.uri) if args.uri else None
    if args.uri and args.range is not None:
        doc = documents.get_text_document(args.uri)
        lines = doc.lines[args.range.start.line : args.range.end.line + 1]
        selected = "".join(lines)[:MAX_SELECTION_CHARS]
    prompt = (args.prompt or "").strip()
    if not prompt:
        if args.diagnostics:
            prompt = "Fix this error."
        elif selected.strip():
            prompt = "Explain and improve this code."
        else:
            raise UserError("nothing to ask: give a prompt, or select code or a diagnostic first")
    parts = [prompt]
    if "#diagnostics" in prompt and not args.diagnostics:
        parts.append("Diagnostics (#diagnostics): the editor reports none for this code.")
    if args.diagnostics:
        parts.append("Diagnostics:")
        for diag in args.diagnostics[:10]:
            line = int(diag.get("range", {}).get("start", {}).get("line", 0)) + 1
            source = f" ({diag['source']})" if diag.get("source") else ""
            parts.append(f"- {rel}:{line}: {diag.get('message', '')}{source}")
    if rel and args.range is not None:
        first, last = args.range.start.line + 1, args.range.end.line + 1
        if args.source == "comment":
            parts.append(
                f"This instruction is an `agent:` comment at {rel}:{first}; remove that comment when done."
            )
        if selected.strip():
            parts.append(f"The code in {rel}, lines {first}-{last}:\n```\n{selected.rstrip()}\n```")
    elif rel:
        parts.append(f"The file open in the editor: {rel}")
    return "\n\n".join(parts)


class AskFeature(Feature):
    name = "ask"

    def __init__(self, agents: Agents) -> None:
        super().__init__(agents.server)
        self.agents = agents

    def commands(self) -> dict[str, CommandHandler]:
        return {"ask": self.ask, "cancel": self.cancel}

    async def ask(self, *args: Any) -> CommandReply:
        return await self.run(parse_ask_args(args))

    async def cancel(self, *args: Any) -> CommandReply:
        cancelled = self.agents.cancel_runs()
        return CommandReply(
            data={"cancelled": cancelled},
            text=f"cancelled {cancelled} run(s)" if cancelled else "nothing is running",
        )

    async def run(self, args: AskArgs) -> CommandReply:
        """The run's reply: ok only when it ended and succeeded; busy, cancelled, failed and crashed runs say
        why."""
        ls, agents = self.server, self.agents
        root = agents.root_for(args.uri)
        if agents.busy(root):
            return CommandReply.failure(
                "SmallCode is already working on a task here; cancel it or wait", {"error": "busy"}
            )
        agent = await agents.agent_for(root)
        task_text = build_task(ls.workspace, root, args)
        run = Run(root=root)
        agents.runs[root] = run
        msg_id = ls.protocol.msg_id
        try:
            agents.workspace(root).begin_run(run.id, run.stop_by_review)
            await self._begin_progress(run, "SmallCode", task_text.splitlines()[0])
            return await self._run(agent, run, task_text, msg_id)
        finally:
            agents.runs.pop(root, None)
            ls.forget_request(msg_id)

    async def _run(self, agent: SmallCode, run: Run, task_text: str, msg_id: Any) -> CommandReply:
        ls = self.server
        run_task = asyncio.create_task(agent.run(task_text))
        run.task = run_task
        ls.on_request_cancel(msg_id, run.cancel)
        outcome = "failed"
        try:
            try:
                await asyncio.wait({run_task})
            except asyncio.CancelledError:  # the handler itself was cancelled (shutdown): stop the run too
                run_task.cancel()
                await asyncio.wait({run_task})
                raise
            edits = self.agents.workspace(run.root).diff_report()
            if run_task.cancelled():
                outcome = "cancelled"
                if run.stopped_in_review:
                    outcome = "stopped in the review"
                    kept = any(e["status"] in ("applied", "partial") for e in edits["edits"])
                    text = "Stopped: you ended the run in the review." + (
                        " The changes you accepted are in place." if kept else ""
                    )
                    return CommandReply(ok=False, error=outcome, text=text, data={"cancelled": True, **edits})
                return CommandReply.failure("cancelled", {"cancelled": True, **edits})
            result = run_task.result()
            verification = verification_line(result)
            outcome = ("done" if result.success else "failed") + (
                f" — {verification}" if verification else ""
            )
            if not result.success:
                self._show_failure(run, result.response)
            data = {**result.model_dump(), **edits}
            text = result.response or outcome
            text = f"{text}\n{verification}" if verification else text
            if result.success:
                return CommandReply(text=text, data=data)
            failed = run.errors[-1] if run.errors else result.response or "the run failed"
            return CommandReply(ok=False, error=failed, text=text, data=data)
        except Exception as exc:  # a bug in a tool or the loop: tell the user, keep the server
            outcome = "failed"
            ls.report_failure("the agent run", exc)
            ls.show(f"SmallCode: the run failed: {exc}")
            return CommandReply.failure(f"the run failed: {exc}", {"error": str(exc)})
        finally:
            ls.protocol.notify(STREAM, {"runId": run.id, "text": "", "done": True})
            self._end(run, outcome)

    # the agent's events, while a run is in progress at their root -----------------------------------
    async def on_agent_event(self, root: Path, event: dict[str, Any]) -> None:
        run = self.agents.runs.get(root)
        if run is None:
            return
        ls = self.server
        name = event.get("event")
        if name == "token":
            ls.protocol.notify(STREAM, {"runId": run.id, "text": str(event.get("text", ""))})
        elif name == "tool_start":
            run.steps += 1
            run.step_label = describe_call(str(event.get("name")), event.get("args") or {}, width=80)
            self._report(run, run.step_label)
            self._step(run, "tool", state="running", name=event.get("name"))
        elif name == "tool_end":
            ok = bool(event.get("ok", True))
            error = "" if ok else str(event.get("error") or "failed")
            # an edit the user turned down in the editor is their decision, not a tool failing
            state = "ok" if ok else "rejected" if error.startswith(REJECTED) else "failed"
            if state == "rejected":
                self._report(run, "you rejected the change")
            elif state == "failed":
                self._report(run, f"{event.get('name')} failed")
            extra = {"error": error} if error else {}
            self._step(run, "tool", state=state, name=event.get("name"), ms=event.get("ms"), **extra)
        elif name == "check":
            notify_step(ls, run.id, "check", text=str(event.get("summary", "")))
        elif name == "status":  # e.g. "loading Qwen2.5-Coder-1.5B…" while the embedded model starts
            self._report(run, str(event.get("text", "")))
            notify_step(ls, run.id, "status", text=str(event.get("text", "")))
            ls.window_log_message(
                types.LogMessageParams(type=types.MessageType.Info, message=str(event.get("text")))
            )
        elif name == "error":
            run.errors.append(str(event.get("error", "")))

    def _step(self, run: Run, kind: str, **fields: Any) -> None:
        notify_step(self.server, run.id, kind, id=run.steps, label=run.step_label, **fields)

    # $/progress ---------------------------------------------------------------------------------------
    async def _begin_progress(self, run: Run, title: str, message: str) -> None:
        ls = self.server
        if not capabilities.work_done_progress(ls):
            return
        token = str(uuid.uuid4())
        try:
            await ls.work_done_progress.create_async(token)
        except Exception as exc:  # the client may refuse: the run goes on without a progress UI
            ls.log(f"SmallCode: no progress UI ({exc})", types.MessageType.Log)
            return
        run.progress = token
        ls.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=title, message=message[:200], cancellable=True)
        )
        future = ls.work_done_progress.tokens.get(token)
        if future is not None:
            loop = asyncio.get_running_loop()
            future.add_done_callback(
                lambda f: loop.call_soon_threadsafe(run.cancel) if f.cancelled() else None
            )

    def _report(self, run: Run, message: str) -> None:
        if run.progress is not None:
            self.server.work_done_progress.report(
                run.progress, types.WorkDoneProgressReport(message=message[:200])
            )

    def _end(self, run: Run, message: str) -> None:
        if run.progress is not None:
            progress = self.server.work_done_progress
            progress.end(run.progress, types.WorkDoneProgressEnd(message=message[:200]))
            progress.tokens.pop(run.progress, None)

    def _show_failure(self, run: Run, response: str) -> None:
        ls = self.server
        if run.errors:  # the model server is down, a bad setting: something the user can act on
            ls.show(
                f"SmallCode: {run.errors[-1]} (settings: smallcode.baseUrl = {ls.options.base_url or 'embedded'}, "
                f"smallcode.model = {ls.options.model or 'default'})"
            )
        elif response:
            ls.show(f"SmallCode: {response}", types.MessageType.Warning)


def verification_line(result: RunResult) -> str:
    """Whether the run was verified, for the editor: "checks passed: 12 tests (…)" or "not verified: …"."""
    if result.checks is not None:
        return result.checks.summary
    return (
        "not verified: no checks ran"
        if result.success and (result.files_created or result.files_edited)
        else ""
    )
