"""Several samples of one chat prompt in one batch: `n` > 1 for the embedded llama-cpp-python server.

llama-cpp-python's server answers one choice whatever `n` says. A small model's best chance at a task is often
another sample of the same prompt (the checks pick the one that passes), and asked one at a time each sample is
a request of its own: the server reports the whole prompt again each time, and on a 2-core CPU the samples are
decoded one after another. Here the prompt is evaluated once (or taken from the server's cache), its KV cells
are shared by up to MAX_SAMPLES sequences, and the samples are decoded together, one batch a step: on the
bench machine four samples took 2.7 times as long as one (128 ms a step against 48), and usage counts the
prompt once. Each sequence has its own sampler, built as the server builds one for a single answer (the same
penalties, top-k, top-p, min-p and temperature), seeded apart. A request may give each sample its own
temperature (`temperatures`, an extension: the first greedy, the others hot, so a run's first request brings
its greedy answer and its fresh samples at once); each choice says the temperature it was drawn at. Another
extension, `until_file_written`, ends each sample once it has written the one file the agent is changing, as
the agent cuts a streamed reply there: what a small model writes after the file is an explanation nobody reads
(a quarter of the samples' text in the bench's traces).

`install()` runs in the server's process before it starts (agent_core/llm/embedded.py): it sizes the context
for MAX_SAMPLES sequences with one shared (unified) KV cache, so a single answer has the whole window as
before, and puts an ASGI middleware in front of the app that answers a non-streamed chat completion with
`n` > 1 and no tools, grammar or response format. Anything else goes to the server as it is (a streamed
request with `n` > 1 gets one choice, as it always did).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from functools import partial
from typing import Any

MAX_SAMPLES = 4
"""Sequences the context is made for: more samples than this in one request are answered with this many."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_NOT_BATCHED = (
    "tools",
    "functions",
    "tool_choice",
    "function_call",
    "response_format",
    "grammar",
    "logprobs",
)


class Unsupported(Exception):
    """This model or request cannot be sampled in a batch here: the server answers it as usual."""


class BadRequest(Exception):
    """A request to refuse with a 400 and this message."""


class ClientGone(Exception):
    """The client hung up (it timed out, or the user stopped the run): the samples are not finished."""


def install() -> None:
    """Before `llama_cpp.server` starts, in its process: contexts for MAX_SAMPLES sequences, the middleware."""
    import llama_cpp.llama_cpp as low
    import llama_cpp.server.app as server_app

    default_params = low.llama_context_default_params

    def context_params() -> Any:
        params = default_params()
        params.n_seq_max = MAX_SAMPLES
        params.kv_unified = (
            True  # one cache of n_ctx cells for all sequences: a single answer keeps all of it
        )
        return params

    low.llama_context_default_params = context_params
    create_app = server_app.create_app

    def create_app_with_samples(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)
        app.add_middleware(SamplesMiddleware)
        return app

    server_app.create_app = create_app_with_samples


class SamplesMiddleware:
    """Answers `POST …/chat/completions` with `n` > 1 itself; passes everything else to the server."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].endswith("/chat/completions")
        ):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        request = _batched_request(body)
        if request is None:
            await self.app(scope, _replay(body, receive), send)
            return
        gone = threading.Event()
        watch = asyncio.ensure_future(_until_disconnect(receive, gone))
        try:
            answer = await _answer(request, gone)
        except ClientGone:
            return  # nobody to answer; the model is free for the next request at once
        except BadRequest as exc:
            await _send_json(send, 400, {"error": {"message": str(exc), "type": "invalid_request_error"}})
            return
        except Unsupported:
            watch.cancel()
            await self.app(scope, _replay(body, receive), send)
            return
        finally:
            watch.cancel()
        await _send_json(send, 200, answer)


async def _until_disconnect(receive: Receive, gone: threading.Event) -> None:
    """Sets `gone` when the client disconnects (the body has been read: what comes next is the hang-up)."""
    with contextlib.suppress(Exception):  # a connection that cannot say: the samples are finished as asked
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()


def _batched_request(body: bytes) -> dict[str, Any] | None:
    """The request when it is one for several samples this middleware answers, else None."""
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(request, dict):
        return None
    n = request.get("n")
    if (
        not isinstance(n, int)
        or isinstance(n, bool)
        or n < 2
        or not isinstance(request.get("messages"), list)
    ):
        return None
    if request.get("stream") or any(request.get(key) for key in _NOT_BATCHED):
        return None  # the server answers it as before (one choice)
    return request


async def _answer(request: dict[str, Any], gone: threading.Event) -> dict[str, Any]:
    import anyio
    import llama_cpp.server.app as server_app

    # The server's own locks: one request at a time uses the model.
    async with contextlib.asynccontextmanager(server_app.get_llama_proxy)() as proxy:
        llama = proxy(request.get("model"))
        return await anyio.to_thread.run_sync(partial(sample_chat, llama, request, gone))


def sample_chat(llama: Any, request: dict[str, Any], gone: threading.Event | None = None) -> dict[str, Any]:
    """An OpenAI chat completion with min(n, MAX_SAMPLES) choices for `request`, sampled in one batch;
    ClientGone when `gone` is set before they are done."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    n = min(int(request["n"]), MAX_SAMPLES, int(llama.context_params.n_seq_max))
    template = llama.metadata.get("tokenizer.chat_template")
    if (
        n < 2
        or llama.chat_handler is not None
        or llama.chat_format != "chat_template.default"
        or not template
    ):
        raise Unsupported  # another prompt format than the model's own template: the server's path knows it
    eos, bos = llama.token_eos(), llama.token_bos()
    formatter = Jinja2ChatFormatter(
        template=template,
        eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )
    try:
        formatted = formatter(messages=request["messages"])
    except Exception as exc:  # the template's own error (a message it cannot render)
        raise BadRequest(f"the chat template cannot render these messages: {exc}") from None
    tokens = llama.tokenize(
        formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True
    )
    stops = _stops(request.get("stop"), formatted.stop)
    room = (llama.n_ctx() - len(tokens)) // n
    if room < 1:
        raise BadRequest(
            f"the prompt ({len(tokens)} tokens) leaves no room for {n} samples in the {llama.n_ctx()}-token window"
        )
    asked = request.get("max_tokens")
    limit = min(room, asked) if isinstance(asked, int) and asked > 0 else room
    temperatures = sample_temperatures(request, n)
    complete = file_written(request.get("until_file_written"))
    outputs, reasons = _sample(
        llama, tokens, limit, stops, request, temperatures, gone or threading.Event(), complete
    )
    completion = sum(len(o) for o in outputs)
    texts = [_cut(llama.detokenize(o).decode("utf-8", "replace"), stops) for o in outputs]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model") or "",
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": text},
                "finish_reason": reasons[i],
                "temperature": temperatures[i],
            }
            for i, text in enumerate(texts)
        ],
        "usage": {
            "prompt_tokens": len(tokens),
            "completion_tokens": completion,
            "total_tokens": len(tokens) + completion,
        },
    }


def _sample(
    llama: Any,
    tokens: list[int],
    limit: int,
    stops: list[str],
    request: dict[str, Any],
    temperatures: list[float],
    gone: threading.Event,
    complete: Callable[[str], bool] | None = None,
) -> tuple[list[list[int]], list[str]]:
    """Decode a continuation of `tokens` per temperature, together; a sample ends early where `complete`
    says its text (at the end of a line) is all that is needed. The context is left holding the prompt alone
    (as after a single answer, so the next request reuses it)."""
    import llama_cpp.llama_cpp as low

    n = len(temperatures)

    ctx = llama._ctx.ctx
    memory = low.llama_get_memory(ctx)
    vocab = low.llama_model_get_vocab(llama._model.model)
    cached = list(llama.input_ids[: llama.n_tokens])
    common = 0
    for have, want in zip(cached, tokens, strict=False):
        if have != want:
            break
        common += 1
    llama.n_tokens = min(
        common, len(tokens) - 1
    )  # at least one token is evaluated: its logits start all samples
    llama.eval(tokens[llama.n_tokens :])
    n_past = len(tokens)
    samplers = _samplers(llama, request, temperatures)
    batch = low.llama_batch_init(n, 0, 1)
    outputs: list[list[int]] = [[] for _ in range(n)]
    reasons = ["length"] * n
    try:
        current = [sampler.sample(llama._ctx, -1) for sampler in samplers]
        for seq in range(1, n):
            low.llama_memory_seq_cp(memory, 0, seq, -1, -1)
        active = list(range(n))
        while active:
            going = []
            for seq in active:
                if low.llama_vocab_is_eog(vocab, current[seq]):
                    reasons[seq] = "stop"
                    continue
                outputs[seq].append(current[seq])
                stopped = stops and _stopped(llama, outputs[seq], stops)
                if stopped or (complete is not None and _completed(llama, outputs[seq], complete)):
                    reasons[seq] = "stop"
                elif len(outputs[seq]) < limit:
                    going.append(seq)
            active = going
            if not active:
                break
            if gone.is_set():
                raise ClientGone
            batch.n_tokens = 0
            for row, seq in enumerate(active):
                batch.token[row] = current[seq]
                batch.pos[row] = n_past + len(outputs[seq]) - 1
                batch.n_seq_id[row] = 1
                batch.seq_id[row][0] = seq
                batch.logits[row] = 1
                batch.n_tokens += 1
            if low.llama_decode(ctx, batch) != 0:
                raise BadRequest("the model could not decode the samples (the window is full)")
            for row, seq in enumerate(active):
                current[seq] = samplers[seq].sample(llama._ctx, row)
    finally:
        low.llama_batch_free(batch)
        for sampler in samplers:
            sampler.close()
        for seq in range(1, n):
            low.llama_memory_seq_rm(memory, seq, -1, -1)
        low.llama_memory_seq_rm(memory, 0, n_past, -1)
        llama.n_tokens = n_past
        llama._requires_eval = True  # the context's logits are a sample's now, not the prompt's last token's
    return outputs, reasons


def sample_temperatures(request: dict[str, Any], n: int) -> list[float]:
    """Each sample's temperature: `temperatures[i]` where the request gives a number there, else its
    `temperature` (the server's default 0.8 when it gives none)."""
    default = _number(request, "temperature", 0.8, float)
    given = request.get("temperatures")
    given = given if isinstance(given, list) else []
    return [
        float(t)
        if i < len(given) and isinstance(t := given[i], int | float) and not isinstance(t, bool)
        else default
        for i in range(n)
    ]


def _samplers(llama: Any, request: dict[str, Any], temperatures: list[float]) -> list[Any]:
    """One sampler per sequence (one per temperature), as the server builds one for a single answer (its
    defaults too), each seeded apart: from the request's seed when given (seed, seed + 1, …), else at random."""
    seed = request.get("seed")
    first = seed if isinstance(seed, int) and not isinstance(seed, bool) else random.randrange(2**31)
    own_seed = llama._seed
    samplers = []
    try:
        for i, temperature in enumerate(temperatures):
            llama._seed = (first + i) % 2**32
            samplers.append(
                llama._init_sampler(
                    top_k=_number(request, "top_k", 40, int),
                    top_p=_number(request, "top_p", 0.95, float),
                    min_p=_number(request, "min_p", 0.05, float),
                    typical_p=_number(request, "typical_p", 1.0, float),
                    temp=temperature,
                    repeat_penalty=_number(request, "repeat_penalty", 1.1, float),
                    frequency_penalty=_number(request, "frequency_penalty", 0.0, float),
                    presence_penalty=_number(request, "presence_penalty", 0.0, float),
                )
            )
    finally:
        llama._seed = own_seed
    return samplers


def _number(request: dict[str, Any], key: str, default: float, kind: type) -> Any:
    value = request.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return kind(default)
    return kind(value)


def _stops(asked: Any, template_stop: Any) -> list[str]:
    stops = [asked] if isinstance(asked, str) else [s for s in asked or [] if isinstance(s, str)]
    extra = [template_stop] if isinstance(template_stop, str) else list(template_stop or [])
    return [s for s in stops + extra if s]


def _stopped(llama: Any, output: list[int], stops: list[str]) -> bool:
    tail = llama.detokenize(output[-32:]).decode("utf-8", "replace")
    return any(stop in tail for stop in stops)


def until_file_written(path: str, files: Iterable[str], current: str | None) -> dict[str, Any]:
    """The `until_file_written` value for a batch whose samples are to end once they have written `path`
    (its present text `current`, None for a new file) among the files in play."""
    return {"path": path, "files": sorted(files), "current": current}


def file_written(asked: Any) -> Callable[[str], bool] | None:
    """The test for the `until_file_written` extension, {"path": P, "files": [...], "current": TEXT or
    null}: a sample is complete once it has written P whole (agent_core.patch.whole.closes_whole_file, the
    test that ends a streamed reply). None when not asked; BadRequest when malformed."""
    if asked is None:
        return None
    fields = asked if isinstance(asked, dict) else {}
    path, files, current = fields.get("path"), fields.get("files"), fields.get("current")
    if (
        not isinstance(path, str)
        or not isinstance(files, list)
        or not all(isinstance(f, str) for f in files)
        or not isinstance(current, str | None)
    ):
        raise BadRequest(
            'until_file_written must be {"path": string, "files": [string, ...], "current": string or null}'
        )
    from agent_core.patch.whole import closes_whole_file

    known = {*files, path}
    return lambda text: closes_whole_file(text, known, path, current)


def _completed(llama: Any, output: list[int], complete: Callable[[str], bool]) -> bool:
    """Whether the sample's last token ended a line after which `complete` says the sample is done."""
    if b"\n" not in llama.detokenize(output[-1:]):
        return False
    return complete(llama.detokenize(output).decode("utf-8", "replace"))


def _cut(text: str, stops: list[str]) -> str:
    at = min((i for i in (text.find(s) for s in stops) if i != -1), default=-1)
    return text if at == -1 else text[:at]


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the already-read body once, then whatever the connection says (a disconnect)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _send_json(send: Send, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
