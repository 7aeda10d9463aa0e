"""`ast.parse` behind one lock, for every caller in agent_core.

CPython 3.11 keeps the AST constructor's recursion counter in the interpreter, not per thread, so two threads
parsing at once can fail with "SystemError: AST constructor recursion depth mismatch" (gh-106905). The agent
parses in the event loop's thread and in worker threads (asyncio.to_thread checks), so the calls take turns.
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()


def parse_module(source: str, filename: str = "<unknown>") -> ast.Module:
    with _LOCK:
        return ast.parse(source, filename=filename)


def parse_expression(source: str) -> ast.Expression:
    with _LOCK:
        return ast.parse(source, mode="eval")
