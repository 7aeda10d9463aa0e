"""The base protocol's message loop (Content-Length framing), bounded: it replaces pygls' `run_async`, which
reads whatever length a header claims (`Content-Length: 1000000000000` ended the server with MemoryError) and
answers nothing to a body that is not JSON.

Here a header line is read at most MAX_HEADER_LINE bytes at a time, a message over MAX_MESSAGE_BYTES is
refused (-32600, `id` null) and its body skipped in small pieces without being kept, a body that is not JSON
is answered -32700 (Parse error) and one that is not a JSON-RPC message -32600 (Invalid Request), as JSON-RPC
2.0 asks; either way the server reads on. The stdio and TCP transports both run through `read_messages`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO, Protocol

from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.protocol import JsonRPCProtocol

log = logging.getLogger("smallcode.lsp.framing")

MAX_MESSAGE_BYTES = 64 << 20
"""The largest message accepted (an editor sends a whole document in didOpen: 64 MiB is far beyond those)."""
MAX_HEADER_LINE = 8192
SKIP_CHUNK = 1 << 20
"""A refused message's body is read and dropped this many bytes at a time."""
PARSE_ERROR, INVALID_REQUEST = -32700, -32600
_CONTENT_LENGTH = re.compile(rb"content-length\s*:\s*(\d{1,20})\s*", re.IGNORECASE)


class Reader(Protocol):
    async def readline(self, limit: int) -> bytes:
        """Up to `limit` bytes, ending at the first newline; b"" at end of input."""

    async def read(self, n: int) -> bytes:
        """Between 1 and `n` bytes; b"" at end of input."""


class StdinReader:
    """A blocking binary stream read in a worker thread (stdin)."""

    def __init__(self, stream: BinaryIO, executor: ThreadPoolExecutor | None) -> None:
        self.stream = stream
        self.executor = executor

    async def readline(self, limit: int) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.stream.readline, limit)

    async def read(self, n: int) -> bytes:
        read1 = getattr(self.stream, "read1", self.stream.read)
        data: bytes = await asyncio.get_running_loop().run_in_executor(self.executor, read1, n)
        return data


class StreamReader:
    """An asyncio stream (a TCP connection)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    async def readline(self, limit: int) -> bytes:
        try:
            return await self.reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            return await self.reader.read(limit)  # part of an overlong line; the rest comes next
        except asyncio.IncompleteReadError as exc:
            return exc.partial

    async def read(self, n: int) -> bytes:
        return await self.reader.read(n)


async def _headers(reader: Reader) -> tuple[bool, int | None]:
    """Read one header block: (False, None) at end of input, else (True, its Content-Length or None)."""
    length: int | None = None
    seen = False
    while True:
        line = await reader.readline(MAX_HEADER_LINE)
        if not line:
            return False, None
        if not line.endswith(b"\n"):  # an overlong line: skip the rest of it
            while line and not line.endswith(b"\n"):
                line = await reader.readline(MAX_HEADER_LINE)
            seen = True
            continue
        if not line.strip():
            if seen:
                return True, length
            continue  # blank lines between messages
        seen = True
        match = _CONTENT_LENGTH.fullmatch(line.rstrip(b"\r\n"))
        if match:
            length = int(match.group(1))


async def _read_body(reader: Reader, length: int, keep: bool) -> bytes | None:
    """`length` bytes (dropped as they come unless `keep`); None when the input ends first."""
    parts: list[bytes] = []
    left = length
    while left:
        data = await reader.read(min(left, SKIP_CHUNK))
        if not data:
            return None
        left -= len(data)
        if keep:
            parts.append(data)
    return b"".join(parts)


def _answer_error(protocol: JsonRPCProtocol, msg_id: Any, code: int, message: str) -> None:
    if not isinstance(msg_id, int | str) or isinstance(msg_id, bool):
        msg_id = None
    protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})


async def read_messages(stop_event: threading.Event, reader: Reader, protocol: JsonRPCProtocol) -> None:
    """Read, check and hand on messages until the input ends or `stop_event` is set."""
    while not stop_event.is_set():
        more, length = await _headers(reader)
        if not more:
            return
        if length is None:
            log.warning("a message without a Content-Length header was ignored")
            continue
        if length > MAX_MESSAGE_BYTES:
            log.warning(
                "refusing a message of %d bytes (limit %d); skipping its body", length, MAX_MESSAGE_BYTES
            )
            _answer_error(
                protocol,
                None,
                INVALID_REQUEST,
                f"message of {length} bytes refused: larger than {MAX_MESSAGE_BYTES} bytes",
            )
            if await _read_body(reader, length, keep=False) is None:
                return
            continue
        body = await _read_body(reader, length, keep=True)
        if body is None:
            return
        _dispatch(protocol, body)


def _dispatch(protocol: JsonRPCProtocol, body: bytes) -> None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        log.warning("a message that is not JSON: %s", str(exc)[:200])
        _answer_error(protocol, None, PARSE_ERROR, "Parse error: the message is not valid JSON")
        return
    msg_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
        _answer_error(protocol, msg_id, INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message")
        return
    try:
        message = protocol.structure_message(data)
    except JsonRpcException as exc:
        if "method" in data and "id" in data:  # a request: it gets an answer
            _answer_error(protocol, msg_id, exc.code, exc.message or "invalid message")
        return
    try:
        protocol.handle_message(message)
    except Exception:
        log.exception("Unable to handle message")


def serve_io(server: Any, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """pygls' `start_io` with `read_messages` as the loop."""
    server._stop_event = stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout))
    try:
        asyncio.run(read_messages(stop_event, StdinReader(stdin, server.thread_pool), server.protocol))
    except BrokenPipeError:
        log.error("the connection to the client is lost; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()


def serve_tcp(server: Any, host: str, port: int) -> None:
    """pygls' `start_tcp` with `read_messages` as the loop."""
    server._stop_event = stop_event = threading.Event()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.protocol.set_writer(writer)
        await read_messages(stop_event, StreamReader(reader), server.protocol)
        server.shutdown()

    async def listen() -> None:
        server._server = await asyncio.start_server(connection, host, port)
        async with server._server:
            await server._server.serve_forever()

    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(listen())
