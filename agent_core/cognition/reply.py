"""A model's answer to a declared prompt → the JSON value it meant.

Strict JSON first (the whole answer, then a ```json block, then the outermost {…}); failing that, json-repair
(trailing commas, single quotes, unquoted keys, a cut-off end). A bare list where the output has one field
is taken as that field. `repaired` says the answer needed fixing, which the call log records.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json_repair
from pydantic import BaseModel, ValidationError

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)```", re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


class ReplyError(ValueError):
    """The answer holds no JSON object; the message is written for the model."""


def json_from_reply(text: str, output: type[BaseModel]) -> tuple[Any, bool]:
    """(value, repaired). ReplyError when nothing JSON-like is in the answer."""
    text = _THINK.sub("", text).strip()
    candidates = [text, *(m.group(1) for m in _FENCE.finditer(text))]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        return _wrapped(value, output)
    try:
        value = json_repair.loads(text)
    except (ValueError, RecursionError):
        value = None
    if value in (None, "", [], {}) and not text.startswith(("[", "{")):
        raise ReplyError("the answer holds no JSON object")
    wrapped, _ = _wrapped(value, output)
    return wrapped, True


def _wrapped(value: Any, output: type[BaseModel]) -> tuple[Any, bool]:
    """A bare value where the output has a single field becomes {field: value}."""
    fields = list(output.model_fields)
    if not isinstance(value, dict) and len(fields) == 1:
        return {fields[0]: value}, True
    return value, False


def problems(exc: ValidationError | ReplyError, limit: int = 5) -> str:
    """What was wrong with an answer, in one line for the model (and the log)."""
    if isinstance(exc, ReplyError):
        return str(exc)
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "the answer"
        parts.append(f"{where}: {err['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
