"""ChatClient: one async client for any OpenAI-compatible server (LM Studio, Ollama, llama-server, vLLM, ...).

Every failure ends in a `ModelError` whose message is one line a user can act on. Retries (with exponential
backoff) cover connection errors and 5xx answers, never 4xx, and never once part of an answer has streamed
out: by then the caller has shown tokens, and a second answer would contradict the first.

On a connection error the client first asks `diagnose` (the embedded server's `crash_report`) whether the
server process has died; if it has, its one-line cause is the error and nothing is retried. A server that hangs
up without answering is blamed on the context window only when the request filled most of it.

Nothing a server sends is trusted to be small or well formed: a reply may run to the request's max_tokens plus
a margin (pieces, characters and raw bytes are all counted), bytes that carry no answer count as no progress
after `timeout` seconds, one tool call's arguments are capped, and a chunk of the wrong shape is a one-line
`ModelError`; the connection is closed as soon as a bound is passed (see `ReplyLimits`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from agent_core.context.tokens import TokenCounter, message_text
from agent_core.llm.types import ChatResponse, Message, ModelError, NativeToolCall
from agent_core.result import Usage

log = logging.getLogger(__name__)

TokenCallback = Callable[[str], Awaitable[None] | None]
Diagnose = Callable[[], Awaitable[str | None]]
"""Asked after a connection error: the one-line reason the server is gone (it crashed), or None."""

CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection: a local server answers at once; a dead one should fail fast."""

_DOWN_HINT = "is LM Studio / Ollama / llama-server running? set SMALLCODE_BASE_URL"

CONTEXT_NEAR = 0.75
"""A hang-up is put down to the context window only when the prompt took at least this share of it (or the
prompt plus max_tokens did not fit at all)."""
ASSUMED_WINDOW = 4096
"""The window assumed for that judgement when nobody said (the usual default of llama.cpp servers)."""

TOKEN_MARGIN = 0.25
"""A reply may run this share past the request's max_tokens (at least MIN_TOKEN_MARGIN tokens) before the
server is judged to be ignoring it."""
MIN_TOKEN_MARGIN = 64
DEFAULT_REPLY_TOKENS = 8192
"""The reply size assumed when a request sets no max_tokens."""
MAX_CHARS_PER_TOKEN = 32
"""Characters one token may carry on average (long whitespace runs included) before the reply is too long."""
MAX_TOOL_ARGUMENT_CHARS = 2_100_000
"""One tool call's arguments: a whole file of the edit tools' largest size (2 MB) plus room for the rest."""
SMALL_BODY_BYTES = 4_000_000
"""Bodies of model lists, /props and tokenizer answers."""
ERROR_BODY_BYTES = 65_536
"""What is read of an error answer: enough for its message."""
MAX_CHOICES = 8
"""Samples read from one answer to a request with `n` > 1."""
TEMPLATE_MESSAGE_TOKENS = 5
"""Tokens a chat template adds around each message: ChatML's `<|im_start|>role\n … <|im_end|>\n` (Qwen and most
small models; Llama 3's headers cost about the same)."""
TEMPLATE_REPLY_TOKENS = 3
"""Tokens that open the reply (`<|im_start|>assistant\n`)."""
_COUNTED_TEXTS = 512
"""Texts whose token counts are remembered (a run sends the same messages turn after turn)."""


@dataclass(frozen=True)
class ReplyLimits:
    """What one reply may cost, from the request's max_tokens: `pieces` (output deltas, about one token each
    on every common server), `chars` of output, and `raw_bytes` on the wire (JSON escapes, SSE wrappers,
    keep-alives and all)."""

    max_tokens: int | None
    pieces: int
    chars: int
    raw_bytes: int

    @classmethod
    def for_request(cls, max_tokens: int | None) -> ReplyLimits:
        tokens = max_tokens if max_tokens and max_tokens > 0 else DEFAULT_REPLY_TOKENS
        pieces = tokens + max(MIN_TOKEN_MARGIN, int(tokens * TOKEN_MARGIN))
        chars = max(65_536, pieces * MAX_CHARS_PER_TOKEN)
        # \uXXXX escapes take up to 12 bytes a character; each streamed piece carries ~200-1000 bytes of JSON
        return cls(max_tokens, pieces, chars, chars * 12 + pieces * 1024 + 1_000_000)

    def asked(self) -> str:
        return (
            f"max_tokens {self.max_tokens}"
            if self.max_tokens
            else f"no max_tokens (assumed {DEFAULT_REPLY_TOKENS})"
        )


class _Retryable(Exception):
    """A failure worth another try (connection error, 5xx); carries the final user-facing message."""


class _GrammarRejected(Exception):
    """The server refused the request's `grammar` (not a llama.cpp server): ask again without it."""


class _StreamOptionsRejected(Exception):
    """The server refused `stream_options`; send the request again without it."""


class _TemplateKwargsRejected(Exception):
    """The server refused `chat_template_kwargs` (thinking off; not a llama.cpp or vLLM server): ask without."""


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _not_openai(raw: str | bytes) -> ModelError:
    excerpt = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return ModelError(
        "the model server sent a response that is not OpenAI-compatible JSON: "
        + (repr(_one_line(excerpt, 80)) if excerpt.strip() else "(empty body)")
    )


class _Malformed(Exception):
    """A chunk or body of the wrong shape; `str(exc)` says which part (the caller adds the excerpt)."""


def _malformed(what: str, raw: str | bytes) -> ModelError:
    excerpt = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return ModelError(f"the model server sent a malformed answer ({what}): {_one_line(excerpt, 80)!r}")


def _error_message(raw: bytes) -> str:
    """The server's own words from an error body: OpenAI `{error: {message}}`, Ollama `{error: "..."}`,
    FastAPI `{detail}` (llama-cpp-python), or the raw text."""
    text = raw.decode("utf-8", "replace")
    try:
        obj = json.loads(text)
    except ValueError:
        return _one_line(text) or "(no details)"
    if isinstance(obj, dict):
        err = obj.get("error", obj)
        if isinstance(err, dict):
            err = err.get("message") or err.get("detail") or err
        if isinstance(err, str):
            return _one_line(err)
        if isinstance(obj.get("detail"), str | list):
            return _one_line(str(obj["detail"]))
    return _one_line(text)


def _network_reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no answer within {CONNECT_TIMEOUT:g}s"
    # httpx wraps the OS error ("All connection attempts failed"); the cause chain says what happened.
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "unknown host"
        cause = cause.__cause__ or cause.__context__
    return _one_line(str(exc) or type(exc).__name__, 120)


async def _emit(callback: TokenCallback | None, text: str) -> None:
    if callback is not None and text:
        result = callback(text)
        if inspect.isawaitable(result):
            await result


@dataclass
class _Answer:
    """One answer being assembled, from stream deltas or from a whole body."""

    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    chars: int = 0
    """Characters received so far (content, reasoning, tool arguments): > 0 means output has started."""
    pieces: int = 0
    """Deltas that carried output (about one token each)."""
    done: bool = False
    others: list[_Answer] = field(default_factory=list)
    """The other choices of a whole body (a request with `n` > 1)."""
    temperature: float | None = None
    """The temperature the server says this choice was drawn at (the embedded server's samples)."""

    def add_tool_delta(self, delta: dict[str, Any]) -> None:
        """Raises _Malformed for a delta of the wrong shape, ModelError past MAX_TOOL_ARGUMENT_CHARS."""
        fn = delta.get("function")
        if fn is None:
            fn = {}
        if not isinstance(fn, dict):
            raise _Malformed('"function" is not an object')
        if not isinstance(fn.get("name"), str | None) or not isinstance(
            fn.get("arguments"), str | dict | None
        ):
            raise _Malformed("a tool call's name or arguments is neither text nor an object")
        # Deltas are keyed by index; a few servers omit it, then a new id opens a new call.
        index = delta.get("index")
        if not isinstance(index, int):
            same = [i for i, c in self.calls.items() if delta.get("id") and c["id"] == delta["id"]]
            index = (
                same[0] if same else len(self.calls) if delta.get("id") or not self.calls else max(self.calls)
            )
        slot = self.calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        if delta.get("id"):
            slot["id"] = str(delta["id"])[:200]
        if fn.get("name"):
            slot["name"] += str(fn["name"])
        args = fn.get("arguments")
        if isinstance(args, dict):  # some servers send the object itself
            slot["arguments"] = args
            self.chars += len(json.dumps(args))
        elif isinstance(args, str) and args:
            if isinstance(slot["arguments"], dict):
                slot["arguments"] = ""
            slot["arguments"] += args
            self.chars += len(args)
        size = (
            len(slot["arguments"])
            if isinstance(slot["arguments"], str)
            else len(json.dumps(slot["arguments"]))
        )
        if size + len(slot["name"]) > MAX_TOOL_ARGUMENT_CHARS:
            raise ModelError(
                f"the model server sent a tool call whose arguments passed {MAX_TOOL_ARGUMENT_CHARS} characters; "
                "stopped reading the reply"
            )

    def response(self) -> ChatResponse:
        calls = [
            NativeToolCall(id=c["id"], name=c["name"], arguments=c["arguments"])
            for _, c in sorted(self.calls.items())
            if c["name"] or c["arguments"]
        ]
        return ChatResponse(
            content="".join(self.content),
            reasoning="".join(self.reasoning),
            tool_calls=calls,
            usage=self.usage or Usage(),
            finish_reason=self.finish_reason,
            model=self.model,
            others=[other.response() for other in self.others],
            temperature=self.temperature,
        )


def _choice_message(choice: Any) -> dict[str, Any]:
    """A choice's message; TypeError or KeyError when the choice has none."""
    message = choice["message"]
    if not isinstance(message, dict):
        raise TypeError
    return message


def _usage(obj: Any) -> Usage | None:
    if not isinstance(obj, dict):
        return None
    try:
        prompt = int(obj.get("prompt_tokens") or 0)
        completion = int(obj.get("completion_tokens") or 0)
        total = int(obj.get("total_tokens") or prompt + completion)
    except (TypeError, ValueError, OverflowError):
        return None
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


class ChatClient:
    """Async client for an OpenAI-compatible `/v1` endpoint; use `async with` or call `aclose()`."""

    def __init__(
        self,
        base_url: str,
        model: str | None,
        api_key: str | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        backoff: float = 0.5,
        *,
        diagnose: Diagnose | None = None,
        context_window: int | None = None,
        counter: TokenCounter | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ModelError(
                f"the model server URL {base_url!r} is not an http(s) URL; "
                "set SMALLCODE_BASE_URL like http://localhost:1234/v1"
            )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # uncompressed: the byte bounds then count what the server sends, and no gzip bomb gets past them
        headers["Accept-Encoding"] = "identity"
        self._http = httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout))
        )
        self._stream_options = True
        """False once the server has refused `stream_options` (then usage comes only if it sends it anyway)."""
        self._tokenizer: tuple[str, str] | None = None
        self._no_tokenizer = False
        self._counted: dict[str, int] = {}
        self._grammar_rejected = False
        self._template_kwargs_rejected = False
        self.diagnose = diagnose
        self.context_window = context_window
        """The server's window in tokens when known: only for judging a hang-up (see _hangup_hint)."""
        self.counter = counter or TokenCounter()
        self._request_size: tuple[int, int] | None = None
        """(estimated prompt tokens, max_tokens) of the chat request in flight."""

    def __repr__(self) -> str:  # never shows the API key
        return f"ChatClient(base_url={self.base_url!r}, model={self.model!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # models -----------------------------------------------------------------------------------------
    async def list_models(self) -> list[str]:
        """Model ids from GET /models; [] when the server has no such endpoint."""
        return await self._models(retries=self.retries) or []

    async def check(self) -> list[str]:
        """Make sure the server answers and knows `self.model` (adopting one if none is set).

        Returns the models the server lists ([] when it cannot list them). Fails fast: a server that is
        down at start stays down for the next few seconds, so there is no retry here.
        """
        models = await self._models(retries=0)
        if not models:
            return []
        if self.model is None:
            # LM Studio lists embedding models too; never pick one of those for chat.
            chat_models = [m for m in models if "embed" not in m.lower()] or models
            self.model = chat_models[0]
            return models
        if self._known(self.model, models):
            return models
        shown = ", ".join(models[:10]) + (f" (and {len(models) - 10} more)" if len(models) > 10 else "")
        raise ModelError(
            f"the model server at {self.base_url} has no model {self.model!r}; it has: {shown} "
            "— set SMALLCODE_MODEL or --model to one of them"
        )

    async def server_context(self) -> int | None:
        """The context window the server runs the model with, when it says: llama-server's /props
        (`default_generation_settings.n_ctx`), else the model's entry in /models (vLLM `max_model_len`,
        LM Studio / OpenRouter `context_length` / `max_context_length`). None when it doesn't."""
        root = self.base_url.removesuffix("/v1")
        for url in (f"{root}/props", f"{self.base_url}/models"):
            try:
                response = await self._small("GET", url)
                data = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError, RecursionError, ModelError):
                continue
            found = _context_from(data, self.model)
            if found:
                return found
        return None

    @staticmethod
    def _known(model: str, models: list[str]) -> bool:
        wanted = model.lower()
        names = {m.lower() for m in models}
        # Ollama accepts "name" for "name:latest".
        return wanted in names or f"{wanted}:latest" in names

    async def _models(self, retries: int) -> list[str] | None:
        url = f"{self.base_url}/models"
        response = await self._send(lambda: self._small("GET", url), retries)
        if response.status_code == 404:  # older Ollama and some proxies have no /models: not fatal
            return None
        if response.status_code >= 400:
            raise self._http_error(response.status_code, response.content, url)
        try:
            body = response.json()
            ids = [str(m["id"]) for m in body["data"]]
        except (ValueError, KeyError, TypeError, RecursionError):
            raise _not_openai(response.content) from None
        return ids

    async def _small(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request whose answer is read only up to SMALL_BODY_BYTES (ModelError beyond)."""
        async with self._http.stream(method, url, **kwargs) as response:
            data = await _read_capped(response, SMALL_BODY_BYTES)
        return httpx.Response(
            response.status_code,
            headers={"content-type": response.headers.get("content-type", "")},
            content=data,
            request=response.request,
        )

    async def _send(self, request: Callable[[], Awaitable[httpx.Response]], retries: int) -> httpx.Response:
        """A plain (non-streamed) request with the retry policy."""
        for attempt in range(retries + 1):
            try:
                try:
                    response = await request()
                except httpx.TimeoutException as exc:
                    if isinstance(exc, httpx.ConnectTimeout):
                        raise _Retryable(self._down(exc)) from None
                    raise ModelError(self._stalled()) from None
                except httpx.HTTPError as exc:
                    await self._raise_if_dead()
                    raise _Retryable(self._down(exc)) from None
                if response.status_code >= 500:
                    raise _Retryable(self._http_error(response.status_code, response.content).args[0])
                return response
            except _Retryable as exc:
                if attempt >= retries:
                    raise ModelError(str(exc)) from None
                await self._wait(attempt, str(exc))
        raise AssertionError("unreachable")

    # chat -------------------------------------------------------------------------------------------
    async def chat(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stream: bool = True,
        on_token: TokenCallback | None = None,
        on_reasoning: TokenCallback | None = None,
        extra: dict[str, Any] | None = None,
        model: str | None = None,
    ) -> ChatResponse:
        """One chat completion. Streamed: `on_token` / `on_reasoning` get each piece as it arrives.
        `model`: another model on the same server for this request (adaptive routing)."""
        body: dict[str, Any] = {"messages": messages, "stream": stream}
        if model or self.model:
            body["model"] = model or self.model
        if tools:
            body["tools"] = tools
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if stream and self._stream_options:
            body["stream_options"] = {"include_usage": True}
        if extra:
            body.update(extra)
        if self._grammar_rejected:
            body.pop("grammar", None)
        if self._template_kwargs_rejected:
            body.pop("chat_template_kwargs", None)
        self._request_size = (
            self.counter.count_messages(messages)
            + (self.counter.estimate(json.dumps(tools)) if tools else 0),
            max_tokens or 0,
        )

        attempt = 0
        while True:
            answer = _Answer()
            try:
                await self._chat_once(body, answer, on_token, on_reasoning)
                response = answer.response()
                if not response.usage.total_tokens:  # llama-cpp-python streams no usage: count it exactly
                    text = response.content + response.reasoning
                    response.usage = await self.usage_of(messages, text) or response.usage
                return response
            except _GrammarRejected:
                log.info("model server refuses a grammar; asking again without it")
                self._grammar_rejected = True
                body.pop("grammar", None)
            except _StreamOptionsRejected:
                log.info("model server refuses stream_options; asking again without it")
                self._stream_options = False
                body.pop("stream_options", None)
            except _TemplateKwargsRejected:
                log.warning(
                    "the model server takes no chat_template_kwargs: thinking cannot be turned off there"
                )
                self._template_kwargs_rejected = True
                body.pop("chat_template_kwargs", None)
            except _Retryable as exc:
                if answer.chars:
                    raise ModelError(self._broke_off(answer, self._hangup_hint())) from None
                if attempt >= self.retries:
                    raise ModelError(str(exc)) from None
                await self._wait(attempt, str(exc))
                attempt += 1

    async def _chat_once(
        self,
        body: dict[str, Any],
        answer: _Answer,
        on_token: TokenCallback | None,
        on_reasoning: TokenCallback | None,
    ) -> None:
        url = f"{self.base_url}/chat/completions"
        samples: int = body["n"] if isinstance(body.get("n"), int) else 1
        tokens: int | None = body.get("max_tokens")
        # n samples come in one body: its size is capped for all of them.
        limits = ReplyLimits.for_request(tokens * min(max(samples, 1), MAX_CHOICES) if tokens else None)
        # Samples decoded together come in one piece, after all of them: each makes the wait longer.
        timeout = httpx.Timeout(self.timeout * samples, connect=min(CONNECT_TIMEOUT, self.timeout))
        try:
            async with self._http.stream("POST", url, json=body, timeout=timeout) as response:
                if response.status_code >= 400:
                    raw = await _read_capped(response, ERROR_BODY_BYTES, cut=True)
                    self._raise_for_chat(response.status_code, raw, body)
                kind = response.headers.get("content-type", "")
                if body.get("stream") and "text/event-stream" in kind:
                    await self._read_stream(response, answer, on_token, on_reasoning, limits)
                else:  # not streamed, or a server that ignores `stream` and answers in one piece
                    self._read_whole(await _read_capped(response, limits.raw_bytes, limits=limits), answer)
                    if sum(map(len, answer.content + answer.reasoning)) > limits.chars:
                        raise ModelError(self._too_long(f"more than {limits.chars} characters", limits))
                    await _emit(on_reasoning, "".join(answer.reasoning))
                    await _emit(on_token, "".join(answer.content))
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise _Retryable(self._down(exc)) from None
            message = self._stalled(timeout.read)
            if answer.chars:
                message += f" (mid-answer, after {answer.chars} characters)"
            raise ModelError(message) from None
        except httpx.HTTPError as exc:
            await self._raise_if_dead()
            if answer.chars:
                raise ModelError(self._broke_off(answer, self._hangup_hint())) from None
            # Dropped before any output (e.g. the server restarted): as good as a connection error.
            raise _Retryable(self._down(exc)) from None
        if not answer.done and answer.finish_reason is None:
            await self._raise_if_dead()
            raise _Retryable(self._broke_off(answer, self._hangup_hint()))

    async def _read_stream(
        self,
        response: httpx.Response,
        answer: _Answer,
        on_token: TokenCallback | None,
        on_reasoning: TokenCallback | None,
        limits: ReplyLimits,
    ) -> None:
        # SSE: OpenAI-compatible servers put one JSON object on each `data:` line; comments (`:`),
        # `event:`/`id:` fields and blank separators carry nothing we need.
        async for line in self._sse_lines(response, answer, limits):
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if not payload:
                continue
            if payload == "[DONE]":
                answer.done = True
                return
            try:
                chunk = json.loads(payload)
            except (ValueError, RecursionError):
                raise _not_openai(payload) from None
            if not isinstance(chunk, dict):
                raise _not_openai(payload)
            if chunk.get("error"):
                raise ModelError(f"the model server reported an error: {_error_message(payload.encode())}")
            try:
                await self._add_chunk(chunk, answer, on_token, on_reasoning, limits)
            except _Malformed as exc:
                raise _malformed(str(exc), payload) from None

    async def _add_chunk(
        self,
        chunk: dict[str, Any],
        answer: _Answer,
        on_token: TokenCallback | None,
        on_reasoning: TokenCallback | None,
        limits: ReplyLimits,
    ) -> None:
        if isinstance(chunk.get("model"), str):
            answer.model = chunk["model"][:200]
        answer.usage = _usage(chunk.get("usage")) or answer.usage
        choices = chunk.get("choices")
        if choices is None:
            choices = []
        if not isinstance(choices, list):
            raise _Malformed('"choices" is not a list')
        for choice in choices:
            if not isinstance(choice, dict):
                raise _Malformed("a choice is not an object")
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            if not isinstance(delta, dict):
                raise _Malformed('"delta" is not an object')
            calls = delta.get("tool_calls") or []
            if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
                raise _Malformed('"tool_calls" is not a list of objects')
            before = answer.chars
            thought = delta.get("reasoning_content") or delta.get("reasoning")
            text = delta.get("content")
            texts = [p for p in (thought, text) if isinstance(p, str) and p]
            if texts and answer.pieces >= limits.pieces:  # checked before anything more is shown
                raise ModelError(self._too_long(f"more than {limits.pieces} tokens", limits))
            if answer.chars + sum(map(len, texts)) > limits.chars:
                raise ModelError(self._too_long(f"more than {limits.chars} characters", limits))
            if isinstance(thought, str) and thought:
                answer.reasoning.append(thought)
                answer.chars += len(thought)
                await _emit(on_reasoning, thought)
            if isinstance(text, str) and text:
                answer.content.append(text)
                answer.chars += len(text)
                await _emit(on_token, text)
            for call in calls:
                answer.add_tool_delta(call)
            if answer.chars > before:
                answer.pieces += 1
                if answer.pieces > limits.pieces:
                    raise ModelError(self._too_long(f"more than {limits.pieces} tokens", limits))
                if answer.chars > limits.chars:
                    raise ModelError(self._too_long(f"more than {limits.chars} characters", limits))
            if choice.get("finish_reason"):
                answer.finish_reason = str(choice["finish_reason"])[:100]

    async def _sse_lines(
        self, response: httpx.Response, answer: _Answer, limits: ReplyLimits
    ) -> AsyncIterator[str]:
        """The stream's lines, bounded: at most `limits.raw_bytes` in all, and no more than `timeout` seconds
        of bytes that add nothing to the answer (keep-alives, a line that never ends, empty deltas)."""
        pending = bytearray()
        total = 0
        progress_at, chars = time.monotonic(), answer.chars
        async for data in response.aiter_bytes():
            total += len(data)
            if total > limits.raw_bytes:
                raise ModelError(
                    self._too_long(f"more than {limits.raw_bytes // 1_000_000} MB without finishing", limits)
                )
            pending += data
            if b"\n" in data:  # (a long line is not split again at every piece: no copies of it)
                *lines, rest = pending.split(b"\n")
                pending = bytearray(rest)
                for raw in lines:
                    yield raw.rstrip(b"\r").decode("utf-8", "replace")
            now = time.monotonic()
            if answer.chars > chars:
                progress_at, chars = now, answer.chars
            elif now - progress_at > self.timeout:
                raise ModelError(
                    f"the model server sent {total} bytes but no answer for {self.timeout:g}s "
                    "(keep-alives or a line that never ends); gave up"
                )
        if pending.strip():
            yield pending.rstrip(b"\r").decode("utf-8", "replace")

    def _read_whole(self, raw: bytes, answer: _Answer) -> None:
        obj = _try_json(raw)
        try:
            choices = obj["choices"]
            _choice_message(choices[0])
        except (KeyError, IndexError, TypeError):
            if isinstance(obj, dict) and obj.get("error"):
                raise ModelError(f"the model server reported an error: {_error_message(raw)}") from None
            raise _not_openai(raw) from None
        self._read_choice(choices[0], raw, answer)
        answer.usage = _usage(obj.get("usage"))
        answer.model = obj["model"][:200] if isinstance(obj.get("model"), str) else None
        answer.done = True
        for extra in choices[1 : 1 + MAX_CHOICES] if isinstance(choices, list) else []:  # asked with n > 1
            other = _Answer()
            try:
                _choice_message(extra)
            except (KeyError, TypeError):
                continue  # a choice without a message is no sample: the others still count
            self._read_choice(extra, raw, other)
            answer.others.append(other)

    def _read_choice(self, choice: dict[str, Any], raw: bytes, answer: _Answer) -> None:
        message = choice["message"]
        content = message.get("content")
        if isinstance(content, str):
            answer.content.append(content)
        thought = message.get("reasoning_content") or message.get("reasoning")
        if isinstance(thought, str):
            answer.reasoning.append(thought)
        calls = message.get("tool_calls") or []
        try:
            if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
                raise _Malformed('"tool_calls" is not a list of objects')
            for i, call in enumerate(calls):
                answer.add_tool_delta({**call, "index": i})
        except _Malformed as exc:
            raise _malformed(str(exc), raw) from None
        answer.finish_reason = str(choice.get("finish_reason") or "stop")[:100]
        drawn_at = choice.get("temperature")
        if isinstance(drawn_at, int | float) and not isinstance(drawn_at, bool):
            answer.temperature = float(drawn_at)

    # token counting ---------------------------------------------------------------------------------
    async def usage_of(self, messages: list[Message], reply: str) -> Usage | None:
        """A request's usage by the server's own tokenizer, for a server that did not report it: each message's
        text plus the chat template's tokens around it, and the reply. None when the server cannot tokenize."""
        prompt = TEMPLATE_REPLY_TOKENS
        for message in messages:
            count = await self._count_cached(message_text(message))
            if count is None:
                return None
            prompt += count + TEMPLATE_MESSAGE_TOKENS
        completion = await self._count_cached(reply)
        if completion is None:
            return None
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)

    async def _count_cached(self, text: str) -> int | None:
        if not text:
            return 0
        if text not in self._counted:
            count = await self.count_tokens(text)
            if count is None:
                return None
            if len(self._counted) >= _COUNTED_TEXTS:
                self._counted.clear()
            self._counted[text] = count
        return self._counted[text]

    async def count_tokens(self, text: str) -> int | None:
        """Tokens in `text` by the server's own tokenizer, or None when it has none (remembered)."""
        if self._no_tokenizer:
            return None
        root = self.base_url.removesuffix("/v1")
        candidates = (
            [self._tokenizer]
            if self._tokenizer
            else [
                (f"{root}/tokenize", "content"),  # llama.cpp llama-server
                (f"{root}/extras/tokenize", "input"),  # llama-cpp-python
            ]
        )
        for url, key in candidates:
            try:
                response = await self._small("POST", url, json={key: text})
                tokens = response.json()["tokens"] if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError, KeyError, TypeError, RecursionError, ModelError):
                tokens = None
            if isinstance(tokens, list):
                self._tokenizer = (url, key)
                return len(tokens)
        if self._tokenizer is None:
            self._no_tokenizer = True
        return None

    async def takes_grammar(self) -> bool:
        """Whether the server is a llama.cpp server (llama-server, llama-cpp-python), which constrain
        sampling by a GBNF `grammar` in the request: they are the ones with llama.cpp's tokenize endpoint."""
        if self._grammar_rejected:
            return False
        if self._tokenizer is None and not self._no_tokenizer:
            await self.count_tokens("x")
        return self._tokenizer is not None

    # messages ---------------------------------------------------------------------------------------
    def _raise_for_chat(self, status: int, raw: bytes, body: dict[str, Any]) -> None:
        message = _error_message(raw)
        if status in (400, 422) and "stream_options" in body and "stream_options" in message:
            raise _StreamOptionsRejected
        if status in (400, 422) and "grammar" in body and "grammar" in message.lower():
            raise _GrammarRejected
        if status in (400, 422) and "chat_template_kwargs" in body and "chat_template_kwargs" in message:
            raise _TemplateKwargsRejected
        if status >= 500:
            raise _Retryable(self._http_error(status, raw).args[0])
        model = body.get("model")
        if status == 404 and model and (model in message or "model" in message.lower()):
            raise ModelError(
                f"the model server has no model {model!r} (HTTP 404: {message}) "
                "— set SMALLCODE_MODEL or --model to one it serves"
            )
        raise self._http_error(status, raw, f"{self.base_url}/chat/completions")

    def _http_error(self, status: int, raw: bytes, url: str | None = None) -> ModelError:
        message = _error_message(raw)
        if status in (401, 403):
            return ModelError(
                f"the model server refused the request (HTTP {status}: {message}) — check SMALLCODE_API_KEY"
            )
        if status == 404 and url:
            return ModelError(
                f"the model server has no {url} (HTTP 404: {message}) "
                "— check SMALLCODE_BASE_URL (it usually ends in /v1)"
            )
        if status >= 500:
            return ModelError(f"the model server failed (HTTP {status}: {message})")
        return ModelError(f"the model server rejected the request (HTTP {status}: {message})")

    async def _raise_if_dead(self) -> None:
        """A connection failed: when the server process is known to have died, say why, and stop here."""
        if self.diagnose is None:
            return
        try:
            reason = await self.diagnose()
        except Exception as exc:  # the diagnosis is a bonus: never let it hide the connection error
            log.debug("could not ask the model server how it ended: %s", exc)
            return
        if reason:
            raise ModelError(reason)

    def _down(self, exc: httpx.HTTPError) -> str:
        if isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError):
            # Connected, then the server hung up without an answer: llama-cpp-python does this when the
            # prompt exceeds its context window, and any server does it when it crashes.
            return f"the model server at {self.base_url} closed the connection without answering{self._hangup_hint()}"
        return f"cannot reach the model server at {self.base_url}: {_network_reason(exc)} — {_DOWN_HINT}"

    def _hangup_hint(self) -> str:
        return hangup_hint(self._request_size, self.context_window)

    @staticmethod
    def _too_long(what: str, limits: ReplyLimits) -> str:
        return (
            f"the model server sent {what} for a reply with {limits.asked()}; stopped reading it "
            "(a server that ignores max_tokens, or one gone wrong)"
        )

    def _stalled(self, waited: float | None = None) -> str:
        return f"the model server stopped answering after {waited or self.timeout:g}s"

    @staticmethod
    def _broke_off(answer: _Answer, hint: str = "") -> str:
        if not answer.chars:
            return f"the model server broke off before answering{hint}"
        return f"the model server broke off mid-answer after {answer.chars} characters"

    async def _wait(self, attempt: int, why: str) -> None:
        delay = self.backoff * (2**attempt)
        log.warning("%s; retrying in %.1fs (%d/%d)", why, delay, attempt + 1, self.retries)
        await asyncio.sleep(delay)


def hangup_hint(request: tuple[int, int] | None, window: int | None) -> str:
    """What to add to "the server hung up without answering": the context window, but only when the request
    filled most of it (estimated prompt tokens >= CONTEXT_NEAR of the window, or prompt + max_tokens beyond
    it); otherwise a pointer to the server's log, where a crash or a refusal would show."""
    if request is not None:
        prompt, max_tokens = request
        size = window or ASSUMED_WINDOW
        if prompt >= CONTEXT_NEAR * size or prompt + max_tokens > size:
            said = f"its {size}-token context window" if window else "its context window"
            reply = f", plus {max_tokens} for the reply" if max_tokens else ""
            return (
                f" — the prompt (about {prompt} tokens{reply}) may exceed {said}: "
                "set SMALLCODE_CONTEXT to the server's context size"
            )
    return " — the server's log may say why"


async def _read_capped(
    response: httpx.Response, cap: int, *, cut: bool = False, limits: ReplyLimits | None = None
) -> bytes:
    """A response body of at most `cap` bytes: beyond that, the first `cap` bytes when `cut`, else a
    ModelError (the connection is closed without reading the rest)."""
    body = bytearray()
    async for data in response.aiter_bytes():
        body += data
        if len(body) > cap:
            if cut:
                return bytes(body[:cap])
            if limits is not None:
                raise ModelError(ChatClient._too_long(f"more than {cap // 1_000_000} MB", limits))
            raise ModelError(
                f"the model server sent an answer larger than {cap // 1_000_000} MB; stopped reading it"
            )
    return bytes(body)


def _try_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _context_from(data: Any, model: str | None) -> int | None:
    if not isinstance(data, dict):
        return None
    settings = data.get("default_generation_settings")
    if isinstance(settings, dict) and isinstance(settings.get("n_ctx"), int):
        return int(settings["n_ctx"])
    entries = data.get("data")
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if not isinstance(entry, dict) or (
            model and entry.get("id") not in (model, None) and len(entries) > 1
        ):
            continue
        for key in ("max_model_len", "context_length", "max_context_length"):
            value = entry.get(key)
            if isinstance(value, int) and value > 0:
                return value
    return None
