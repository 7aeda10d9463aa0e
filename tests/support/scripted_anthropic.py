"""A scripted Anthropic Messages API server on 127.0.0.1 (POST /v1/messages), for cloud-escalation tests.

Replies are served in order; each is a dict: `text` (a text block), `tool_calls` ([{name, arguments}] as tool_use
blocks), `status` / `body` (an error answer instead), `usage` ({input_tokens, output_tokens}). Every request body
is kept in `requests`, its headers in `request_headers`. Non-streamed only (the client asks that way).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedAnthropicServer:
    def __init__(self, script: list[dict[str, Any]] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.request_headers: list[dict[str, str]] = []
        self._script: deque[dict[str, Any]] = deque(script or [])
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def extend(self, replies: list[dict[str, Any]]) -> None:
        with self._lock:
            self._script.extend(replies)

    def _next(self) -> dict[str, Any]:
        with self._lock:
            return self._script.popleft() if self._script else {"text": "(script exhausted)"}

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> ScriptedAnthropicServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


class _Handler(BaseHTTPRequestHandler):
    server_owner: ScriptedAnthropicServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") != "/v1/messages":
            self._send(
                404, json.dumps({"type": "error", "error": {"message": f"no route {self.path}"}}).encode()
            )
            return
        owner = self.server_owner
        body = json.loads(raw or b"{}")
        owner.requests.append(body)
        owner.request_headers.append({k.lower(): v for k, v in self.headers.items()})
        reply = owner._next()
        if "status" in reply or "body" in reply:
            error = {"type": "error", "error": {"type": "api_error", "message": "scripted failure"}}
            self._send(int(reply.get("status", 200)), str(reply.get("body", json.dumps(error))).encode())
            return
        blocks: list[dict[str, Any]] = [{"type": "text", "text": reply["text"]}] if reply.get("text") else []
        for i, call in enumerate(reply.get("tool_calls") or []):
            blocks.append(
                {"type": "tool_use", "id": f"toolu_{i}", "name": call["name"], "input": call["arguments"]}
            )
        usage = reply.get("usage") or {"input_tokens": 100, "output_tokens": 20}
        message = {
            "id": "msg_scripted",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": blocks,
            "stop_reason": "tool_use" if reply.get("tool_calls") else "end_turn",
            "usage": usage,
        }
        self._send(200, json.dumps(message).encode())
