"""workspace/executeCommand: every slash command the agent core answers, as `smallcode.<name>`, and
smallcode.diff (the edits proposed in this run). ask and cancel are features/ask.py's, planStep
features/plan_lenses.py's, undo features/undo.py's (it restores open documents through the editor).

Each command is callable with no arguments (a command palette) or one object argument (lsp_server.replies.
one_arg), and answers a CommandReply {ok, text, data, error}: ok is false, with the error, whenever the
command did not do its work (app.py registers them).
"""

from __future__ import annotations

from typing import Any

from agent_core.commands import COMMANDS, NOT_YET, execute_command
from lsp_server.agents import Agents
from lsp_server.feature import CommandHandler, Feature
from lsp_server.replies import CommandReply, one_arg

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


class SlashCommandFeature(Feature):
    name = "commands"

    def __init__(self, agents: Agents) -> None:
        super().__init__(agents.server)
        self.agents = agents

    def commands(self) -> dict[str, CommandHandler]:
        handlers: dict[str, CommandHandler] = {
            name: self._slash(name) for name in SLASH_COMMANDS if name != "undo"
        }
        handlers["diff"] = self.diff
        return handlers

    def _slash(self, name: str) -> CommandHandler:
        async def handler(*args: Any) -> CommandReply:
            arg = one_arg(args)
            uri = arg.get("uri") if isinstance(arg, dict) else None
            root = self.agents.root_for(uri)
            result = await execute_command(await self.agents.agent_for(root), name, arg)
            if name == "clear":
                self.agents.workspace(root).begin_run()
            return CommandReply(data=result.data, text=result.text, ok=result.ok)

        return handler

    async def diff(self, *args: Any) -> CommandReply:
        """The edits proposed in this run (optionally of one `path`); with `range` ("" for the last turn,
        "run N", "ID", "A..B") what the checkpoints hold, as /diff shows it."""
        arg = one_arg(args)
        obj = arg if isinstance(arg, dict) else {}
        root = self.agents.root_for(obj.get("uri"))
        if "range" in obj:
            agent = await self.agents.agent_for(root)
            result = await execute_command(agent, "diff", {"range": obj["range"]})
            return CommandReply(data=result.data, text=result.text, ok=result.ok)
        path = obj.get("path") or (arg if isinstance(arg, str) else None)
        workspace = self.agents.workspaces.get(root)
        report = workspace.diff_report(path) if workspace is not None else {"edits": [], "diff": ""}
        return CommandReply(data=report, text=str(report["diff"]) or "no edits proposed in this run")
