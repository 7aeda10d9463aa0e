"""The agent loop: model → tool calls → results back, until a final answer, the turn limit, or a loop.

Small enough to read in one sitting. Everything else (parsing, tools, budget, traces) lives in its own module.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from agent_core.config import Settings
from agent_core.context.budget import ContextBudget, tool_result_message, wire_messages
from agent_core.llm.client import ChatClient
from agent_core.llm.types import ChatResponse, Message
from agent_core.observe.events import EventBus
from agent_core.observe.trace import TraceWriter
from agent_core.parsing import ParseOutcome, ToolCall, parse_reply
from agent_core.result import RunResult, ToolCallRecord
from agent_core.tools import ToolContext, ToolOutput, ToolRegistry

MAX_FORMAT_ERRORS = 3
"""Consecutive replies with unusable tool calls (or empty replies) before the run gives up."""
MAX_SAME_CALL = 3
"""The same call (name and arguments) this many times in one run is a loop: the run stops."""

EMPTY_REPLY = (
    "Your reply was empty. Call a tool to make progress, or answer with a short summary if the task is done."
)


class AgentLoop:
    def __init__(
        self,
        *,
        client: ChatClient,
        tools: ToolRegistry,
        ctx: ToolContext,
        settings: Settings,
        events: EventBus,
        budget: ContextBudget,
        trace: TraceWriter,
    ) -> None:
        self.client = client
        self.tools = tools
        self.ctx = ctx
        self.settings = settings
        self.events = events
        self.budget = budget
        self.trace = trace
        self.schemas = tools.schemas()

    async def run(self, history: list[Message], result: RunResult) -> None:
        """Run turns on `history` (which it extends in place) and fill `result`."""
        format_errors = 0
        seen_calls: Counter[str] = Counter()
        for turn in range(1, self.settings.max_turns + 1):
            result.turns = turn
            await self.events.emit("turn", {"n": turn})
            reply, outcome = await self._ask_model(history, result, turn)
            history.append(_assistant_message(reply, outcome))

            if not outcome.calls:
                problem = "\n".join(outcome.errors) or (EMPTY_REPLY if not reply.content.strip() else "")
                if not problem:
                    result.response = reply.content.strip()
                    result.success = True
                    return
                format_errors += 1
                if format_errors >= MAX_FORMAT_ERRORS:
                    result.response = f"Stopped: the model's last {format_errors} replies had no usable tool call. {problem}"
                    return
                history.append({"role": "user", "content": problem})
                continue
            format_errors = 0

            for call in outcome.calls:
                key = f"{call.name}:{json.dumps(call.arguments, sort_keys=True)}"
                seen_calls[key] += 1
                if seen_calls[key] >= MAX_SAME_CALL:
                    result.response = (
                        f"Stopped: the model repeated the same {call.name} call {MAX_SAME_CALL} times "
                        "without making progress."
                    )
                    self.trace.write("loop_detected", call={"name": call.name, "arguments": call.arguments})
                    return
                output = await self._run_tool(call, result)
                text = output.text
                if seen_calls[key] == MAX_SAME_CALL - 1:
                    text += (
                        "\n[You already made this exact call before. Repeating it will not help: "
                        "change your approach or give the final answer.]"
                    )
                history.append(tool_result_message(_label(call), text, call.id))
            if outcome.errors:
                history.append({"role": "user", "content": "\n".join(outcome.errors)})

        result.response = (
            f"Stopped after {self.settings.max_turns} turns without a final answer "
            "(raise --max-turns or split the task)."
        )

    async def _ask_model(
        self, history: list[Message], result: RunResult, turn: int
    ) -> tuple[ChatResponse, ParseOutcome]:
        messages = wire_messages(self.budget.fit(history))
        started = time.monotonic()
        reply = await self.client.chat(
            messages,
            tools=self.schemas,
            temperature=self.settings.temperature,
            max_tokens=self.settings.max_tokens,
            stream=self.settings.stream,
            on_token=self._on_token,
        )
        result.usage.add(reply.usage)
        outcome = parse_reply(reply.content, reply.tool_calls, self.schemas)
        self.trace.write(
            "turn",
            n=turn,
            ms=int((time.monotonic() - started) * 1000),
            messages=messages,
            reply={
                "content": reply.content,
                "reasoning": reply.reasoning,
                "native_tool_calls": [c.model_dump() for c in reply.tool_calls],
            },
            calls=[{"name": c.name, "arguments": c.arguments} for c in outcome.calls],
            parse_errors=outcome.errors,
            usage=reply.usage.model_dump(),
            finish_reason=reply.finish_reason,
        )
        return reply, outcome

    async def _on_token(self, text: str) -> None:
        await self.events.emit("token", {"text": text})

    async def _run_tool(self, call: ToolCall, result: RunResult) -> ToolOutput:
        await self.events.emit("tool_start", {"name": call.name, "args": call.arguments})
        started = time.monotonic()
        output = await self.tools.execute(call.name, call.arguments, self.ctx)
        ms = int((time.monotonic() - started) * 1000)
        await self.events.emit("tool_end", {"name": call.name, "ms": ms, "ok": output.ok})
        result.tool_calls.append(
            ToolCallRecord(
                name=call.name,
                args=call.arguments,
                ok=output.ok,
                ms=ms,
                error=None if output.ok else output.text.splitlines()[0][:300] if output.text else "failed",
            )
        )
        for path in output.created:
            if path not in result.files_created:
                result.files_created.append(path)
        for path in output.edited:
            if path not in result.files_created and path not in result.files_edited:
                result.files_edited.append(path)
        self.trace.write(
            "tool", name=call.name, arguments=call.arguments, ok=output.ok, ms=ms, output=output.text
        )
        return output


def _label(call: ToolCall) -> str:
    target = call.arguments.get("path") or call.arguments.get("command") or call.arguments.get("pattern")
    return f"{call.name} {str(target)[:60]}" if target else call.name


def _assistant_message(reply: ChatResponse, outcome: ParseOutcome) -> Message:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    native = [c for c in outcome.calls if c.id]
    if native:
        message["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)},
            }
            for c in native
        ]
    return message
