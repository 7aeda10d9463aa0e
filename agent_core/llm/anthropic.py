"""A client for the Anthropic Messages API (POST {base}/v1/messages) that speaks the agent's OpenAI-shaped
messages and tool schemas, for cloud escalation. httpx, one non-streamed request per step: the step is shown
when it is complete, and the answer is bounded by max_tokens.

Translation: system messages become `system`; assistant tool calls become `tool_use` blocks and `tool` results
`tool_result` blocks in the next user turn; consecutive turns of one role are merged (the API wants them to
alternate); tools become `{name, description, input_schema}`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from agent_core.llm.client import CONNECT_TIMEOUT, TokenCallback
from agent_core.llm.types import ChatResponse, Message, ModelError, NativeToolCall
from agent_core.result import Usage

API_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"
MAX_BODY_BYTES = 8_000_000
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


class AnthropicClient:
    def __init__(
        self, api_key: str, model: str, base_url: str = DEFAULT_BASE_URL, timeout: float = 120.0
    ) -> None:
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.model = model
        self._http = httpx.AsyncClient(
            headers={"x-api-key": api_key, "anthropic-version": API_VERSION, "Accept-Encoding": "identity"},
            timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
        )

    def __repr__(self) -> str:  # never shows the key
        return f"AnthropicClient(base_url={self.base_url!r}, model={self.model!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def chat(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        on_token: TokenCallback | None = None,
    ) -> ChatResponse:
        body = request_body(self.model, messages, tools, temperature, max_tokens or 4096)
        url = f"{self.base_url}/v1/messages"
        try:
            async with self._http.stream("POST", url, json=body) as response:
                raw = bytearray()
                async for data in response.aiter_bytes():
                    raw += data
                    if len(raw) > MAX_BODY_BYTES:
                        raise ModelError(
                            f"Anthropic sent more than {MAX_BODY_BYTES // 1_000_000} MB; stopped reading"
                        )
        except httpx.HTTPError as exc:
            raise ModelError(
                f"cannot reach Anthropic at {self.base_url}: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise ModelError(
                f"Anthropic refused the request (HTTP {response.status_code}: {_error(bytes(raw))})"
            )
        reply = parse_response(bytes(raw))
        if on_token is not None and reply.content:
            result = on_token(reply.content)
            if result is not None:
                await result
        return reply


def request_body(
    model: str,
    messages: list[Message],
    tools: list[dict[str, Any]] | None,
    temperature: float | None,
    max_tokens: int,
) -> dict[str, Any]:
    system = [str(m.get("content") or "") for m in messages if m.get("role") == "system"]
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "system":
            continue
        blocks = _blocks(message)
        if not blocks:
            continue
        side = "assistant" if role == "assistant" else "user"
        if turns and turns[-1]["role"] == side:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": side, "content": blocks})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": [{"type": "text", "text": "(the conversation so far)"}]})
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": turns}
    if system:
        body["system"] = "\n\n".join(system)
    if temperature is not None:
        body["temperature"] = min(1.0, temperature)
    if tools:
        body["tools"] = [
            {
                "name": t["function"]["name"],
                "description": t["function"].get("description", ""),
                "input_schema": t["function"].get("parameters") or {"type": "object", "properties": {}},
            }
            for t in tools
            if isinstance(t, dict) and isinstance(t.get("function"), dict)
        ]
    return body


def _blocks(message: Message) -> list[dict[str, Any]]:
    content = message.get("content")
    text = content if isinstance(content, str) else json.dumps(content) if content else ""
    if message.get("role") == "tool":
        return [
            {"type": "tool_result", "tool_use_id": str(message.get("tool_call_id") or ""), "content": text}
        ]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text.strip() else []
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        arguments = fn.get("arguments")
        try:
            data = json.loads(arguments) if isinstance(arguments, str) else arguments
        except ValueError:
            data = {"raw": arguments}
        blocks.append(
            {
                "type": "tool_use",
                "id": str(call.get("id") or ""),
                "name": str(fn.get("name") or ""),
                "input": data if isinstance(data, dict) else {},
            }
        )
    return blocks


def parse_response(raw: bytes) -> ChatResponse:
    try:
        obj = json.loads(raw)
        blocks = obj["content"]
        if not isinstance(blocks, list):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ModelError(
            f"Anthropic sent an answer that is not a Messages API response: {raw[:80]!r}"
        ) from None
    text = "".join(b.get("text", "") for b in blocks if isinstance(b, dict) and b.get("type") == "text")
    thinking = "".join(
        b.get("thinking", "") for b in blocks if isinstance(b, dict) and b.get("type") == "thinking"
    )
    calls = [
        NativeToolCall(id=str(b.get("id", "")), name=str(b.get("name", "")), arguments=b.get("input") or {})
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "tool_use"
    ]
    usage = obj.get("usage") if isinstance(obj.get("usage"), dict) else {}
    prompt, completion = _tokens(usage.get("input_tokens")), _tokens(usage.get("output_tokens"))
    return ChatResponse(
        content=text,
        reasoning=thinking,
        tool_calls=calls,
        usage=Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion),
        finish_reason=STOP_REASONS.get(str(obj.get("stop_reason")), str(obj.get("stop_reason") or "stop")),
        model=str(obj.get("model") or "") or None,
    )


def _tokens(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _error(raw: bytes) -> str:
    try:
        err = json.loads(raw).get("error", {})
        message = err.get("message") if isinstance(err, dict) else None
    except (ValueError, AttributeError):
        message = None
    text = message or raw.decode("utf-8", "replace")
    return " ".join(text.split())[:200] or "(no details)"
