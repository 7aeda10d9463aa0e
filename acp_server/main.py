"""`smallcode acp`: serve ACP over stdio until the client closes stdin (or SIGTERM), then close every agent,
stopping the embedded model server if one was started.

stdout carries the protocol and nothing else: the process's fd 1 is pointed at stderr before anything runs
(a shell command, a model server the agent starts or a stray print cannot corrupt the stream), and the
protocol is written to a private copy of the original stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any, cast

from acp import Agent, run_agent
from acp.core import DEFAULT_STDIO_BUFFER_LIMIT_BYTES

from acp_server.server import SmallCodeAcpAgent

log = logging.getLogger("smallcode.acp")


def main(argv: list[str] | None = None, overrides: dict[str, Any] | None = None) -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="smallcode acp: %(message)s", stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_one_line_for_bad_input)
    if sys.stdin.isatty():
        log.warning("waiting for an ACP client on stdin; editors start this command (README: Agent panels)")
    protocol_fd = _claim_stdout()
    try:
        asyncio.run(serve(protocol_fd, overrides))
    except KeyboardInterrupt:
        return 130
    return 0


def _one_line_for_bad_input(record: logging.LogRecord) -> bool:
    """The SDK logs a line the client sent that is not JSON with a traceback: the editor's log gets one line."""
    if record.exc_info and record.pathname.endswith(os.path.join("acp", "_transport.py")):
        exc = record.exc_info[1]
        record.msg, record.args = f"{record.getMessage()}: {type(exc).__name__}: {exc}", None
        record.exc_info, record.exc_text = None, None
    return True


def _claim_stdout() -> int:
    """A private fd for the protocol; fd 1 and sys.stdout go to stderr from now on."""
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol_fd


async def serve(protocol_fd: int, overrides: dict[str, Any] | None = None) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=DEFAULT_STDIO_BUFFER_LIMIT_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(protocol_fd, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    agent = SmallCodeAcpAgent(overrides)
    current = asyncio.current_task()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, current.cancel if current is not None else lambda: None)
    try:
        # a partial Agent: the SDK answers the methods it lacks with 'method not found'
        await run_agent(cast(Agent, agent), writer, reader)
    except asyncio.CancelledError:
        log.info("stopping")
    finally:
        await agent.aclose()
