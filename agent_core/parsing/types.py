"""What the parser returns (ToolCall, ParseOutcome) and what format extractors hand to normalization."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Family = Literal["json", "json_fence", "xml", "python", "text"]
"""The shape a call was written in; error messages show the expected shape in the same family
(`json_fence`: JSON in a ```json block, as the Qwen-Coder prompt asks)."""


class LazyFlag:
    """A yes/no worked out only when first asked (then kept): whether a reply stopped mid-call costs a scan
    of the call's text, wanted only for the few readings that become calls."""

    __slots__ = ("_fn", "_value")

    def __init__(self, fn: Callable[[], bool]) -> None:
        self._fn: Callable[[], bool] | None = fn
        self._value = False

    def __bool__(self) -> bool:
        if self._fn is not None:
            self._value, self._fn = bool(self._fn()), None
        return self._value


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass
class ParseOutcome:
    calls: list[ToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Messages for the model about calls it clearly tried to make but that could not be recovered."""
    attempts: list[tuple[str, Family]] = field(default_factory=list, repr=False, compare=False)
    """(tool, shape family) of every call read or attempted, in order: what a cut-off message is about."""


@dataclass
class Candidate:
    """One possible call found by a format extractor, not yet checked against the tools.

    Either `obj` holds a decoded JSON-like value to unwrap (envelopes, lists of calls), or `name` and
    `args` were found separately (XML, Python calls, special tokens)."""

    start: int
    end: int
    family: Family
    explicit: bool
    """Written with markers that only a tool call uses: an unrecoverable one becomes an error message."""
    obj: Any = None
    name: str | None = None
    args: Any = None
    """dict, a raw string to decode, or None."""
    problem: str | None = None
    """Why the extractor could not decode it (e.g. unreadable JSON)."""
    has_obj: bool = False
    """`obj` is meaningful (it may legitimately be None / null)."""
    positional: list[Any] = field(default_factory=list)
    """Positional arguments of a Python-style call, mapped to the schema's parameters in order."""
    attempt: str = ""
    """Unmarked, but shaped exactly like a call envelope (`{"name": "x", "arguments": {...}}`): the model
    clearly tried to call a tool, so an unknown name or unreadable arguments are reported to it. Holds the
    envelope's key: "arguments" (a call), or "parameters" (a call, unless it holds a schema: a definition)."""
    cut_off: bool | LazyFlag = False
    """The reply ends inside this call (an unfinished string, a key without its value, an open parameter):
    it stopped mid-call, so the call is never run, however well the repair would close it."""


Status = Literal["call", "error", "none"]


@dataclass
class Resolution:
    status: Status
    calls: list[ToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tool: str | None = None
    """The real tool the candidate named, when it named one (also for errors)."""
