"""The scratchpad: the model's working memory. It rewrites it with the `scratchpad` tool (what it found, what
is left to do) and sees it with every request, cut to a share of the window; it lives in
.smallcode/scratchpad.md (redacted, readable by the user only) and /memory shows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent_core.safety.redact import redact
from agent_core.workspace import atomic_write

MAX_PAD_CHARS = 3000
HEADER = "Your scratchpad (working notes you wrote; rewrite it with the scratchpad tool when they change):"


def _path(root: Path) -> Path:
    return root / ".smallcode" / "scratchpad.md"


def read_pad(root: Path) -> str:
    try:
        return _path(root).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def write_pad(root: Path, text: str) -> str:
    """Replace the scratchpad (an empty text clears it); returns what was kept."""
    kept = redact(text.strip())[:MAX_PAD_CHARS]
    atomic_write(_path(root), (kept + "\n" if kept else "").encode("utf-8"), mode=0o600)
    return kept


def pad_for_prompt(root: Path, budget_tokens: int, count: Callable[[str], int]) -> str:
    """The scratchpad as shown to the model, within `budget_tokens` ("" when empty)."""
    text = read_pad(root)
    if not text or budget_tokens < 20:
        return ""
    shown = f"{HEADER}\n{text}"
    while count(shown) > budget_tokens and len(text) > 40:
        text = text[: int(len(text) * 0.8)]
        shown = f"{HEADER}\n{text}\n[…cut to fit; shorten the scratchpad]"
    return shown
