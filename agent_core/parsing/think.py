"""Separating reasoning (<think>…</think>) from the answer, in one pass.

Calls inside thinking count only when the answer itself has none (the orchestrator decides that)."""

from __future__ import annotations

import re

_TAG = re.compile(r"<(/?)(think|thinking|reasoning)>", re.I)


def split_thinking(text: str) -> tuple[str, str]:
    """(answer, thinking). A closing tag with no opening one means everything before it was thinking
    (templates such as Qwen3's put the opening tag in the prompt); an unclosed block runs to the end."""
    answer: list[str] = []
    thinking: list[str] = []
    pos = 0
    inside = False
    for m in _TAG.finditer(text):
        closing = bool(m.group(1))
        if closing:
            if inside or not answer and not thinking:
                thinking.append(text[pos : m.start()])
            else:
                answer.append(text[pos : m.start()])
            inside = False
        else:
            (thinking if inside else answer).append(text[pos : m.start()])
            inside = True
        pos = m.end()
    (thinking if inside else answer).append(text[pos:])
    return "".join(answer), "".join(thinking)
