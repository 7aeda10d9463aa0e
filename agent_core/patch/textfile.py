"""The one text codec: every read and write of a text file goes through `TextFile`.

A file is decoded once (UTF-8, else Latin-1, where every byte is one character), its BOM and line endings
kept in the text. New text is written back in the file's own style: its encoding and BOM, the ending of every
line the change leaves alone, its usual ending on new lines (LF text from a model becomes CRLF in a CRLF
file), its final newline or the lack of one. An edit changes the bytes of the lines it changes, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from agent_core.patch.lines import BOM, Doc, join_lines

MAX_FILE_BYTES = 2_000_000
"""Text files larger than this are refused by edit tools and `read_text` (read_file streams parts of them)."""


class TextFileError(Exception):
    """Bytes that cannot be read as text, or text the file's encoding cannot hold; the message is for the model."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
        """binary | too_large | encoding"""


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


@dataclass(frozen=True)
class TextFile:
    text: str = ""
    """The decoded text; a BOM stays at its start, line endings stay as they are. "" for a new file."""
    encoding: str = "utf-8"
    """"utf-8", or "latin-1" for files that are not valid UTF-8."""

    @classmethod
    def decode(cls, data: bytes, name: str, max_bytes: int = MAX_FILE_BYTES) -> TextFile:
        if len(data) > max_bytes:
            raise TextFileError(
                f"{name} is {len(data):,} bytes, over the {max_bytes:,}-byte limit for edits; "
                "edit a smaller file, or change this one with a bash command (e.g. sed).",
                reason="too_large",
            )
        if looks_binary(data):
            raise TextFileError(
                f"{name} is a binary file; the agent only reads and edits text files", reason="binary"
            )
        try:
            return cls(data.decode("utf-8"), "utf-8")
        except UnicodeDecodeError:
            return cls(data.decode("latin-1"), "latin-1")

    def encode(self, new: str, name: str) -> bytes:
        """`new` (the file's whole next text) as this file's bytes: in its style (`conform`) and encoding."""
        text = conform(self.text, new)
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError as exc:
            line = text.count("\n", 0, exc.start) + 1
            what = "a Latin-1 file" if self.encoding == "latin-1" else "UTF-8 text"
            raise TextFileError(
                f"{name} is {what}, which cannot hold {text[exc.start : exc.end]!r} (line {line}); write that "
                "character another way (e.g. an escape sequence) and keep the file's encoding.",
                reason="encoding",
            ) from None


def conform(original: str, new: str) -> str:
    """`new` in `original`'s style; lines both share keep their endings byte for byte. A new or empty
    `original` takes `new` as it is."""
    bom = BOM if original.startswith(BOM) else ""
    old = Doc.parse(original[len(bom) :])
    body = new.removeprefix(BOM)
    if not old.lines:
        return bom + body
    lines = body.split("\n")
    if lines[-1] == "":
        lines.pop()
    lines = [line.removesuffix("\r") for line in lines]
    return bom + join_lines(_with_endings(old, lines), old.newline, old.final_newline)


def _with_endings(old: Doc, new: list[str]) -> list[tuple[str, str]]:
    """Each new line with an ending: its own in the original when unchanged, the replaced line's when changed
    in place, else the original's usual one."""
    a = old.lines
    head = 0
    while head < min(len(a), len(new)) and a[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(new)) - head and a[-1 - tail] == new[-1 - tail]:
        tail += 1
    out = list(zip(a[:head], old.ends[:head], strict=True))
    mid_a, ends_a = a[head : len(a) - tail], old.ends[head : len(a) - tail]
    mid_b = new[head : len(new) - tail]
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, mid_a, mid_b).get_opcodes():
        if tag == "equal":
            out += zip(mid_a[i1:i2], ends_a[i1:i2], strict=True)
            continue
        for k, line in enumerate(mid_b[j1:j2]):
            out.append((line, ends_a[i1 + k] if i1 + k < i2 else old.newline))
    out += zip(a[len(a) - tail :], old.ends[len(a) - tail :], strict=True)
    return out
