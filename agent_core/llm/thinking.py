"""Reasoning models: a budget for their thinking, a switch to turn it off, and thinking kept out of the history.

SMALLCODE_THINKING_BUDGET counts reasoning tokens as a streamed reply arrives: `reasoning_content` pieces (how
llama-server, LM Studio, vLLM and Ollama separate it) and text inside <think>…</think> in the answer (servers that
don't). Past the budget the request is ended (the connection closed) and asked again, once, with thinking off and
an instruction to answer now, carrying where the thinking had got to. SMALLCODE_THINKING_DISABLE turns thinking
off on every request, the way the model's profile says its template allows: `chat_template_kwargs:
{enable_thinking: false}` (Qwen3 and other templates with that switch, on llama-server and vLLM) and/or `/no_think`
at the end of the last user message (Qwen3's soft switch). A reply's <think> text is moved to its `reasoning`, so
the history the next turn sees holds answers only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent_core.context.tokens import PROSE_CHARS_PER_TOKEN, TokenCounter
from agent_core.llm.client import TokenCallback
from agent_core.llm.types import ChatResponse, Message
from agent_core.parsing.think import split_thinking

_TAG = re.compile(r"<(/?)(?:think|thinking|reasoning)>", re.I)
_LONGEST_TAG = len("</reasoning>")
TAIL_CHARS = 1200
"""How much of the cut-off thinking goes with the re-ask (its end: where it had got to)."""
REASK = (
    "Your thinking budget ({budget} tokens) is spent, so your reasoning was cut off. Do not think any more: "
    "answer now with the next tool call, or with the final answer if the task is done."
)
NO_THINK = "/no_think"


class ThinkingBudgetSpent(Exception):
    """Raised from the stream's callbacks: ends the request (the connection is closed on the way out)."""

    def __init__(self, thought: str, tokens: int) -> None:
        super().__init__(f"thinking budget spent after about {tokens} tokens")
        self.thought = thought
        self.tokens = tokens


class ThinkingMeter:
    """Wraps a request's token callbacks and counts the thinking that passes through them."""

    def __init__(
        self,
        budget: int,
        counter: TokenCounter,
        on_token: TokenCallback | None,
        on_reasoning: TokenCallback | None,
    ) -> None:
        self.budget = budget
        self.scale = counter.scale
        self._on_token = on_token
        self._on_reasoning = on_reasoning
        self.thought: list[str] = []
        self.chars = 0
        self.pieces = 0
        self.inside = False
        """Within a <think> block of the answer text."""
        self._carry = ""
        """The end of the last piece when it may be the start of a tag split across pieces."""

    @property
    def tokens(self) -> int:
        # Servers stream about one token per piece; when one batches pieces, the characters say more.
        return max(self.pieces, math.ceil(self.chars / PROSE_CHARS_PER_TOKEN * self.scale))

    async def on_reasoning(self, text: str) -> None:
        await _call(self._on_reasoning, text)
        self._add(text)

    async def on_token(self, text: str) -> None:
        await _call(self._on_token, text)
        scanned = self._carry + text
        self._carry = ""
        pos = 0
        for match in _TAG.finditer(scanned):
            if self.inside:
                self._add(scanned[pos : match.start()], count_piece=False)
            self.inside = not match.group(1)
            pos = match.end()
        rest = scanned[pos:]
        cut = rest.rfind("<")
        if cut != -1 and ">" not in rest[cut:] and len(rest) - cut < _LONGEST_TAG:
            rest, self._carry = rest[:cut], rest[cut:]
        if self.inside:
            self._add(rest)

    def _add(self, text: str, count_piece: bool = True) -> None:
        if not text:
            return
        self.thought.append(text)
        self.chars += len(text)
        self.pieces += 1 if count_piece else 0
        if self.budget and self.tokens > self.budget:
            raise ThinkingBudgetSpent("".join(self.thought), self.tokens)


async def _call(callback: TokenCallback | None, text: str) -> None:
    if callback is None:
        return
    result = callback(text)
    if result is not None:
        await result


@dataclass(frozen=True)
class ThinkingPolicy:
    budget: int
    """Reasoning tokens per reply (0: no limit)."""
    disable: bool
    """Ask for no thinking on every request."""
    switches: Sequence[str] = ("chat_template_kwargs",)
    """How this model's template turns thinking off (its profile's `thinking_off`)."""

    def request(
        self, messages: list[Message], extra: dict[str, Any] | None, *, off: bool | None = None
    ) -> tuple[list[Message], dict[str, Any] | None]:
        """The messages and extra body fields of one request, with thinking off when asked (`off`, else the
        setting). The history itself is never changed."""
        if not (self.disable if off is None else off):
            return messages, extra
        if "chat_template_kwargs" in self.switches:
            kwargs = dict((extra or {}).get("chat_template_kwargs") or {})
            extra = {**(extra or {}), "chat_template_kwargs": {**kwargs, "enable_thinking": False}}
        if "no_think" in self.switches:
            messages = _with_no_think(messages)
        return messages, extra

    def reask(self, messages: list[Message], spent: ThinkingBudgetSpent) -> list[Message]:
        """The request again after its thinking was cut: where the thinking had got to, and "answer now"."""
        tail = spent.thought[-TAIL_CHARS:].strip()
        where = f"\n\nWhere your thinking had got to:\n…{tail}" if tail else ""
        return [*messages, {"role": "user", "content": REASK.format(budget=self.budget) + where}]


def _with_no_think(messages: list[Message]) -> list[Message]:
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            if message["content"].rstrip().endswith(NO_THINK):
                return messages
            changed = {**message, "content": f"{message['content'].rstrip()} {NO_THINK}"}
            return [*messages[:i], changed, *messages[i + 1 :]]
    return [*messages, {"role": "user", "content": NO_THINK}]


def separate(reply: ChatResponse) -> ChatResponse:
    """The reply with its leading <think> block moved from `content` to `reasoning`: the history keeps answers
    only. Only thinking that comes first counts (a block opening the reply, or text closed by a tag that was
    never opened, as templates that open it in the prompt produce, before any code fence): a tag further on may
    be part of code the model writes."""
    content = reply.content
    first = _TAG.search(content)
    if first is None:
        return reply
    head = content[: first.start()]
    opening = not first.group(1)
    if opening and head.strip() or not opening and "```" in head:
        return reply
    answer, thinking = split_thinking(content[: _block_end(content, first)])
    answer += content[_block_end(content, first) :]
    reasoning = "\n\n".join(part for part in (reply.reasoning, thinking.strip()) if part)
    return reply.model_copy(update={"content": answer.strip(), "reasoning": reasoning})


def _block_end(content: str, first: re.Match[str]) -> int:
    """Where the leading thinking block ends: after its closing tag (the end of the text when unclosed)."""
    if first.group(1):  # it was the closing tag itself
        return first.end()
    close = _TAG.search(content, first.end())
    while close is not None and not close.group(1):
        close = _TAG.search(content, close.end())
    return close.end() if close is not None else len(content)
