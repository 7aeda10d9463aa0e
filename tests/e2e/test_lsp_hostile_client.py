"""The language server against a client that sends what it should not, as raw bytes on its stdin (a real
subprocess): a Content-Length of a terabyte, a message over the limit, a body that is not JSON, a JSON value
that is not a message, a header line that never ends. The server answers what JSON-RPC asks (-32700,
-32600), keeps its memory, and goes on serving; stdout carries nothing but protocol frames."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from lsp_server.framing import MAX_MESSAGE_BYTES

RSS_LIMIT_KB = 300_000


def frame(body: bytes | str, length: int | None = None) -> bytes:
    data = body.encode() if isinstance(body, str) else body
    return f"Content-Length: {len(data) if length is None else length}\r\n\r\n".encode() + data


INITIALIZE = frame(
    json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}}
    )
)


class RawServer:
    """`python -m lsp_server` with the frames on its stdout parsed into a queue (a stray byte fails)."""

    def __init__(self, log: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lsp_server", "--log-file", str(log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.frames: queue.Queue[dict[str, Any] | str] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, out: IO[bytes]) -> None:
        while True:
            header = out.readline()
            if not header:
                return
            if not header.startswith(b"Content-Length: "):
                self.frames.put(f"not a protocol frame: {header[:80]!r}")
                return
            length = int(header.split(b":")[1])
            while out.readline().strip():  # the rest of the header block
                pass
            self.frames.put(json.loads(out.read(length)))

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def next(self, timeout: float = 20) -> dict[str, Any]:
        got = self.frames.get(timeout=timeout)
        assert isinstance(got, dict), got
        if got.get("method") in ("window/logMessage", "window/showMessage"):
            return self.next(timeout)
        return got

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def close(self) -> int:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the server did not end when its input ended") from None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RawServer]:
    raw = RawServer(tmp_path / "server.log")
    try:
        yield raw
    finally:
        if raw.proc.poll() is None:
            raw.proc.kill()
            raw.proc.wait()
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "MemoryError" not in log and "Traceback" not in log, log[-3000:]


def test_a_terabyte_content_length_is_refused_and_the_server_lives(server: RawServer) -> None:
    server.send(frame('{"jsonrpc": "2.0", "id": 7, "method": "shutdown"}', length=1_000_000_000_000))
    answer = server.next()
    assert answer["id"] is None and answer["error"]["code"] == -32600
    assert "1000000000000 bytes refused" in answer["error"]["message"]
    server.send(b"x" * 5_000_000)  # the client goes on sending its "body": read and dropped
    time.sleep(0.5)
    assert server.proc.poll() is None, "the server died"
    assert server.rss_kb() < RSS_LIMIT_KB
    assert server.close() == 0


def test_an_oversized_message_is_skipped_and_the_next_one_served(server: RawServer) -> None:
    size = MAX_MESSAGE_BYTES + 1_000_000
    server.send(f"Content-Length: {size}\r\n\r\n".encode())
    for _ in range(size // 1_000_000):
        server.send(b" " * 1_000_000)
    server.send(b" " * (size % 1_000_000))
    server.send(INITIALIZE)
    refused = server.next()
    assert refused["error"]["code"] == -32600 and refused["id"] is None
    answer = server.next()
    assert answer["id"] == 1 and "capabilities" in answer["result"]
    assert server.rss_kb() < RSS_LIMIT_KB
    assert server.close() == 0


BAD_BODIES = {
    "not JSON": (b"{not json", -32700),
    "not UTF-8": (b'{"jsonrpc": "2.0", "id": 2, "method": "\xff\xfe"}', -32700),
    "deeply nested": (b"[" * 200_000 + b"]" * 200_000, -32700),
    "a list": (b"[1, 2, 3]", -32600),
    "no jsonrpc member": (b'{"id": 3, "method": "initialize"}', -32600),
}


@pytest.mark.parametrize(("body", "code"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_body_that_is_not_a_message_gets_the_json_rpc_error(
    server: RawServer, body: bytes, code: int
) -> None:
    server.send(frame(body))
    answer = server.next()
    assert answer["error"]["code"] == code, answer
    assert answer["id"] in (None, 3)
    server.send(INITIALIZE)
    assert server.next()["id"] == 1
    assert server.close() == 0


def test_a_header_line_that_never_ends_is_skipped(server: RawServer) -> None:
    server.send(b"X-Junk: " + b"j" * 3_000_000 + b"\r\n\r\n")
    server.send(INITIALIZE)
    assert server.next()["id"] == 1
    assert server.rss_kb() < RSS_LIMIT_KB
    assert server.close() == 0


def test_stdout_carries_only_frames_after_garbage(server: RawServer) -> None:
    server.send(b"hello\r\n\r\n" + frame(b"{}") + b"\r\n" + INITIALIZE)
    seen = [server.next(), server.next()]
    assert seen[-1]["id"] == 1
    assert server.close() == 0
    assert server.frames.empty() or all(isinstance(f, dict) for f in list(server.frames.queue))


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for memory")
