"""smallcode.ask: run the agent on a task from the editor, with $/progress, cancel, and streamed model text.

The run is an asyncio task, so the server keeps answering other requests meanwhile. Progress: begin (the
task, cancellable), a report per tool call, end with the outcome. Cancel from the progress UI
(window/workDoneProgress/cancel) or by $/cancelRequest on the executeCommand request cancels the task at its
next await; edits are whole WorkspaceEdits whose outcome is always awaited, so none is left half-applied.
The model's text streams as `smallcode/stream` notifications {runId, text} (a final one has done: true).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pydantic import BaseModel, ConfigDict, Field
from pygls.uris import to_fs_path

from agent_core.agent import SmallCode
from agent_core.result import RunResult
from agent_core.tools.base import describe_call
from lsp_server import capabilities
from lsp_server.replies import CommandReply
from lsp_server.server import SmallCodeServer, UserError

STREAM = "smallcode/stream"
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
    """Diagnostics the request concerns ({message, range, source?}), e.g. from a quickfix code action."""
    source: str | None = None
    """"comment" when the prompt came from an `agent:` comment."""


@dataclass
class RunState:
    root: Path
    run_id: str
    task: asyncio.Task[Any] | None = None
    token: str | None = None
    errors: list[str] = field(default_factory=list)
    tools: int = 0

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()


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


def build_task(ls: SmallCodeServer, root: Path, args: AskArgs) -> str:
    """The task text: the prompt (or one derived from the diagnostics/selection) plus the code it is about."""
    selected = ""
    rel = _rel(root, args.uri) if args.uri else None
    if args.uri and args.range is not None:
        doc = ls.workspace.get_text_document(args.uri)
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


async def _begin_progress(ls: SmallCodeServer, state: RunState, title: str, message: str) -> None:
    if not capabilities.work_done_progress(ls):
        return
    token = str(uuid.uuid4())
    try:
        await ls.work_done_progress.create_async(token)
    except Exception as exc:  # the client may refuse: the run goes on without a progress UI
        ls.log(f"SmallCode: no progress UI ({exc})", types.MessageType.Log)
        return
    state.token = token
    ls.work_done_progress.begin(
        token, types.WorkDoneProgressBegin(title=title, message=message[:200], cancellable=True)
    )
    future = ls.work_done_progress.tokens.get(token)
    if future is not None:
        loop = asyncio.get_running_loop()
        future.add_done_callback(lambda f: loop.call_soon_threadsafe(state.cancel) if f.cancelled() else None)


def _report(ls: SmallCodeServer, state: RunState, message: str) -> None:
    if state.token is not None:
        ls.work_done_progress.report(state.token, types.WorkDoneProgressReport(message=message[:200]))


def _end(ls: SmallCodeServer, state: RunState, message: str) -> None:
    if state.token is not None:
        ls.work_done_progress.end(state.token, types.WorkDoneProgressEnd(message=message[:200]))
        ls.work_done_progress.tokens.pop(state.token, None)


def on_agent_event(ls: SmallCodeServer, root: Path, event: dict[str, Any]) -> None:
    state: RunState | None = ls.runs.get(root)
    if state is None:
        return
    name = event.get("event")
    if name == "token":
        ls.protocol.notify(STREAM, {"runId": state.run_id, "text": str(event.get("text", ""))})
    elif name == "tool_start":
        state.tools += 1
        _report(ls, state, describe_call(str(event.get("name")), event.get("args") or {}, width=80))
    elif name == "tool_end" and not event.get("ok", True):
        _report(ls, state, f"{event.get('name')} failed")
    elif name == "status":  # e.g. "loading Qwen2.5-Coder-1.5B…" while the embedded model starts
        _report(ls, state, str(event.get("text", "")))
        ls.window_log_message(
            types.LogMessageParams(type=types.MessageType.Info, message=str(event.get("text")))
        )
    elif name == "error":
        state.errors.append(str(event.get("error", "")))


async def run_ask(ls: SmallCodeServer, args: AskArgs) -> CommandReply:
    """The run's reply: ok only when it ended and succeeded; busy, cancelled, failed and crashed runs say why."""
    root = ls.root_for(args.uri)
    if root in ls.runs:
        return CommandReply.failure(
            "SmallCode is already working on a task here; cancel it or wait", {"error": "busy"}
        )
    agent = await ls.agent_for(root)
    task_text = build_task(ls, root, args)
    state = RunState(root=root, run_id=str(uuid.uuid4()))
    ls.runs[root] = state
    msg_id = ls.protocol.msg_id
    try:
        ls.workspaces[root].begin_run()
        await _begin_progress(ls, state, "SmallCode", task_text.splitlines()[0])
        return await _run(ls, agent, state, task_text, msg_id)
    finally:
        ls.runs.pop(root, None)
        ls.forget_request(msg_id)


async def _run(
    ls: SmallCodeServer, agent: SmallCode, state: RunState, task_text: str, msg_id: Any
) -> CommandReply:
    history_len = len(agent.history)
    run_task = asyncio.create_task(agent.run(task_text))
    state.task = run_task
    ls.on_request_cancel(msg_id, state.cancel)
    outcome = "failed"
    try:
        try:
            await asyncio.wait({run_task})
        except asyncio.CancelledError:  # the handler itself was cancelled (shutdown): stop the run too
            run_task.cancel()
            await asyncio.wait({run_task})
            raise
        edits = ls.workspaces[state.root].diff_report()
        if run_task.cancelled():
            outcome = "cancelled"
            del agent.history[history_len:]  # no dangling tool call: the conversation stays valid
            return CommandReply.failure("cancelled", {"cancelled": True, **edits})
        result = run_task.result()
        verification = verification_line(result)
        outcome = ("done" if result.success else "failed") + (f" — {verification}" if verification else "")
        if not result.success:
            _show_failure(ls, state, result.response)
        data = {**result.model_dump(), **edits}
        text = result.response or outcome
        text = f"{text}\n{verification}" if verification else text
        if result.success:
            return CommandReply(text=text, data=data)
        failed = state.errors[-1] if state.errors else result.response or "the run failed"
        return CommandReply(ok=False, error=failed, text=text, data=data)
    except Exception as exc:  # a bug in a tool or the loop: tell the user, keep the server
        outcome = "failed"
        ls.report_failure("the agent run", exc)
        ls.show(f"SmallCode: the run failed: {exc}")
        return CommandReply.failure(f"the run failed: {exc}", {"error": str(exc)})
    finally:
        ls.protocol.notify(STREAM, {"runId": state.run_id, "text": "", "done": True})
        _end(ls, state, outcome)


def verification_line(result: RunResult) -> str:
    """Whether the run was verified, for the editor: "checks passed: 12 tests (…)" or "not verified: …"."""
    if result.checks is not None:
        return result.checks.summary
    return (
        "not verified: no checks ran"
        if result.success and (result.files_created or result.files_edited)
        else ""
    )


def _show_failure(ls: SmallCodeServer, state: RunState, response: str) -> None:
    if state.errors:  # the model server is down, a bad setting: something the user can act on
        ls.show(
            f"SmallCode: {state.errors[-1]} (settings: smallcode.baseUrl = {ls.options.base_url or 'embedded'}, "
            f"smallcode.model = {ls.options.model or 'default'})"
        )
    elif response:
        ls.show(f"SmallCode: {response}", types.MessageType.Warning)


def register(server: SmallCodeServer) -> None:
    server.event_listeners.append(lambda root, event: on_agent_event(server, root, event))
