"""Failures at the LSP edge: a UserError is shown to the user as it is; anything else a handler raises is logged
(stderr and window/logMessage) and answered with a default, so one broken feature never takes the server or
another feature down. Cancellation passes through: pygls answers a cancelled request itself."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
T = TypeVar("T")


class UserError(Exception):
    """Something the user can fix (bad settings, no model server); the message says what to do."""


class Reporter(Protocol):
    """Where failures go (the server: lsp_server.server.SmallCodeServer)."""

    def show(self, message: str) -> None:
        """Tell the user (window/showMessage) and the log."""

    def report_failure(self, feature: str, exc: BaseException) -> None:
        """Log a bug in `feature` with its traceback (stderr) and one line for the user's log."""


def guarded(reporter: Reporter, feature: str, default: Any = None) -> Callable[[F], F]:
    """Wrap an async handler: a UserError is shown, any other exception logged; either way `default` is the
    answer."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except asyncio.CancelledError:
                raise
            except UserError as exc:
                reporter.show(f"SmallCode: {exc}")
                return default
            except Exception as exc:
                reporter.report_failure(feature, exc)
                return default

        return wrapper  # type: ignore[return-value]

    return decorate


def each(reporter: Reporter, feature: str, compute: Callable[[], T], default: T) -> T:
    """`compute()`, or `default` when it fails (logged): one part of an answer failing never hides the others."""
    try:
        return compute()
    except Exception as exc:
        reporter.report_failure(feature, exc)
        return default
