"""Cloud escalation, opt-in: one step of a run goes to a cloud model when the local models keep failing on it.

Opted in by an API key in the environment (the user's own, never a project's .env): ANTHROPIC_API_KEY (the
Messages API), OPENAI_API_KEY or DEEPSEEK_API_KEY (OpenAI-compatible); the first set, in that order. Their
endpoints follow ANTHROPIC_BASE_URL / OPENAI_BASE_URL / DEEPSEEK_BASE_URL (proxies, tests), the model
SMALLCODE_CLOUD_MODEL (else each provider's default). A step goes up when FAILED_STEPS steps in a row of this run
have failed on the strongest local tier (retries and routing have had their chance); then only that step, and at
most SMALLCODE_CLOUD_MAX_CALLS per session (0 turns escalation off). Secrets in what is sent are redacted first
(agent_core/safety/redact.py), and the user is told each time (a `cloud` event: the terminal prints it, the editor
shows it), with the calls and tokens spent so far.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent_core.config import Settings
from agent_core.llm.anthropic import DEFAULT_BASE_URL as ANTHROPIC_URL
from agent_core.llm.anthropic import AnthropicClient
from agent_core.llm.client import ChatClient, TokenCallback
from agent_core.llm.types import ChatResponse, Message, ModelError
from agent_core.safety.endpoints import EndpointError, acheck_url
from agent_core.safety.redact import redact_obj

FAILED_STEPS = 3
"""Failed steps in a row on the strongest local model before one step goes to the cloud."""


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    key_env: str
    url_env: str
    default_url: str
    default_model: str


PROVIDERS = (
    Provider(
        "anthropic",
        "Anthropic",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        ANTHROPIC_URL,
        "claude-sonnet-4-5",
    ),
    Provider("openai", "OpenAI", "OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1", "gpt-4.1"),
    Provider(
        "deepseek",
        "DeepSeek",
        "DEEPSEEK_API_KEY",
        "DEEPSEEK_BASE_URL",
        "https://api.deepseek.com/v1",
        "deepseek-chat",
    ),
)


def find_provider(env: Mapping[str, str] | None = None) -> Provider | None:
    env = os.environ if env is None else env
    return next((p for p in PROVIDERS if env.get(p.key_env, "").strip()), None)


def redacted(messages: list[Message]) -> list[Message]:
    """What may leave the machine: every string with its secrets replaced by [REDACTED]."""
    out = redact_obj(messages)
    assert isinstance(out, list)
    return out


class CloudEscalation:
    """The session's cloud budget and client; `due` says when a step should go up."""

    def __init__(self, settings: Settings, env: Mapping[str, str] | None = None) -> None:
        self.env = os.environ if env is None else env
        self.provider = find_provider(self.env)
        self.max_calls = settings.cloud_max_calls
        self.model = settings.cloud_model or (self.provider.default_model if self.provider else "")
        self.calls = 0
        self.tokens = 0
        self.failed_in_a_row = 0
        """Failed local steps in a row in this run (reset by a success, a cloud step and a new run)."""
        self.announced = False
        self._client: ChatClient | AnthropicClient | None = None

    @property
    def enabled(self) -> bool:
        return self.provider is not None and self.max_calls > 0

    @property
    def base_url(self) -> str:
        assert self.provider is not None
        return self.env.get(self.provider.url_env, "").strip() or self.provider.default_url

    def note_step(self, ok: bool, on_top_tier: bool) -> None:
        """A local step's outcome; only failures on the strongest local tier count towards escalation."""
        self.failed_in_a_row = self.failed_in_a_row + 1 if not ok and on_top_tier else 0

    def due(self) -> bool:
        return self.enabled and self.failed_in_a_row >= FAILED_STEPS and self.calls < self.max_calls

    def limit_reached(self) -> bool:
        """Escalation would be due but the session's calls are spent (said once per run by the caller)."""
        return self.enabled and self.failed_in_a_row >= FAILED_STEPS and self.calls >= self.max_calls

    def describe(self) -> str:
        assert self.provider is not None
        return f"{self.provider.label} {self.model}"

    async def chat(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None,
        *,
        temperature: float | None,
        max_tokens: int | None,
        stream: bool,
        on_token: TokenCallback | None,
        timeout: float,
    ) -> ChatResponse:
        """One step in the cloud, secrets redacted; ModelError (one line) when it fails."""
        assert self.provider is not None
        self.calls += 1
        self.failed_in_a_row = 0
        client = await self._connect(timeout)
        safe = redacted(messages)
        try:
            if isinstance(client, AnthropicClient):
                reply = await client.chat(
                    safe, tools, temperature=temperature, max_tokens=max_tokens, on_token=on_token
                )
            else:
                reply = await client.chat(
                    safe,
                    tools,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    stream=stream,
                    on_token=on_token,
                )
        except ModelError as exc:
            raise ModelError(f"cloud escalation to {self.describe()} failed: {exc}") from None
        self.tokens += reply.usage.total_tokens
        return reply

    async def _connect(self, timeout: float) -> ChatClient | AnthropicClient:
        if self._client is not None:
            return self._client
        assert self.provider is not None
        url = self.base_url
        try:  # proxies and test servers may be local; cloud metadata addresses never
            await acheck_url(url, True)
        except EndpointError as exc:
            raise ModelError(f"refusing {self.provider.url_env}: {exc}") from None
        key = self.env[self.provider.key_env].strip()
        if self.provider.name == "anthropic":
            self._client = AnthropicClient(key, self.model, url, timeout=timeout)
        else:
            try:
                self._client = ChatClient(url, self.model, api_key=key, timeout=timeout, retries=1)
            except ModelError as exc:
                raise ModelError(f"refusing {self.provider.url_env}: {exc}") from None
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
