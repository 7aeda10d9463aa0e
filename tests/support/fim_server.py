"""A real HTTP model server for completions: /v1/completions answers a fixed middle and records each request
body (the FIM prompt); everything else is 404."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FimServer:
    """A real HTTP server answering /v1/completions with a fixed middle, recording the prompts; `status` and
    `answer` (raw bytes instead of the middle's JSON) make it fail."""

    def __init__(self, text: str = "return a + b") -> None:
        self.text = text
        self.status = 200
        self.answer: bytes | None = None
        self.bodies: list[dict[str, Any]] = []
        self.unrouted: list[str] = []
        """Paths of other POSTs (a chat request, …), answered 404."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                if not self.path.endswith("/completions") or self.path.endswith("/chat/completions"):
                    owner.unrouted.append(self.path)
                    self.send_response(404)
                    self.end_headers()
                    return
                owner.bodies.append(body)
                data = owner.answer or json.dumps({"choices": [{"text": owner.text, "index": 0}]}).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
