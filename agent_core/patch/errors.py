"""The one error the patch engine raises; its message is written for the model."""

from __future__ import annotations

from typing import Literal

Reason = Literal["not_found", "ambiguous", "invalid", "binary", "too_large", "blocks"]


class PatchError(Exception):
    """No unique match for a search block (or the edit cannot be made); the message is written for the model.

    `reason` says which: not_found, ambiguous, invalid (the edit itself is malformed), binary, too_large,
    blocks (a multi-block patch failed). `lines` holds the 1-based first lines of the candidate places
    (ambiguous) or of the closest lines (not_found), so callers can point at them.
    """

    def __init__(self, message: str, *, reason: Reason = "not_found", lines: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.lines = lines

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""
