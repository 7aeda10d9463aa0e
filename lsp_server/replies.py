"""CommandReply: the answer of every workspace/executeCommand (`smallcode.<name>`).

`{ok, text, data, error}`: `ok` false when the command did not do what was asked (the server was busy, the
run failed, was cancelled or crashed, the arguments were wrong); `error` then says why, for the user.
Clients (the VS Code extension, the Neovim plugin) read `ok` and show `error`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
