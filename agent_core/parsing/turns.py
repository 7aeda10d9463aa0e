"""Where the model's own turn ends. Small models served with a mismatched template run on past their turn:
an end-of-turn token (`<|im_end|>`, `<|eot_id|>`, `<end_of_turn>`, ...), then a made-up next turn
(`<|im_start|>user ...`, a line `assistant: ...`) that may hold more calls, invented tool results and all.
Only the text before the first such marker is the reply; a marker at the very start (an echoed role
header) is skipped instead."""

from __future__ import annotations

import re

_MARKERS = re.compile(
    r"<\|im_end\|>|<\|im_start\|>|<\|eot_id\|>|<\|eom_id\|>|<\|start_header_id\|>|<\|end_of_text\|>"
    r"|<\|endoftext\|>|<\|end\|>|<\|user\|>|<\|assistant\|>|<\|system\|>|<end_of_turn>|<start_of_turn>"
    r"|<[|｜]end[▁_ ]of[▁_ ]sentence[|｜]>|<[|｜](?:User|Assistant)[|｜]>|\[INST\]"
    # a line that starts a new turn: `assistant:` in any case; `User:` / `Human:` capitalised only (a
    # lowercase `user: root` is a YAML key, not a turn)
    r"|^[ \t]*(?:#{1,4}[ \t]*)?(?:[Aa]ssistant|ASSISTANT|User|USER|Human|HUMAN)[ \t]*:",
    re.M,
)
_ROLE_WORD = re.compile(r"[ \t]*(?:assistant|model)?[ \t]*(?:<\|end_header_id\|>)?[ \t]*\n*", re.I)


def own_turn(text: str) -> str:
    """`text` up to the first marker of a following turn (whitespace before it trimmed)."""
    pos = 0
    while True:
        m = _MARKERS.search(text, pos)
        if m is None:
            return text
        if text[: m.start()].strip():
            return text[: m.start()].rstrip()
        # An echoed header at the start (`<|im_start|>assistant\n`, `assistant:`): read on after it.
        pos = m.end()
        role = _ROLE_WORD.match(text, pos)
        if role is not None and text.startswith(
            ("<|im_start|>", "<|start_header_id|>", "<start_of_turn>"), m.start()
        ):
            pos = role.end()
        text = text[pos:]
        pos = 0
        if not text.strip():
            return text
