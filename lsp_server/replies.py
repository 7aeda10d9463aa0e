"""CommandReply: the answer of every workspace/executeCommand (`smallcode.<name>`), and `one_arg`, how its
arguments are read.

`{ok, text, data, error}`: `ok` false when the command did not do what was asked (the server was busy, the
run failed, was cancelled or crashed, the arguments were wrong); `error` then says why, for the user.
Clients (the VS Code extension, the Neovim plugin) read `ok` and show `error`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lsp_server.errors import UserError


class CommandReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ok: bool = True
    """The command did its work (for smallcode.ask: the run ended and succeeded)."""
    text: str = ""
    """A short human answer (the model's answer for smallcode.ask)."""
    data: dict[str, Any] = Field(default_factory=dict)
    """Structured JSON for the command (e.g. the RunResult and the proposed edits for smallcode.ask)."""
    error: str | None = None
    """Why the command did not succeed; None when ok."""

    @model_validator(mode="after")
    def _error_when_failed(self) -> CommandReply:
        if self.ok:
            self.error = None
        elif not self.error:
            self.error = self.text or "failed"
        return self

    @classmethod
    def failure(cls, error: str, data: dict[str, Any] | None = None, text: str = "") -> CommandReply:
        return cls(ok=False, error=error, text=text or error, data=data or {})

    @classmethod
    def of(cls, answer: CommandReply | dict[str, Any]) -> CommandReply:
        """A handler's answer as a reply (a plain {data, text, ok?} dict is validated into one)."""
        return answer if isinstance(answer, CommandReply) else cls.model_validate(answer)

    def to_lsp(self) -> dict[str, Any]:
        """The JSON the client receives."""
        return self.model_dump(mode="json")


def one_arg(args: tuple[Any, ...]) -> str | dict[str, Any] | None:
    """A command's argument: None (none given, as from a command palette), the one object, or the words
    (strings are joined: `smallcode.trace show ID`). Commands take `*args` and read them here: pygls 2.x
    converts declared parameters and fails on `arguments: []` even when they have defaults."""
    if not args or (len(args) == 1 and args[0] in (None, {}, "")):
        return None
    if len(args) == 1 and isinstance(args[0], dict):
        return args[0]
    if all(isinstance(a, str | int | float) for a in args):
        return " ".join(str(a) for a in args)
    raise UserError("expected no argument or one object argument")
