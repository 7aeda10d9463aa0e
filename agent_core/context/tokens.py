"""TokenCounter: fast token estimates for budgeting, calibrated against the server's tokenizer when it has one.

Counting every message through the server would cost a round trip per message, so the budget works on an
estimate: characters divided by a rate (about 3.5 characters per token for code, whose symbols and short
identifiers split into many tokens, and 4 for prose), times a scale factor that `calibrate` measures once on
a sample when the server can tokenize. Estimates round up: running out of context hurts more than wasting
a little of it.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

CODE_CHARS_PER_TOKEN = 3.5
PROSE_CHARS_PER_TOKEN = 4.0
MESSAGE_OVERHEAD = 4
"""Tokens each chat message costs beyond its text (role and the template's separators)."""

_CODE_SYMBOLS = frozenset("{}()[];=<>:+-*/\\|&%#\"'`.,_!$@^~")
_CODE_SYMBOL_SHARE = 0.08
"""Text whose non-blank characters are at least 8% symbols counts as code (prose sits near 2-4%)."""

CALIBRATION_SAMPLE = '''\
def load_settings(path: Path, overrides: dict[str, Any] | None = None) -> Settings:
    """Read smallcode.toml, then apply the overrides; raise ConfigError on a bad value."""
    data = tomllib.loads(path.read_text()) if path.exists() else {}
    for key, value in (overrides or {}).items():
        data[key] = value
    return Settings.model_validate(data)

The agent reads the file before it edits it, runs the tests after each change, and stops when they pass.
If a search block does not match, it reads the lines again and retries with the exact text it found.
'''
"""Mixed code and prose, like the context the agent builds."""


class SupportsTokenize(Protocol):
    async def count_tokens(self, text: str) -> int | None: ...


def is_code(text: str) -> bool:
    """A cheap guess: is this text mostly code (symbols, brackets, operators) rather than prose?"""
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return False
    symbols = sum(1 for c in visible if c in _CODE_SYMBOLS)
    return symbols / len(visible) >= _CODE_SYMBOL_SHARE


class TokenCounter:
    """Estimates tokens in text and chat messages; `scale` is 1.0 until `calibrate` measures the server."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.calibrated = False

    def _raw(self, text: str) -> float:
        rate = CODE_CHARS_PER_TOKEN if is_code(text) else PROSE_CHARS_PER_TOKEN
        return len(text) / rate

    def estimate(self, text: str) -> int:
        """Estimated tokens in `text` (0 for empty text)."""
        return math.ceil(self._raw(text) * self.scale) if text else 0

    def count_messages(self, messages: list[dict[str, Any]]) -> int:
        """Estimated prompt tokens for OpenAI chat messages: text, tool calls and per-message overhead."""
        return sum(MESSAGE_OVERHEAD + self.estimate(message_text(m)) for m in messages)

    async def calibrate(self, client: SupportsTokenize, sample: str = CALIBRATION_SAMPLE) -> bool:
        """Measure the server's tokens per estimated token on `sample` and scale later estimates.

        Returns False (and keeps the current scale) when the server has no tokenizer. The scale is
        clamped to [0.5, 2.0]: a wilder ratio means a misbehaving endpoint, not a real tokenizer.
        """
        measured = await client.count_tokens(sample)
        raw = self._raw(sample)
        if not measured or raw <= 0:
            return False
        self.scale = min(2.0, max(0.5, measured / raw))
        self.calibrated = True
        return True


def message_text(message: dict[str, Any]) -> str:
    """The text a chat message puts in the prompt: its content and its tool calls' names and arguments."""
    parts: list[str] = []
    content = message.get("content")
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        parts.extend(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    for call in message.get("tool_calls") or []:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict):
            continue
        parts.append(str(fn.get("name", "")))
        args = fn.get("arguments", "")
        parts.append(args if isinstance(args, str) else str(args))
    return "\n".join(p for p in parts if p)
