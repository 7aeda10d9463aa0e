"""Which model answers each request, and how: the one place the agent loop's requests pass through.

Per request, in order: a step due for the cloud goes there (agent_core/llm/cloud.py); otherwise the routing tier's
model answers (agent_core/llm/routing_tiers.py), falling back to the primary model when another tier's server
fails; the thinking budget and switch apply (agent_core/llm/thinking.py); <think> text is moved out of the answer.
Each step's outcome is read off the run's trace (agent_core/observe/outcomes.py) and kept per model.
Switches and escalations are `model_switch` / `cloud` events (with a `text` for people) and trace entries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agent_core.config import Settings
from agent_core.context.tokens import TokenCounter
from agent_core.llm.client import ChatClient, TokenCallback
from agent_core.llm.cloud import CloudEscalation
from agent_core.llm.routing_tiers import Tier, TierRouter
from agent_core.llm.routing_tiers import report_lines as tier_lines
from agent_core.llm.thinking import ThinkingBudgetSpent, ThinkingMeter, ThinkingPolicy, separate
from agent_core.llm.types import ChatResponse, Message, ModelError
from agent_core.observe.events import EventBus
from agent_core.observe.outcomes import Step, StepJudge
from agent_core.observe.reliability import Reliability
from agent_core.observe.trace import TraceWriter
from agent_core.result import Usage
from agent_core.safety.endpoints import EndpointError, acheck_url

log = logging.getLogger(__name__)

MIN_REASK_TOKENS = 256


@dataclass(frozen=True)
class _Request:
    """One request of the loop, as it asked it: what every tier, the cloud and a re-ask pass on."""

    messages: list[Message]
    tools: list[dict[str, Any]] | None
    temperature: float | None
    max_tokens: int | None
    stream: bool
    on_token: TokenCallback | None
    on_reasoning: TokenCallback | None
    extra: dict[str, Any] | None

    async def send(self, client: ChatClient, model: str | None, meter: ThinkingMeter | None) -> ChatResponse:
        return await client.chat(
            self.messages,
            self.tools,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            stream=self.stream,
            on_token=meter.on_token if meter else self.on_token,
            on_reasoning=meter.on_reasoning if meter else self.on_reasoning,
            extra=self.extra,
            model=model,
        )


class ModelSteering:
    """One per agent (session): the tiers' clients, the router and its rates, the cloud budget."""

    def __init__(
        self, root: Path, settings: Callable[[], Settings], events: EventBus, counter: TokenCounter
    ) -> None:
        self.root = root
        self.settings = settings
        self.events = events
        self.counter = counter
        self.reliability = Reliability(root)
        self.router = TierRouter(self.reliability)
        self.cloud = CloudEscalation(settings())
        self.model: str | None = None
        """The model that answered the last request (`cloud:NAME` for a cloud step)."""
        self._clients: dict[str, ChatClient] = {}
        """Clients of tiers on other servers than the primary's, by base URL."""

    def for_run(self, primary: ChatClient, trace: TraceWriter) -> SteeredClient:
        return SteeredClient(self, primary, trace)

    async def client_for(self, tier: Tier, primary: ChatClient) -> ChatClient:
        """The client of a tier's server; ModelError when its URL is refused (then the tier is left out)."""
        if tier.base_url is None or tier.base_url.rstrip("/") == primary.base_url:
            return primary
        client = self._clients.get(tier.base_url)
        if client is None:
            try:  # LAN and local servers are fine, cloud metadata and link-local addresses are not
                await acheck_url(tier.base_url, True)
            except EndpointError as exc:
                raise ModelError(f"refusing SMALLCODE_BASE_URL_{tier.name.upper()}: {exc}") from None
            settings = self.settings()
            client = ChatClient(
                tier.base_url,
                tier.model,
                api_key=settings.api_key,
                timeout=settings.request_timeout,
                retries=settings.retries,
                counter=self.counter,
            )
            self._clients[tier.base_url] = client
        return client

    def report(self) -> dict[str, Any]:
        """Routing and cloud state for /model and /stats."""
        settings = self.settings()
        cloud = self.cloud
        return {
            **self.router.report(settings),
            "cloud": {
                "provider": cloud.provider.name if cloud.provider else None,
                "model": cloud.model or None,
                "calls": cloud.calls,
                "max_calls": cloud.max_calls,
                "tokens": cloud.tokens,
            },
        }

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        await self.cloud.aclose()


class SteeredClient:
    """The loop's model client for one run (see the module docstring)."""

    def __init__(self, steering: ModelSteering, primary: ChatClient, trace: TraceWriter) -> None:
        self.steering = steering
        self.primary = primary
        self.trace = trace
        self.judge = StepJudge(self._on_step)
        trace.listeners.append(self.judge.observe)
        self._told_limit = False
        steering.cloud.failed_in_a_row = 0  # escalation is about this run's step, not an earlier run's

    async def takes_grammar(self) -> bool:
        return await self.primary.takes_grammar()

    async def usage_of(self, messages: list[Message], reply: str) -> Usage | None:
        """Usage by the primary server's tokenizer (a reply that was cut short reports none)."""
        return await self.primary.usage_of(messages, reply)

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
    ) -> ChatResponse:
        self.judge.close()  # the previous step is over: its outcome counts before this one is routed
        request = _Request(messages, tools, temperature, max_tokens, stream, on_token, on_reasoning, extra)
        steering = self.steering
        settings = steering.settings()
        cloud = steering.cloud
        await self._announce_cloud()
        if cloud.due():
            reply = await self._cloud_step(request, settings)
            if reply is not None:
                return reply
        elif cloud.limit_reached() and not self._told_limit:
            self._told_limit = True
            await self._tell(
                "status",
                f"cloud escalation: the session's {cloud.max_calls} cloud call(s) are spent "
                "(SMALLCODE_CLOUD_MAX_CALLS); the local models go on",
            )
        while True:
            tier, switch = steering.router.choose(settings)
            if switch is not None:
                payload = switch.payload()
                self.trace.write("model_switch", **payload)
                await steering.events.emit("model_switch", payload)
            model = tier.model or self.primary.model
            try:
                client = await steering.client_for(tier, self.primary)
                reply = await self._ask(client, model, request)
            except ModelError as exc:
                if tier.name == "primary":
                    raise
                steering.router.drop(tier.name, str(exc))  # and ask the tier below
                continue
            steering.model = model
            self.judge.begin(model or "(server default)")
            return reply

    # cloud ------------------------------------------------------------------------------------------
    async def _announce_cloud(self) -> None:
        cloud = self.steering.cloud
        if cloud.enabled and not cloud.announced:
            cloud.announced = True
            assert cloud.provider is not None
            await self._tell(
                "status",
                f"cloud escalation is on ({cloud.provider.key_env} is set): a step the local models keep failing "
                f"may go to {cloud.describe()}, at most {cloud.max_calls} per session "
                "(SMALLCODE_CLOUD_MAX_CALLS=0 turns it off)",
            )

    async def _cloud_step(self, request: _Request, settings: Settings) -> ChatResponse | None:
        cloud = self.steering.cloud
        text = (
            f"cloud escalation: this step goes to {cloud.describe()} (secrets redacted) after "
            f"{cloud.failed_in_a_row} failed local steps; cloud call {cloud.calls + 1} of {cloud.max_calls} "
            f"this session, {cloud.tokens} tokens so far"
        )
        payload = {
            "provider": cloud.provider.name if cloud.provider else None,
            "model": cloud.model,
            "call": cloud.calls + 1,
            "max_calls": cloud.max_calls,
            "tokens": cloud.tokens,
            "text": text,
        }
        self.trace.write("cloud_escalation", **payload)
        await self.steering.events.emit("cloud", payload)
        try:
            reply = await cloud.chat(
                request.messages,
                request.tools,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                stream=request.stream,
                on_token=request.on_token,
                timeout=settings.request_timeout,
            )
        except ModelError as exc:
            self.trace.write("cloud_failed", error=str(exc))
            await self._tell("status", f"{exc}; the local model goes on")
            return None
        self.steering.model = f"cloud:{cloud.model}"
        self.judge.begin(self.steering.model)
        return separate(reply)

    # thinking ---------------------------------------------------------------------------------------
    async def _ask(self, client: ChatClient, model: str | None, request: _Request) -> ChatResponse:
        from agent_core.llm.profiles import profile_for

        settings = self.steering.settings()
        profile = profile_for(model or "", self.steering.root)
        policy = ThinkingPolicy(
            settings.thinking_budget, settings.thinking_disable, tuple(profile.thinking_off)
        )
        sent, sent_extra = policy.request(request.messages, request.extra)
        try:
            reply = await replace(request, messages=sent, extra=sent_extra).send(
                client, model, self._meter(policy, request)
            )
        except ThinkingBudgetSpent as spent:
            reply = await self._reask(client, model, policy, spent, request)
        return separate(reply)

    def _meter(self, policy: ThinkingPolicy, request: _Request) -> ThinkingMeter | None:
        # Only a streamed reply can be ended early; a whole one has been paid for when it arrives.
        if not request.stream or policy.budget <= 0:
            return None
        return ThinkingMeter(policy.budget, self.steering.counter, request.on_token, request.on_reasoning)

    async def _reask(
        self,
        client: ChatClient,
        model: str | None,
        policy: ThinkingPolicy,
        spent: ThinkingBudgetSpent,
        request: _Request,
    ) -> ChatResponse:
        """The request again after its thinking ran past the budget: thinking off, "answer now"."""
        counter = self.steering.counter
        self.trace.write("thinking_cut", model=model, tokens=spent.tokens, budget=policy.budget)
        await self._tell(
            "status",
            f"thinking: {model} passed its budget of {policy.budget} tokens (SMALLCODE_THINKING_BUDGET); "
            "asked for its answer",
        )
        asked = policy.reask(request.messages, spent)
        sent, sent_extra = policy.request(asked, request.extra, off=True)
        prompt = counter.count_messages(request.messages)
        added = counter.count_messages(sent) - prompt
        max_tokens = request.max_tokens
        budget = max(MIN_REASK_TOKENS, max_tokens - added) if max_tokens else None
        cut = Usage(prompt_tokens=prompt, completion_tokens=spent.tokens, total_tokens=prompt + spent.tokens)
        try:
            reply = await replace(request, messages=sent, max_tokens=budget, extra=sent_extra).send(
                client, model, self._meter(policy, request)
            )
        except ThinkingBudgetSpent as again:  # it thought on regardless: an empty reply, the loop says so
            self.trace.write("thinking_cut", model=model, tokens=again.tokens, budget=policy.budget)
            reply = ChatResponse(content="", reasoning=again.thought, finish_reason="stop")
        if not reply.usage.total_tokens:  # the server sent none: estimate this answer
            prompt = counter.count_messages(sent)
            completion = counter.estimate(reply.content + reply.reasoning + str(reply.tool_calls or ""))
            reply.usage = Usage(
                prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
            )
        reply.usage.add(cut)  # the cut-off request cost tokens too
        return reply

    # outcomes ---------------------------------------------------------------------------------------
    def _on_step(self, step: Step) -> None:
        steering = self.steering
        settings = steering.settings()
        cloud_step = step.model.startswith("cloud:")
        steering.router.record(settings, step.model, step.ok, local=not cloud_step)
        if not cloud_step:
            on_top = steering.router.current == steering.router.top(settings)
            steering.cloud.note_step(step.ok, on_top)
        self.trace.write("step", model=step.model, ok=step.ok, reasons=step.reasons)

    async def _tell(self, event: str, text: str) -> None:
        log.info("%s", text)
        await self.steering.events.emit(event, {"text": text})


def report_lines(report: dict[str, Any]) -> list[str]:
    """The routing and cloud part of /model and /stats, for people."""
    lines = tier_lines(report)
    cloud = report.get("cloud") or {}
    if cloud.get("provider"):
        lines.append(
            f"cloud escalation: {cloud['provider']} {cloud['model']}, {cloud['calls']} of {cloud['max_calls']} "
            f"call(s) this session, {cloud['tokens']} tokens"
        )
    return lines
