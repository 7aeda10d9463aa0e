"""A scripted OpenAI-compatible model server on 127.0.0.1 for deterministic tests.

Real HTTP (streamed SSE and not), replaying replies from a script, in order. Each reply is a dict:
  content: str                  assistant text
  tool_calls: [{name, arguments}]  native tool calls (arguments: dict or JSON string)
  reasoning: str                reasoning_content
  status: int                   answer with this HTTP status (and `body`, if given) instead
  body: str                     raw response body (e.g. malformed JSON)
  delay: float                  seconds to wait before answering
  hang: true                    never answer (until the server stops)
  cut_after: int                streaming only: drop the connection after this many content characters
  stall_after: int              streaming only: stop sending (connection kept open) after this many content
                                characters, until the server stops
  piece_delay: float            streaming only: seconds before each content piece (8 characters), like a
                                model generating; a client that closes the stream early is then seen doing so
  sse: [str]                    streaming only: send these raw `data:` payloads (e.g. malformed JSON, "[DONE]"),
                                then close the connection
  arguments_as_object: true     send tool-call arguments as a JSON object rather than a string
  endless: "content" | "arguments" | "comments" | "drip" | "whole"
                                a server gone wrong, sending until the client hangs up (or ENDLESS_SECONDS pass):
                                content chunks, one tool call's argument chunks, SSE comment lines (no output),
                                bytes of one line that never ends, or one non-streamed JSON body that never ends;
                                `piece` is what each write carries, `interval` the seconds between writes,
                                `status` the HTTP status (200)
  usage: {prompt_tokens, completion_tokens}
  finish_reason: str            the reply's finish_reason (default: "tool_calls" with calls, else "stop")
  repeat: int                   serve this reply this many times (default 1)
When the script runs out, it answers "(script exhausted)". Every chat request body is kept in `requests`
(its headers in `request_headers`); `hangups` lists the requests (by index) whose stream the client closed
before its end, with the content characters sent by then.

Server-wide options: `models` (ids listed by GET /models), `tokenize` (True or "llama.cpp": POST /tokenize
{"content"}; "llama-cpp-python": POST /extras/tokenize {"input"}; one token per 4 characters),
`models_endpoint=False` (GET /models answers 404, like older Ollama), `models_body` (raw body for GET /models),
`reject_stream_options=True` (answer 400 to any request carrying `stream_options`, like some servers),
`samples`: what a non-streamed request with `n` > 1 gets — "answer" (default: the next n replies of the script
as its n choices, usage counting the first reply's prompt once, each choice saying the temperature it was drawn
at, from the request's `temperatures` list where given, as the embedded server does), "unmarked" (the same
choices without their temperatures, as servers that draw all choices at one temperature), "ignore" (one choice,
as llama-cpp-python's own server does) or "reject" (400, as llama.cpp's server does); `stream_usage=False`: no usage in streams (as
llama-cpp-python 0.3.36 sends none).

Run standalone (for subprocess tests and editors): python -m agent_core.testing.scripted_server SCRIPT.json
prints `PORT <n>` on stdout once listening.

It lives in the package (not only under tests/) because regression tests written from traces
(`smallcode trace test ID`) replay their model replies through it wherever SmallCode is installed.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from agent_core.llm.batch_samples import sample_temperatures

ENDLESS_SECONDS = 60.0
"""An `endless` reply stops by itself after this long, so a test that fails cannot hang forever."""


class ScriptedModelServer:
    def __init__(
        self,
        script: list[dict[str, Any]] | None = None,
        models: list[str] | None = None,
        tokenize: bool | str = False,
        models_endpoint: bool = True,
        models_body: str | None = None,
        reject_stream_options: bool = False,
        samples: str = "answer",
        stream_usage: bool = True,
    ) -> None:
        self.models = models or ["scripted-model"]
        self.tokenize = "llama.cpp" if tokenize is True else tokenize
        self.models_endpoint = models_endpoint
        self.models_body = models_body
        self.reject_stream_options = reject_stream_options
        self.samples = samples
        self.stream_usage = stream_usage
        self.requests: list[dict[str, Any]] = []
        self.tokenized: list[str] = []
        """The texts sent to the tokenizer endpoint, in order."""
        self.request_headers: list[dict[str, str]] = []
        self.hangups: list[tuple[int, int]] = []
        """(request index, content characters sent) for each stream the client closed before its end."""
        self._script: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.extend(script or [])

    # script -----------------------------------------------------------------------------------------
    def extend(self, replies: list[dict[str, Any]]) -> None:
        with self._lock:
            for reply in replies:
                for _ in range(int(reply.get("repeat", 1))):
                    self._script.append(reply)

    def _next(self) -> dict[str, Any]:
        with self._lock:
            return self._script.popleft() if self._script else {"content": "(script exhausted)"}

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    # lifecycle --------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedModelServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # A short poll interval makes stop() (shutdown) take ~50 ms instead of up to 0.5 s per test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _finish(reply: dict[str, Any]) -> str:
    return str(reply.get("finish_reason") or ("tool_calls" if reply.get("tool_calls") else "stop"))


def _tool_calls(reply: dict[str, Any]) -> list[dict[str, Any]]:
    calls = []
    for i, call in enumerate(reply.get("tool_calls") or []):
        args = call.get("arguments", {})
        if reply.get("arguments_as_object") and isinstance(args, str):
            args = json.loads(args)
        calls.append(
            {
                "id": call.get("id", f"call_{i}"),
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": args
                    if isinstance(args, str) or reply.get("arguments_as_object")
                    else json.dumps(args),
                },
            }
        )
    return calls


class _Handler(BaseHTTPRequestHandler):
    owner: ScriptedModelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _send_json(self, status: int, obj: Any) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models") and self.owner.models_body is not None:
            payload = self.owner.models_body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        elif self.path.rstrip("/").endswith("/models") and self.owner.models_endpoint:
            self._send_json(
                200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.owner.models]}
            )
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, {"error": {"message": "invalid JSON"}})
            return
        if self.path.rstrip("/").endswith("/tokenize"):
            extras = self.path.rstrip("/").endswith("/extras/tokenize")
            if self.owner.tokenize == "llama.cpp" and not extras:
                text = body.get("content", "")
            elif self.owner.tokenize == "llama-cpp-python" and extras:
                text = body.get("input", "")
            else:
                self._send_json(404, {"error": {"message": "not found"}})
                return
            self.owner.tokenized.append(text)
            # a stand-in tokenizer: one token per 4 characters
            self._send_json(200, {"tokens": list(range((len(text) + 3) // 4))})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        model = body.get("model")
        if model not in self.owner.models:
            self._send_json(404, {"error": {"message": f"model '{model}' not found"}})
            return
        self.owner.requests.append(body)
        self.owner.request_headers.append(dict(self.headers.items()))
        if self.owner.reject_stream_options and "stream_options" in body:
            message = "Unrecognized request argument supplied: stream_options"
            self._send_json(400, {"error": {"message": message}})
            return
        n = body.get("n") if isinstance(body.get("n"), int) and not body.get("stream") else 1
        if n > 1 and self.owner.samples == "reject":
            self._send_json(400, {"error": {"message": "Only one completion choice is allowed"}})
            return
        reply = self.owner._next()
        if (
            n > 1
            and self.owner.samples in ("answer", "unmarked")
            and not set(reply) & {"status", "body", "hang", "endless"}
        ):
            marked = self.owner.samples == "answer"
            drawn_at = sample_temperatures(body, n) if marked else None
            self._whole([reply, *(self.owner._next() for _ in range(n - 1))], model, drawn_at)
            return
        if reply.get("delay"):
            self.owner._stopping.wait(float(reply["delay"]))
        if reply.get("hang"):
            self.owner._stopping.wait(3600)
            return
        if reply.get("endless"):
            self._endless(reply, model)
            return
        if "status" in reply or "body" in reply:
            payload = reply.get("body", json.dumps({"error": {"message": "scripted failure"}})).encode()
            self.send_response(int(reply.get("status", 200)))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if body.get("stream"):
            self._stream(reply, model)
        else:
            self._whole([reply], model)

    def _usage(self, reply: dict[str, Any]) -> dict[str, int]:
        usage = reply.get("usage") or {}
        prompt = int(usage.get("prompt_tokens", 10))
        completion = int(usage.get("completion_tokens", max(1, len(reply.get("content", "")) // 4)))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _whole(self, replies: list[dict[str, Any]], model: str, drawn_at: list[float] | None = None) -> None:
        """One body with a choice per reply; the prompt is counted once, the completions added up; each choice
        says its temperature when `drawn_at` gives them."""
        choices = []
        for index, reply in enumerate(replies):
            message: dict[str, Any] = {"role": "assistant", "content": reply.get("content", "")}
            if reply.get("reasoning"):
                message["reasoning_content"] = reply["reasoning"]
            calls = _tool_calls(reply)
            if calls:
                message["tool_calls"] = calls
            choice = {"index": index, "message": message, "finish_reason": _finish(reply)}
            if drawn_at is not None:
                choice["temperature"] = drawn_at[index]
            choices.append(choice)
        usage = self._usage(replies[0])
        usage["completion_tokens"] = sum(self._usage(r)["completion_tokens"] for r in replies)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        self._send_json(
            200,
            {
                "id": "chatcmpl-scripted",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": choices,
                "usage": usage,
            },
        )

    def _stream(self, reply: dict[str, Any], model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()

        def chunk(
            delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None
        ) -> None:
            obj: dict[str, Any] = {
                "id": "chatcmpl-scripted",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if usage:
                obj["usage"] = usage
            self.wfile.write(f"data: {json.dumps(obj)}\n\n".encode())
            self.wfile.flush()

        index = len(self.owner.requests) - 1
        sent = 0
        try:
            if "sse" in reply:
                for payload in reply["sse"]:
                    self.wfile.write(f"data: {payload}\n\n".encode())
                self.wfile.flush()
                return
            chunk({"role": "assistant", "content": ""})
            for i in range(0, len(reply.get("reasoning", "")), 16):
                chunk({"reasoning_content": reply["reasoning"][i : i + 16]})
            content = reply.get("content", "")
            cut = reply.get("cut_after")
            stall = reply.get("stall_after")
            for i in range(0, len(content), 8):
                if cut is not None and i >= int(cut):
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if stall is not None and i >= int(stall):
                    self.owner._stopping.wait(3600)
                    return
                if reply.get("piece_delay"):
                    time.sleep(float(reply["piece_delay"]))
                chunk({"content": content[i : i + 8]})
                sent = i + 8
            for i, call in enumerate(_tool_calls(reply)):
                args = call["function"]["arguments"]
                if not isinstance(args, str):  # arguments_as_object: the whole object in one delta
                    call = {**call, "function": {**call["function"], "arguments": ""}}
                    chunk({"tool_calls": [{"index": i, **call}]})
                    chunk({"tool_calls": [{"index": i, "function": {"arguments": args}}]})
                    continue
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": i,
                                "id": call["id"],
                                "type": "function",
                                "function": {"name": call["function"]["name"], "arguments": ""},
                            }
                        ]
                    }
                )
                for j in range(0, len(args), 12):
                    chunk({"tool_calls": [{"index": i, "function": {"arguments": args[j : j + 12]}}]})
            chunk({}, finish=_finish(reply), usage=self._usage(reply) if self.owner.stream_usage else None)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.owner.hangups.append((index, min(sent, len(reply.get("content", "")))))

    def _endless(self, reply: dict[str, Any], model: str) -> None:
        kind = reply["endless"]
        interval = float(reply.get("interval", 0))
        self.send_response(int(reply.get("status", 200)))
        self.send_header("Content-Type", "application/json" if kind == "whole" else "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def sse(delta: dict[str, Any]) -> bytes:
            return f"data: {json.dumps({'choices': [{'index': 0, 'delta': delta}]})}\n\n".encode()

        if kind == "content":
            first, each = b"", sse({"content": reply.get("piece", "ab")})
        elif kind == "arguments":
            opening = {"name": "write_file", "arguments": '{"path": "a.txt", "content": "'}
            first = sse(
                {"tool_calls": [{"index": 0, "id": "call_0", "type": "function", "function": opening}]}
            )
            each = sse(
                {"tool_calls": [{"index": 0, "function": {"arguments": reply.get("piece", "x" * 64)}}]}
            )
        elif kind == "comments":
            first, each = b"", f": {reply.get('piece', 'keep-alive')}\n".encode()
        elif kind == "drip":
            first, each = b"data: ", str(reply.get("piece", "x")).encode()
        elif kind == "whole":
            first = b'{"model": "' + model.encode() + b'", "choices": [{"index": 0, "message": {"content": "'
            each = str(reply.get("piece", "y" * 4096)).encode()
        else:
            raise ValueError(f"unknown endless kind {kind!r}")
        deadline = time.monotonic() + ENDLESS_SECONDS
        try:
            self.wfile.write(first)
            while time.monotonic() < deadline and not self.owner._stopping.is_set():
                self.wfile.write(each)
                self.wfile.flush()
                if interval:
                    self.owner._stopping.wait(interval)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    script = json.loads(Path(args[0]).read_text()) if args else []
    models = script.get("models") if isinstance(script, dict) else None
    replies = script.get("replies", []) if isinstance(script, dict) else script
    server = ScriptedModelServer(replies, models=models).start()
    print(f"PORT {server.port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
