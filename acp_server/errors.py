"""Errors a user can act on, as JSON-RPC errors whose message is the sentence a client shows."""

from __future__ import annotations

from acp import RequestError

INVALID_REQUEST, INVALID_PARAMS, RESOURCE_NOT_FOUND = -32600, -32602, -32002


def user_error(text: str, code: int = INVALID_PARAMS) -> RequestError:
    """`smallcode: <text>` as the message (clients show it), the bare text in data.details."""
    return RequestError(code, f"smallcode: {text}", {"details": text})
