"""Fill-in-the-middle completion: the code between a prefix and a suffix, from /v1/completions.

The prompt layout depends on the model family (matched on the model name); other models get `suffix` as a
request field, which llama.cpp and vLLM understand. The endpoint is checked like the chat client's
(agent_core.safety.endpoints): every request, to the address it resolves to at that moment, is refused when
that is a cloud metadata service, link-local or reserved (local and LAN servers are fine), and the answer is
read only up to MAX_ANSWER_BYTES. An editor asks for completions constantly, so a failure is a FimError (or
EndpointError, for an address refused) with one line saying why, never a traceback; cancelling the call (the
user typed on) cancels the HTTP request.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from agent_core.safety.endpoints import request_guard

TIMEOUT = 15.0
MAX_ANSWER_BYTES = 1_000_000

FIM_TEMPLATES: list[tuple[tuple[str, ...], str]] = [
    (("qwen", "codegemma"), "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"),
    (
        ("starcoder", "santacoder", "stable-code", "granite"),
        "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
    ),
    (("deepseek",), "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>"),
    (("codellama", "code-llama"), "<PRE> {prefix} <SUF>{suffix} <MID>"),
]
"""FIM prompt layouts by model family: (substrings of the model name, template)."""


class FimError(Exception):
    """No completion could be had; the message says why in one line."""


def fim_request(model: str | None, prefix: str, suffix: str, max_tokens: int) -> dict[str, Any]:
    """The /v1/completions body for `model`: its family's FIM layout, else prompt plus `suffix`."""
    body: dict[str, Any] = {"max_tokens": max_tokens, "temperature": 0.0, "stream": False, "stop": ["\n\n\n"]}
    if model:
        body["model"] = model
    name = (model or "").lower()
    for families, template in FIM_TEMPLATES:
        if any(f in name for f in families):
            body["prompt"] = template.format(prefix=prefix, suffix=suffix)
            return body
    body["prompt"], body["suffix"] = prefix, suffix
    return body


class FimClient:
    """One HTTP client for every completion (kept open between keystrokes); `aclose` at the end."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def complete(
        self,
        base_url: str,
        api_key: str | None,
        model: str | None,
        prefix: str,
        suffix: str,
        max_tokens: int,
    ) -> str | None:
        """The model's middle, or None when it offers nothing but whitespace; FimError when it cannot, and
        EndpointError when `base_url` is an address the agent may not reach (the caller names its setting)."""
        if self._client is None:
            # every request (and any redirect) is checked against the address it goes to, like the agent's
            hooks = {"request": [request_guard(allow_private=True, allow_loopback=True)]}
            self._client = httpx.AsyncClient(timeout=self.timeout, event_hooks=hooks)
        body = fim_request(model, prefix, suffix, max_tokens)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        url = f"{base_url.rstrip('/')}/completions"
        try:
            async with self._client.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code != 200:
                    raise FimError(f"the model server answered {response.status_code} to /completions")
                data = bytearray()
                async for piece in response.aiter_bytes():
                    data += piece
                    if len(data) > MAX_ANSWER_BYTES:
                        raise FimError(
                            f"the model server's completion answer passed {MAX_ANSWER_BYTES} bytes"
                        )
            choices = json.loads(data).get("choices") or []
            text = str(choices[0].get("text") or "") if choices else ""
        except (httpx.HTTPError, ValueError, AttributeError, TypeError, RecursionError) as exc:
            raise FimError(f"completion request failed: {type(exc).__name__}: {str(exc)[:200]}") from None
        return text if text.strip() else None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
