"""Fill-in-the-middle completion in the agent core (agent_core.llm.fim), against a real HTTP server: the
model family's prompt layout, the answer, and one-line errors for what can go wrong."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agent_core.llm import fim
from agent_core.llm.fim import FimClient, FimError, fim_request
from agent_core.safety.endpoints import EndpointError


class Server:
    def __init__(self) -> None:
        self.status = 200
        self.answer: bytes = json.dumps({"choices": [{"text": "return a + b"}]}).encode()
        self.bodies: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                owner.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(owner.status)
                self.send_header("Content-Length", str(len(owner.answer)))
                self.end_headers()
                self.wfile.write(owner.answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.httpd.shutdown()


def test_the_model_family_picks_the_prompt_layout() -> None:
    qwen = fim_request("qwen2.5-coder-1.5b", "def f(", "):", 16)
    assert qwen["prompt"] == "<|fim_prefix|>def f(<|fim_suffix|>):<|fim_middle|>" and "suffix" not in qwen
    other = fim_request("mystery-model", "def f(", "):", 16)
    assert (other["prompt"], other["suffix"]) == ("def f(", "):")


async def test_a_completion_and_what_can_go_wrong(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    client = FimClient()
    try:
        text = await client.complete(server.base_url, "k", "starcoder2", "a", "b", 8)
        assert text == "return a + b"
        assert server.bodies[-1]["prompt"] == "<fim_prefix>a<fim_suffix>b<fim_middle>"
        assert server.bodies[-1]["max_tokens"] == 8

        server.answer = json.dumps({"choices": [{"text": "  \n"}]}).encode()
        assert await client.complete(server.base_url, None, None, "a", "b", 8) is None

        server.status = 500
        with pytest.raises(FimError, match="answered 500"):
            await client.complete(server.base_url, None, None, "a", "b", 8)

        server.status, server.answer = 200, b"not json"
        with pytest.raises(FimError, match="completion request failed"):
            await client.complete(server.base_url, None, None, "a", "b", 8)

        monkeypatch.setattr(fim, "MAX_ANSWER_BYTES", 10)
        server.answer = json.dumps({"choices": [{"text": "x" * 100}]}).encode()
        with pytest.raises(FimError, match="passed 10 bytes"):
            await client.complete(server.base_url, None, None, "a", "b", 8)

        with pytest.raises(EndpointError, match="metadata"):  # a cloud metadata address is never asked
            await client.complete("http://169.254.169.254/v1", None, None, "a", "b", 8)
    finally:
        await client.aclose()
