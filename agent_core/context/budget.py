"""Context budget: keep the prompt inside the model's window.

Under pressure the oldest tool results are evicted first (replaced by a one-line stub telling the model how to
get them back), then old assistant text is shortened. The system prompt and the task are never touched.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Protocol

from agent_core.llm.types import Message

DEFAULT_WINDOW = 8192


class Counter(Protocol):
    def estimate(self, text: str) -> int: ...
    def count_messages(self, messages: list[Message]) -> int: ...


def _text(message: Message) -> str:
    content = message.get("content") or ""
    if not isinstance(content, str):
        content = str(content)
    calls = message.get("tool_calls")
    return content + (str(calls) if calls else "")


def is_tool_result(message: Message) -> bool:
    return message.get("role") == "tool" or bool(message.get("smallcode_tool_result"))


@dataclass
class BudgetSplit:
    window: int
    system: int
    task: int
    history: int
    tool_results: int
    reserve: int

    @property
    def used(self) -> int:
        return self.system + self.task + self.history + self.tool_results

    @property
    def free(self) -> int:
        return max(0, self.window - self.used - self.reserve)

    def as_dict(self) -> dict[str, int]:
        return {
            "window": self.window,
            "system": self.system,
            "task": self.task,
            "history": self.history,
            "tool_results": self.tool_results,
            "reserve": self.reserve,
            "free": self.free,
            "used": self.used,
        }

    def bar(self, width: int = 50) -> str:
        """A one-line bar: S system, T task, H history, R tool results, · free (reply reserve shown as ░)."""
        parts = [
            ("S", self.system),
            ("T", self.task),
            ("H", self.history),
            ("R", self.tool_results),
            ("░", self.reserve),
            ("·", self.free),
        ]
        total = max(self.window, self.used + self.reserve)
        cells = ""
        for char, amount in parts:
            cells += char * round(width * amount / total) if amount else ""
        cells = (cells + "·" * width)[:width]
        pct = 100 * self.used / self.window if self.window else 0
        return (
            f"[{cells}] {self.used}/{self.window} tokens ({pct:.0f}%)\n"
            f"S system {self.system} · T task {self.task} · H history {self.history} · "
            f"R tool results {self.tool_results} · ░ reply reserve {self.reserve} · free {self.free}"
        )


class ContextBudget:
    def __init__(self, window: int, counter: Counter, reserve: int = 1024) -> None:
        self.window = window
        self.counter = counter
        # Never reserve more than a third of a tiny window for the reply.
        self.reserve = min(reserve, window // 3)

    @property
    def limit(self) -> int:
        return self.window - self.reserve

    def split(self, messages: list[Message]) -> BudgetSplit:
        system = task = history = tools = 0
        task_index = _task_index(messages)
        for i, message in enumerate(messages):
            n = self.counter.count_messages([message])
            if message.get("role") == "system":
                system += n
            elif i == task_index:
                task += n
            elif is_tool_result(message):
                tools += n
            else:
                history += n
        return BudgetSplit(self.window, system, task, history, tools, self.reserve)

    def fit(self, messages: list[Message], others: int = 0) -> list[Message]:
        """A copy of `messages` that fits the window (as well as it can without touching system and task).
        `others`: tokens the request spends besides its messages (the tool schemas a template renders)."""
        fitted = copy.deepcopy(messages)
        total = self.counter.count_messages(fitted)
        limit = self.limit - others
        if total <= limit:
            return fitted
        protected = {i for i, m in enumerate(fitted) if m.get("role") == "system"} | {_task_index(fitted)}
        last = len(fitted) - 1
        # 1) the oldest tool results first, keeping the most recent one whole as long as possible.
        for i, message in enumerate(fitted):
            if total <= limit:
                return fitted
            if i in protected or not is_tool_result(message) or message.get("smallcode_evicted"):
                continue
            if i == last:
                continue
            total -= self._shrink(message, _evicted_stub(message))
        # 2) old assistant/user turns shortened to their first lines.
        for i, message in enumerate(fitted[:-1]):
            if total <= limit:
                return fitted
            if i in protected or message.get("smallcode_evicted"):
                continue
            text = message.get("content") or ""
            if isinstance(text, str) and len(text) > 200:
                total -= self._shrink(message, text[:160] + " […shortened to fit the context window]")
        # 3) the newest message itself, cut down to what is left.
        if total > limit and fitted and last not in protected:
            message = fitted[last]
            text = message.get("content") or ""
            spare = max(200, (limit - (total - self.counter.count_messages([message]))) * 3)
            if isinstance(text, str) and len(text) > spare:
                self._shrink(message, text[:spare] + "\n[…cut to fit the context window; ask for less]")
        return fitted

    def _shrink(self, message: Message, new_content: str) -> int:
        before = self.counter.count_messages([message])
        message["content"] = new_content
        message["smallcode_evicted"] = True
        return before - self.counter.count_messages([message])


def _task_index(messages: list[Message]) -> int:
    for i, message in enumerate(messages):
        if message.get("role") == "user" and not is_tool_result(message):
            return i
    return -1


def _evicted_stub(message: Message) -> str:
    label = message.get("smallcode_label") or message.get("name") or "tool"
    size = len(_text(message))
    return (
        f"[{label} result evicted to save context ({size} chars); call the tool again if you still need it]"
    )


def wire_messages(messages: list[Message]) -> list[Message]:
    """Messages as sent to the server: our bookkeeping keys (smallcode_*) removed."""
    out = []
    for message in messages:
        out.append({k: v for k, v in message.items() if not k.startswith("smallcode_")})
    return out


def tool_result_message(label: str, text: str, call_id: str | None) -> dict[str, Any]:
    """A tool result: a `tool` message for native calls, else a user message (templates without tool roles)."""
    if call_id:
        return {
            "role": "tool",
            "tool_call_id": call_id,
            "content": text,
            "smallcode_tool_result": True,
            "smallcode_label": label,
        }
    return {
        "role": "user",
        "content": f"Result of {label}:\n{text}",
        "smallcode_tool_result": True,
        "smallcode_label": label,
    }
