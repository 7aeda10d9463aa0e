"""Cognition: runs declared prompts. One call: check the inputs, look in the cache, ask the model of the prompt's
tier (constrained to the output's schema where the server can), repair and validate the answer, retry with
the validation errors when it is wrong, keep the result, and log and trace the call with its tokens counted
against the prompt's budgets.

The agent holds one (`agent.cognition`, on the agent's model connection and run trace); `cognition.load`
makes one from the workspace's settings for use on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agent_core.cognition.constrain import refused, response_format
from agent_core.cognition.reply import ReplyError, json_from_reply, problems
from agent_core.cognition.spec import PromptSpec
from agent_core.cognition.store import CallRecord, CognitionStore
from agent_core.config import ConfigError, Settings
from agent_core.context.tokens import TokenCounter
from agent_core.llm.client import ChatClient
from agent_core.llm.types import Message, ModelError
from agent_core.observe.trace import TraceWriter
from agent_core.result import Usage

log = logging.getLogger(__name__)

MIN_REPLY_TOKENS = 16
"""An attempt whose budget leaves less room than this for the answer is not made."""


class CognitionError(Exception):
    """A declared prompt gave no result; `str(exc)` is one line saying why and what to do."""


class BudgetExceeded(CognitionError):
    """The prompt's token budget (per call or per session) would be passed."""


class PromptFailed(CognitionError):
    """No valid answer within the attempts, or the model server failed."""


@dataclass
class PromptStats:
    """One prompt's figures in this session."""

    calls: int = 0
    hits: int = 0
    failures: int = 0
    usage: Usage = field(default_factory=Usage)


SettingsSource = Settings | Callable[[], Settings]
Connect = Callable[[], Awaitable[ChatClient]]


class Cognition:
    def __init__(
        self,
        root: str | Path,
        settings: SettingsSource,
        *,
        connect: Connect | None = None,
        trace: TraceWriter | Callable[[], TraceWriter | None] | None = None,
        counter: TokenCounter | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self._settings = settings
        self._connect = connect
        """The default model's client (the agent's connection); None: made from the settings."""
        self._trace = trace
        self.counter = counter or TokenCounter()
        self.store = CognitionStore(self.root)
        self.loaded: dict[str, PromptSpec] = {}
        """Prompts called in this session, by name."""
        self.stats: dict[str, PromptStats] = {}
        self._own: dict[str, ChatClient] = {}
        """Clients this object made (the default one without `connect`, and other tiers'), by tier."""
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self._unconstrained: set[str] = set()
        """Base URLs that refused a response_format."""
        self._own_trace: TraceWriter | None = None

    @property
    def settings(self) -> Settings:
        return self._settings() if callable(self._settings) else self._settings

    # calling ----------------------------------------------------------------------------------------
    async def call(self, spec: PromptSpec, inputs: BaseModel | dict[str, Any] | None = None) -> BaseModel:
        """The prompt's validated output for `inputs`; CognitionError (one line) when there is none."""
        try:
            args = spec.Inputs.model_validate(
                inputs.model_dump() if isinstance(inputs, BaseModel) else inputs or {}
            )
        except ValidationError as exc:
            raise CognitionError(f"declared prompt {spec.name!r}: bad inputs: {problems(exc)}") from None
        self.loaded[spec.name] = spec
        stats = self.stats.setdefault(spec.name, PromptStats())
        stats.calls += 1
        started = time.monotonic()
        key = self._cache_key(spec, args)
        if spec.cache_ttl > 0:
            cached = await asyncio.to_thread(self.store.get, key)
            if cached is not None:
                try:
                    output = spec.Output.model_validate(cached)
                except ValidationError:
                    output = None
                if output is not None:
                    stats.hits += 1
                    self._log(spec, CallRecord(spec.name, "hit", ms=_ms(started)), args, output)
                    return output
        spent = Usage()
        record = CallRecord(spec.name, "failed")
        try:
            output = await self._answer(spec, args, spent, record)
        except CognitionError as exc:
            stats.failures += 1
            record.outcome = "budget" if isinstance(exc, BudgetExceeded) else "failed"
            record.error = str(exc)
            self._count(spec, record, spent, started)
            self._log(spec, record, args, None)
            raise
        record.outcome = "ok"
        self._count(spec, record, spent, started)
        if spec.cache_ttl > 0:
            await asyncio.to_thread(
                self.store.put, key, spec.name, output.model_dump(mode="json"), spec.cache_ttl
            )
        self._log(spec, record, args, output)
        return output

    async def _answer(self, spec: PromptSpec, args: BaseModel, spent: Usage, record: CallRecord) -> BaseModel:
        try:
            client = await self._client(spec.tier)
        except (ModelError, ConfigError) as exc:  # the agent's connection failed: say so in one line
            raise PromptFailed(f"declared prompt {spec.name!r}: {exc}") from None
        record.model = client.model
        base = spec.render(args)
        messages: list[Message] = list(base)
        constraint: dict[str, Any] = {}
        if client.base_url not in self._unconstrained:
            constraint = await response_format(
                self.settings.cognition_constrain, client, spec.name, spec.output_schema()
            )
        last = "no attempt made"
        while record.attempts <= spec.retries:
            max_tokens = self._room(spec, messages, spent, record.attempts)
            record.attempts += 1
            try:
                reply = await asyncio.wait_for(
                    client.chat(
                        messages,
                        temperature=spec.temperature,
                        max_tokens=max_tokens,
                        stream=False,
                        extra=constraint or None,
                    ),
                    timeout=spec.timeout,
                )
            except TimeoutError:
                last = f"no answer within {spec.timeout:g}s"
                continue
            except ModelError as exc:
                if constraint and refused(exc):  # the server does not take the schema: ask it plainly
                    log.info("%s refuses response_format (%s); asking without it", client.base_url, exc)
                    self._unconstrained.add(client.base_url)
                    constraint = {}
                    record.attempts -= 1
                    continue
                raise PromptFailed(f"declared prompt {spec.name!r}: {exc}") from None
            usage = reply.usage
            if not usage.total_tokens:  # a server that sends no usage: estimate rather than count nothing
                prompt = self.counter.count_messages(messages)
                completion = self.counter.estimate(reply.content)
                usage = Usage(
                    prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
                )
            spent.add(usage)
            try:
                value, repaired = json_from_reply(reply.content, spec.Output)
                output = spec.Output.model_validate(value)
            except (ReplyError, ValidationError) as exc:
                last = problems(exc)
                log.info("declared prompt %s: attempt %d invalid: %s", spec.name, record.attempts, last)
                messages = [
                    *base,
                    {"role": "assistant", "content": reply.content},
                    {
                        "role": "user",
                        "content": f"That answer is not valid: {last}. Answer again with only the JSON object.",
                    },
                ]
                continue
            record.repaired = repaired
            return output
        raise PromptFailed(
            f"declared prompt {spec.name!r}: no valid answer in {record.attempts} attempt(s); last: {last}"
        )

    def _room(self, spec: PromptSpec, messages: list[Message], spent: Usage, attempts: int) -> int:
        """max_tokens for the next attempt within the budgets; BudgetExceeded when it cannot be made."""
        prompt = self.counter.count_messages(messages)
        room = spec.max_tokens
        limits = []
        if spec.budget_call is not None:
            limits.append(
                (spec.budget_call - spent.total_tokens, f"{spec.budget_call} tokens per call", "call")
            )
        if spec.budget_session is not None:
            used = self.stats[spec.name].usage.total_tokens + spent.total_tokens
            limits.append(
                (spec.budget_session - used, f"{spec.budget_session} tokens per session", "session")
            )
        for left, what, key in limits:
            if left - prompt < MIN_REPLY_TOKENS:
                raise BudgetExceeded(
                    f"declared prompt {spec.name!r} is over its budget of {what}: {spent.total_tokens} tokens spent "
                    f"in {attempts} attempt(s) of this call, the next needs about {prompt} for its prompt alone; "
                    f"raise [budget] {key} in {spec.path.name}"
                )
            room = min(room, left - prompt)
        return room

    # clients ----------------------------------------------------------------------------------------
    async def _client(self, tier: str) -> ChatClient:
        loop = asyncio.get_running_loop()
        if self._own_loop is not loop:  # clients made under another (closed) event loop cannot be used
            self._own, self._own_loop = {}, loop
        default = await self._connect() if self._connect is not None else await self._default_client()
        settings = self.settings
        model = getattr(settings, f"model_{tier}", None) if tier in ("medium", "strong") else None
        if not model or model == default.model:
            return default
        if tier not in self._own:
            url = getattr(settings, f"base_url_{tier}", None) or default.base_url
            self._own[tier] = ChatClient(
                url,
                model,
                api_key=settings.api_key,
                timeout=settings.request_timeout,
                retries=settings.retries,
                counter=self.counter,
            )
        return self._own[tier]

    async def _default_client(self) -> ChatClient:
        if "default" in self._own:
            return self._own["default"]
        settings = self.settings
        if not settings.base_url:
            raise CognitionError(
                "declared prompts need a model server here: set SMALLCODE_BASE_URL (and SMALLCODE_MODEL)"
            )
        from agent_core.safety.endpoints import EndpointError, check_url

        try:
            await asyncio.to_thread(check_url, settings.base_url, True)
        except EndpointError as exc:
            raise CognitionError(f"refusing SMALLCODE_BASE_URL: {exc}") from None
        client = ChatClient(
            settings.base_url,
            settings.model,
            api_key=settings.api_key,
            timeout=settings.request_timeout,
            retries=settings.retries,
            counter=self.counter,
        )
        try:
            await client.check()  # adopts the server's model when none is set
        except ModelError as exc:
            await client.aclose()
            raise CognitionError(str(exc)) from None
        self._own["default"] = client
        return client

    async def aclose(self) -> None:
        """Close the clients this object made (never the agent's)."""
        own, self._own = self._own, {}
        for client in own.values():
            await client.aclose()

    # bookkeeping ------------------------------------------------------------------------------------
    @staticmethod
    def _cache_key(spec: PromptSpec, args: BaseModel) -> str:
        values = args.model_dump(mode="json")
        data = {
            "prompt": spec.name,
            "spec": spec.fingerprint,
            "inputs": {k: values[k] for k in spec.cache_key},
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def _count(self, spec: PromptSpec, record: CallRecord, spent: Usage, started: float) -> None:
        self.stats[spec.name].usage.add(spent)
        record.prompt_tokens, record.completion_tokens = spent.prompt_tokens, spent.completion_tokens
        record.ms = _ms(started)

    def _log(self, spec: PromptSpec, record: CallRecord, args: BaseModel, output: BaseModel | None) -> None:
        self.store.record(record)
        trace = self._trace() if callable(self._trace) else self._trace
        if trace is None and self.settings.trace:
            if self._own_trace is None:
                self._own_trace = TraceWriter(self.root)
            trace = self._own_trace
        if trace is not None:
            trace.write(
                "cognition",
                prompt=spec.name,
                tier=spec.tier,
                model=record.model,
                outcome=record.outcome,
                attempts=record.attempts,
                usage={
                    "prompt_tokens": record.prompt_tokens,
                    "completion_tokens": record.completion_tokens,
                    "total_tokens": record.prompt_tokens + record.completion_tokens,
                },
                ms=record.ms,
                inputs=args.model_dump(mode="json"),
                output=output.model_dump(mode="json") if output is not None else None,
                repaired=record.repaired,
                error=record.error,
            )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
