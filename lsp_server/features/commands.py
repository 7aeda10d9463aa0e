"""workspace/executeCommand: every slash command as `smallcode.<name>`, plus ask, diff, cancel and planStep.
(undo is the server's own: it restores open documents through the editor.)

Each command is callable with no arguments (a command palette) or one object argument, and answers a
CommandReply {ok, text, data, error} (lsp_server.replies): ok is false, with the error, whenever the command did
not do its work. Handlers take `*args` and parse them here: pygls 2.x converts declared parameters and fails
on `arguments: []` even when they have defaults.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from agent_core.commands import COMMANDS, NOT_YET, execute_command
from lsp_server.features import plan_lenses, undo
from lsp_server.features.ask import parse_ask_args, run_ask
from lsp_server.replies import CommandReply
from lsp_server.server import SmallCodeServer, UserError

SLASH_COMMANDS = sorted(
    (
        {*COMMANDS, *NOT_YET}
        | {
            "ask",
            "budget",
            "tokens",
            "stats",
            "trace",
            "plan",
            "memory",
            "model",
            "profile",
            "sessions",
            "clear",
            "eval",
            "mcp",
            "skill",
            "plugin",
            "cognition",
            "help",
            "undo",
        }
    )
    - {"quit", "ask", "diff"}
)
"""Slash commands the agent core answers (quit is terminal-only; ask and diff are the server's own)."""
SERVER_COMMANDS = ("ask", "diff", "cancel", "planStep")
ALL_COMMANDS = [f"smallcode.{name}" for name in (*SLASH_COMMANDS, *SERVER_COMMANDS)]
Handler = Callable[..., Awaitable[CommandReply | dict[str, Any]]]


def _one_arg(args: tuple[Any, ...]) -> str | dict[str, Any] | None:
    """None (no argument), the object, or the words (strings are joined: `smallcode.trace show ID`)."""
    if not args or (len(args) == 1 and args[0] in (None, {}, "")):
        return None
    if len(args) == 1 and isinstance(args[0], dict):
        return args[0]
    if all(isinstance(a, str | int | float) for a in args):
        return " ".join(str(a) for a in args)
    raise UserError("expected no argument or one object argument")


def _reply(data: dict[str, Any], text: str, ok: bool = True) -> CommandReply:
    return CommandReply(data=data, text=text, ok=ok)


def _slash(name: str) -> Handler:
    async def handler(ls: SmallCodeServer, *args: Any) -> CommandReply:
        arg = _one_arg(args)
        uri = arg.get("uri") if isinstance(arg, dict) else None
        root = ls.root_for(uri)
        agent = await ls.agent_for(root)
        result = await execute_command(agent, name, arg)
        if name == "clear":
            ls.workspaces[root].begin_run()
        return _reply(result.data, result.text, result.ok)

    return handler


async def _ask(ls: SmallCodeServer, *args: Any) -> CommandReply:
    return await run_ask(ls, parse_ask_args(args))


async def _diff(ls: SmallCodeServer, *args: Any) -> CommandReply:
    """The edits proposed in this run (optionally of one `path`); with `range` ("" for the last turn,
    "run N", "ID", "A..B") what the checkpoints hold, as /diff shows it."""
    arg = _one_arg(args)
    obj = arg if isinstance(arg, dict) else {}
    root = ls.root_for(obj.get("uri"))
    if "range" in obj:
        result = await execute_command(await ls.agent_for(root), "diff", {"range": obj["range"]})
        return _reply(result.data, result.text, result.ok)
    path = obj.get("path") or (arg if isinstance(arg, str) else None)
    workspace = ls.workspaces.get(root)
    report = workspace.diff_report(path) if workspace is not None else {"edits": [], "diff": ""}
    return _reply(report, str(report["diff"]) or "no edits proposed in this run")


async def _undo(ls: SmallCodeServer, *args: Any) -> CommandReply | dict[str, Any]:
    """The editor's undo: open documents are restored through workspace/applyEdit (features/undo.py)."""
    arg = _one_arg(args)
    root = ls.root_for(arg.get("uri") if isinstance(arg, dict) else None)
    what = arg if isinstance(arg, str) else str((arg or {}).get("args", "") or "")
    if what.split()[:1] == ["list"]:
        result = await execute_command(await ls.agent_for(root), "undo", "list")
        return _reply(result.data, result.text, result.ok)
    return await undo.undo(ls, root, what.strip() or "last")


async def _cancel(ls: SmallCodeServer, *args: Any) -> CommandReply:
    states = list(ls.runs.values())
    for state in states:
        state.cancel()
    return _reply(
        {"cancelled": len(states)}, f"cancelled {len(states)} run(s)" if states else "nothing is running"
    )


async def _plan_step(ls: SmallCodeServer, *args: Any) -> CommandReply:
    arg = _one_arg(args)
    if not isinstance(arg, dict):
        raise UserError("smallcode.planStep takes {action: run | retry | skip, step: ID}")
    return await plan_lenses.step_action(ls, arg)


def register(server: SmallCodeServer) -> None:
    handlers: dict[str, Handler] = {name: _slash(name) for name in SLASH_COMMANDS}
    handlers.update({"ask": _ask, "diff": _diff, "cancel": _cancel, "planStep": _plan_step, "undo": _undo})
    for name, handler in handlers.items():
        server.command(f"smallcode.{name}")(_answering(server, name, handler))


def _answering(
    server: SmallCodeServer, name: str, handler: Handler
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Every answer is a CommandReply: a UserError is shown and answered with its message, any other failure
    (logged by `guarded`) with ok=false."""

    async def replying(ls: SmallCodeServer, *args: Any) -> CommandReply:
        try:
            return CommandReply.of(await handler(ls, *args))
        except UserError as exc:
            ls.show(f"SmallCode: {exc}")
            return CommandReply.failure(str(exc), {"error": str(exc)})

    guarded = server.guarded(f"smallcode.{name}", default=None)(replying)

    async def command(ls: SmallCodeServer, *args: Any) -> dict[str, Any]:
        reply: CommandReply | None = await guarded(ls, *args)
        if reply is None:
            failed = f"smallcode.{name} failed"
            reply = CommandReply.failure(f"{failed} (see the log)", {"error": failed})
        return reply.to_lsp()

    return command
