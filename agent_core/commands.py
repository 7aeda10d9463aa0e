"""Slash commands, shared by the terminal session (/budget) and the language server (smallcode.budget).

Each returns structured data (for clients that render it) and a short human text.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field

from agent_core.agent import SmallCode
from agent_core.extend import slash
from agent_core.llm.steering import report_lines as routing_lines
from agent_core.llm.types import ModelError
from agent_core.memory.overview import memory_command
from agent_core.memory.sessions import list_sessions, load_session
from agent_core.observe.trace import list_traces, read_trace, traces_dir
from agent_core.safety import checkpointing


class CommandResult(BaseModel):
    data: dict[str, Any] = Field(default_factory=dict)
    text: str = ""
    ok: bool = True


COMMANDS: dict[str, str] = {
    "help": "list the commands",
    "clear": "forget the conversation and start a new session (files are untouched)",
    "stats": "runs, tool calls and failure rates in this session",
    "tokens": "token usage of this session and of the last run",
    "budget": "how the context window is split (system, task, history, tool results, free)",
    "trace": "list traces; `trace show ID`, `trace html ID` (a page), `trace export ID`, "
    "`trace test ID` (a regression test replaying the run)",
    "plan": "the current TODO plan (.smallcode/plan.md)",
    "memory": "notes, the scratchpad, evidence of earlier runs and the code index; `memory add TEXT`, "
    "`memory search WORDS`, `memory pad TEXT`, `memory clear [notes|scratchpad|evidence]`",
    "model": "the model in use and those the server offers; `model NAME` switches",
    "profile": "the model's profile: context length, tool-call format, quirks",
    "sessions": "saved sessions; `sessions resume ID`",
    "undo": "revert the agent's last turn that changed files (edits and shell commands); `undo redo`, "
    "`undo run N` (back to before run N), `undo to ID`, `undo list`",
    "diff": "what the last turn changed; `diff run N` (since before run N), `diff ID`, `diff A..B`",
    "mcp": "MCP servers, their state and tools; `mcp start [NAME]`, `mcp stop [NAME]`, `mcp restart [NAME]`, "
    "`mcp reload`",
    "skill": "skills; `skill use NAME` (into this session's system prompt), `skill drop NAME`, `skill show NAME`",
    "plugin": "plugins, their tools, commands and hooks; `plugin install PATH|PACKAGE` (pip, after you confirm)",
    "eval": "prompt evaluations: tool choice, parse rate and repairs per model and profile, on the recorded "
    "replies and this project's traces; `eval recorded`, `eval traces`",
    "cognition": "the declared prompts: tier, cache, budget; their calls, cache hits, failures and tokens spent",
    "quit": "leave the session (terminal only)",
}

NOT_YET: dict[str, str] = {}
"""Commands named in the interface but not available yet (none now)."""

Handler = Callable[[SmallCode, list[str], dict[str, Any]], Awaitable[CommandResult]]


def _split_arg(arg: str | dict[str, Any] | None) -> tuple[list[str], dict[str, Any]]:
    """A command's argument: words from a slash-command line, or an object from an editor."""
    if arg is None:
        return [], {}
    if isinstance(arg, dict):
        words = str(arg.get("args", arg.get("action", "")) or "").split()
        if arg.get("id") and len(words) == 1:
            words.append(str(arg["id"]))
        return words, arg
    return str(arg).split(), {}


async def execute_command(
    agent: SmallCode, name: str, arg: str | dict[str, Any] | None = None
) -> CommandResult:
    """Run slash command `name` (without the slash). Unknown or not-yet-available commands answer clearly."""
    name = name.lstrip("/").strip().lower()
    words, obj = _split_arg(arg)
    handler = _HANDLERS.get(name)
    if handler is not None:
        return await handler(agent, words, obj)
    plugin_command = agent.plugins.commands().get(name)
    if plugin_command is not None:
        return await _plugin_command(agent, name, plugin_command, words)
    if name in NOT_YET:
        return CommandResult(
            ok=False,
            data={"available": False},
            text=f"/{name} ({NOT_YET[name]}) is not available yet in this version.",
        )
    return CommandResult(
        ok=False, data={"error": "unknown command"}, text=f"unknown command /{name}; /help lists the commands"
    )


async def _help(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    rows = {**COMMANDS, **{k: f"{v} (not available yet)" for k, v in NOT_YET.items()}}
    rows.update({k: "a plugin's command" for k in agent.plugins.commands() if k not in rows})
    text = "\n".join(f"/{k:<10} {v}" for k, v in rows.items())
    return CommandResult(data={"commands": rows}, text=text)


async def _clear(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    agent.clear()
    return CommandResult(data={"session": agent.session_id}, text="conversation cleared; new session started")


async def _stats(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    calls = [c for r in agent.runs for c in r.tool_calls]
    per_tool: dict[str, dict[str, Any]] = {}
    for name, count in Counter(c.name for c in calls).items():
        failed = sum(1 for c in calls if c.name == name and not c.ok)
        per_tool[name] = {"calls": count, "failed": failed, "failure_rate": round(failed / count, 2)}
    data = {
        "runs": len(agent.runs),
        "succeeded": sum(1 for r in agent.runs if r.success),
        "turns": sum(r.turns for r in agent.runs),
        "tool_calls": len(calls),
        "failed_tool_calls": sum(1 for c in calls if not c.ok),
        "per_tool": per_tool,
        "files_created": sorted({f for r in agent.runs for f in r.files_created}),
        "files_edited": sorted({f for r in agent.runs for f in r.files_edited}),
        "duration_ms": sum(r.duration_ms for r in agent.runs),
    }
    lines = [
        f"runs {data['runs']} ({data['succeeded']} succeeded), turns {data['turns']}, "
        f"tool calls {data['tool_calls']} ({data['failed_tool_calls']} failed)"
    ]
    lines += [f"  {n}: {s['calls']} calls, {s['failed']} failed" for n, s in per_tool.items()]
    routing = agent.steering.report()  # per-model failure rates (across runs), the tier, cloud calls
    data["routing"] = routing
    lines += routing_lines(routing)
    return CommandResult(data=data, text="\n".join(lines))


async def _tokens(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    last = agent.runs[-1].usage.model_dump() if agent.runs else None
    context_now = agent.counter.count_messages(agent.history) if agent.history else 0
    data = {
        "session": agent.usage.model_dump(),
        "last_run": last,
        "context_window": agent.context_window,
        "context_now": context_now,
    }
    text = (
        f"session: {agent.usage.prompt_tokens} prompt + {agent.usage.completion_tokens} completion = "
        f"{agent.usage.total_tokens} tokens; conversation now ≈{context_now} of {agent.context_window}"
    )
    return CommandResult(data=data, text=text)


def one_line(text: str, width: int = 120) -> str:
    """`text` as one line (runs of whitespace, newlines too, become one space), cut at a word with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1]
    if flat[width - 1] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


async def _budget(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    split = agent.budget_split()
    bar = split.pop("bar")
    return CommandResult(data=split, text=bar)


async def _trace(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    action = words[0] if words else "list"
    if action == "list":
        traces = list_traces(agent.root)[:20]
        text = (
            "\n".join(
                one_line(
                    f"{t['id']}  {t['turns']} turns  {'ok' if t['success'] else 'failed'}  {t['task'] or ''}"
                )
                for t in traces
            )
            or "no traces yet"
        )
        return CommandResult(data={"traces": traces}, text=text)
    trace_id = words[1] if len(words) > 1 else (agent.last_trace.id if agent.last_trace else None)
    if not trace_id:
        return CommandResult(ok=False, text="which trace? /trace list shows them")
    matches = sorted(traces_dir(agent.root).glob(f"{trace_id}*.jsonl"))
    if len(matches) != 1:
        return CommandResult(ok=False, text=f"no single trace matches {trace_id!r}; /trace list shows them")
    entries = read_trace(matches[0])
    if action == "export":
        return CommandResult(
            data={"id": matches[0].stem, "path": str(matches[0]), "entries": entries},
            text=f"trace {matches[0].stem}: {matches[0]}",
        )
    if action == "test":
        from agent_core.observe.replay import ReplayError, case_from_trace, default_test_path, write_test

        try:
            case = case_from_trace(matches[0].stem, entries)
        except ReplayError as exc:
            return CommandResult(ok=False, text=str(exc))
        out = write_test(case, default_test_path(agent.root, matches[0].stem))
        return CommandResult(
            data={"id": matches[0].stem, "path": str(out)},
            text=f"wrote {out}; run it with: python -m pytest {out}",
        )
    if action == "html":
        from agent_core.observe.html import render_html

        page = matches[0].with_suffix(".html")
        page.write_text(render_html(matches[0].stem, entries), encoding="utf-8")
        return CommandResult(data={"id": matches[0].stem, "path": str(page)}, text=f"wrote {page}")
    if action == "show":
        lines = []
        for e in entries:
            if e.get("type") == "turn":
                calls = ", ".join(c["name"] for c in e.get("calls", [])) or "answer"
                lines.append(
                    f"turn {e.get('n')}: {calls} ({e.get('ms')} ms, {e.get('usage', {}).get('total_tokens')} tokens)"
                )
            elif e.get("type") == "tool":
                lines.append(f"  {e.get('name')} {'ok' if e.get('ok') else 'failed'} ({e.get('ms')} ms)")
            elif e.get("type") == "run_end":
                lines.append(f"end: {'success' if e.get('result', {}).get('success') else 'failure'}")
        return CommandResult(data={"id": matches[0].stem, "entries": entries}, text="\n".join(lines))
    return CommandResult(
        ok=False, text=f"unknown trace action {action!r}: use list, show ID, html ID, export ID or test ID"
    )


async def _plan(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    path = agent.root / ".smallcode" / "plan.md"
    if not path.is_file():
        return CommandResult(data={"plan": None}, text="no plan yet (plans are made for multi-step tasks)")
    text = path.read_text(encoding="utf-8", errors="replace")
    data: dict[str, Any] = {"path": str(path), "markdown": text}
    try:
        from agent_core.planning.markdown import plan_from_markdown

        data["plan"] = json.loads(plan_from_markdown(text).model_dump_json())
    except Exception:  # the plan module is optional here; the markdown is the source of truth
        pass
    return CommandResult(data=data, text=text.strip())


async def _memory(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    ok, data, text = await asyncio.to_thread(memory_command, agent.root, words, obj)
    return CommandResult(ok=ok, data=data, text=text)


async def _model(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    wanted = words[0] if words else obj.get("name") or obj.get("model")
    available: list[str] = []
    error = None
    try:
        client = await agent._connect()
        available = await client.list_models()
    except ModelError as exc:
        error = str(exc)
    if wanted:
        if available and wanted not in available:
            return CommandResult(
                ok=False,
                data={"model": agent.settings.model, "available": available},
                text=f"the server has no model {wanted!r}; it offers: {', '.join(available)}",
            )
        agent.set_model(str(wanted))
        return CommandResult(
            data={"model": wanted, "available": available}, text=f"model switched to {wanted}"
        )
    text = f"model: {agent.settings.model or '(server default)'} at {agent.settings.base_url or 'embedded'}"
    if available:
        text += "\navailable: " + ", ".join(available)
    if error:
        text += f"\n({error})"
    routing = agent.steering.report()
    text = "\n".join([text, *routing_lines(routing)])
    return CommandResult(
        data={
            "model": agent.settings.model,
            "base_url": agent.settings.base_url,
            "available": available,
            "error": error,
            "routing": routing,
        },
        text=text,
    )


async def _profile(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    try:
        from agent_core.llm.profiles import profile_for
    except ImportError:
        return CommandResult(
            data={"context_window": agent.context_window},
            text=f"context window {agent.context_window} tokens (no profile data installed)",
        )
    profile = profile_for(agent.settings.model or "", agent.root)
    data = json.loads(profile.model_dump_json())
    data["context_window"] = agent.context_window
    text = "\n".join(f"{k}: {v}" for k, v in data.items())
    return CommandResult(data=data, text=text)


async def _sessions(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    if words and words[0] == "resume":
        session_id = words[1] if len(words) > 1 else obj.get("id")
        if not session_id:
            return CommandResult(ok=False, text="usage: /sessions resume ID")
        try:
            messages = load_session(agent.root, str(session_id))
        except (KeyError, OSError, ValueError) as exc:
            return CommandResult(ok=False, text=str(exc).strip("'\""))
        agent.resume(messages)
        return CommandResult(
            data={"resumed": session_id, "messages": len(messages)},
            text=f"resumed session {session_id} ({len(messages)} messages)",
        )
    sessions = list_sessions(agent.root)
    text = (
        "\n".join(one_line(f"{s['id']}  {s['messages']} msgs  {s['task']}") for s in sessions[:20])
        or "no saved sessions"
    )
    return CommandResult(data={"sessions": sessions, "current": agent.session_id}, text=text)


async def _undo(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    if words[:1] == ["list"]:
        listing = await asyncio.to_thread(checkpointing.list_checkpoints, agent.root)
        return CommandResult(ok=bool(listing.pop("ok")), data=listing, text=str(listing.get("text", "")))
    outcome = await asyncio.to_thread(checkpointing.undo, agent.root, " ".join(words) or "last")
    return CommandResult(ok=bool(outcome.get("ok")), data=outcome, text=str(outcome.get("text", "")))


async def _diff(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    spec = " ".join(words) or str(obj.get("range", "") or "")
    outcome = await asyncio.to_thread(checkpointing.diff, agent.root, spec)
    return CommandResult(ok=bool(outcome.pop("ok")), data=outcome, text=str(outcome.get("text", "")))


def _extension(answer: Callable[..., Awaitable[slash.Answer]]) -> Handler:
    async def handler(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
        ok, data, text = await answer(agent, words, obj)
        return CommandResult(ok=ok, data=data, text=text)

    return handler


async def _plugin_command(
    agent: SmallCode, name: str, command: Callable[..., Any], words: list[str]
) -> CommandResult:
    """A plugin's slash command: its answer (text, a dict or a CommandResult), or its failure in one line."""
    try:
        answer = command(agent, words)
        if asyncio.iscoroutine(answer):
            answer = await answer
    except Exception as exc:
        return CommandResult(
            ok=False, text=f"/{name} (a plugin's command) failed: {type(exc).__name__}: {exc}"
        )
    if isinstance(answer, CommandResult):
        return answer
    if isinstance(answer, dict):
        return CommandResult(data=answer, text=str(answer.get("text", "")))
    return CommandResult(text="" if answer is None else str(answer))


async def _quit(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    return CommandResult(data={"quit": True}, text="bye")


async def _eval(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    from agent_core.observe.evals import SOURCES, evaluate, save, table

    source = words[0] if words else str(obj.get("source") or "all")
    if source not in SOURCES:
        return CommandResult(
            ok=False, text=f"unknown source {source!r}: use /eval, /eval recorded or /eval traces"
        )
    result = await asyncio.to_thread(evaluate, agent.root, SOURCES[source])
    path = await asyncio.to_thread(save, result, agent.root)
    return CommandResult(data={**result, "saved_to": str(path)}, text=f"{table(result)}\nsaved to {path}")


async def _cognition(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> CommandResult:
    from agent_core.cognition.report import cognition_report

    data, text = await asyncio.to_thread(cognition_report, agent.root, agent.cognition)
    return CommandResult(data=data, text=text)


_HANDLERS: dict[str, Handler] = {
    "help": _help,
    "clear": _clear,
    "stats": _stats,
    "tokens": _tokens,
    "budget": _budget,
    "trace": _trace,
    "plan": _plan,
    "memory": _memory,
    "model": _model,
    "profile": _profile,
    "sessions": _sessions,
    "undo": _undo,
    "diff": _diff,
    "eval": _eval,
    "cognition": _cognition,
    "mcp": _extension(slash.mcp),
    "skill": _extension(slash.skill),
    "plugin": _extension(slash.plugin),
    "quit": _quit,
}
