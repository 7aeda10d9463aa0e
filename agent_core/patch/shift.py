"""Indentation shifts between the model's lines and the file's, and re-indenting replacement lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from agent_core.patch.errors import PatchError
from agent_core.patch.lines import indent_of, is_blank


@dataclass(frozen=True)
class Shift:
    """The model's lines start with `old` where the file's start with `new` (the rest of the indent agrees)."""

    old: str = ""
    new: str = ""

    def apply(self, line: str) -> str:
        if is_blank(line) or (not self.old and not self.new):
            return line
        if line.startswith(self.old):
            return self.new + line[len(self.old) :]
        raise PatchError(
            "the replace text has lines indented less than the search text, and the search's indentation "
            "differs from the file's, so the new lines cannot be placed safely. Send the patch again with "
            "search and replace indented exactly as in the file.",
            reason="invalid",
        )


def shift_between(file_line: str, model_line: str) -> Shift:
    """The shift turning `model_line`'s indentation into `file_line`'s (common suffix of both kept)."""
    f_ws, s_ws = indent_of(file_line), indent_of(model_line)
    common = 0
    while common < min(len(f_ws), len(s_ws)) and f_ws[-1 - common] == s_ws[-1 - common]:
        common += 1
    return Shift(s_ws[: len(s_ws) - common], f_ws[: len(f_ws) - common])


def common_shift(pairs: dict[int, int], search: list[str], file_lines: list[str]) -> Shift:
    """The most common shift over non-blank paired lines (the default for inserted lines)."""
    counts = Counter(
        shift_between(file_lines[f], search[s])
        for s, f in pairs.items()
        if not is_blank(search[s]) and not is_blank(file_lines[f])
    )
    return counts.most_common(1)[0][0] if counts else Shift()
