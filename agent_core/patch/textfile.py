"""File-level helpers: decide whether a file can be edited, decode it, and write it back in its own style.

Editing keeps a file's encoding, BOM, line endings and final newline; binary files and files over the
size limit are refused with a message for the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_core.patch.diff import unified_diff
from agent_core.patch.errors import PatchError
from agent_core.patch.lines import BOM
from agent_core.patch.matching import EditOutcome, apply_edit
from agent_core.workspace import MAX_FILE_BYTES, looks_binary


def check_editable(data: bytes, name: str, max_bytes: int = MAX_FILE_BYTES) -> None:
    if len(data) > max_bytes:
        raise PatchError(
            f"{name} is {len(data):,} bytes, over the {max_bytes:,}-byte limit for edits; "
            "edit a smaller file, or change this one with a bash command (e.g. sed).",
            reason="too_large",
        )
    if looks_binary(data):
        raise PatchError(f"{name} is a binary file; only text files can be patched.", reason="binary")


@dataclass(frozen=True)
class TextFile:
    text: str
    """The decoded text; a BOM stays at its start, line endings stay as they are."""
    encoding: str
    """"utf-8", or "latin-1" for files that are not valid UTF-8 (every byte maps to one character)."""

    def encode(self, text: str) -> bytes:
        if self.encoding == "latin-1":
            try:
                return text.encode("latin-1")
            except UnicodeEncodeError:
                pass  # new characters latin-1 cannot hold: UTF-8 is the only lossless choice
        return text.encode("utf-8")


def decode(data: bytes, name: str, max_bytes: int = MAX_FILE_BYTES) -> TextFile:
    check_editable(data, name, max_bytes)
    try:
        return TextFile(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return TextFile(data.decode("latin-1"), "latin-1")


def conform(original: str, new: str) -> str:
    """`new` (e.g. a whole file from write_file) in `original`'s style: BOM, line endings, final newline."""
    if not original:
        return new
    bom = BOM if original.startswith(BOM) else ""
    body = new.removeprefix(BOM).replace("\r\n", "\n")
    crlf = original.count("\r\n")
    if crlf and crlf >= original.count("\n") - crlf:
        body = body.replace("\n", "\r\n")
    newline = "\r\n" if crlf else "\n"
    if original.endswith("\n") and body and not body.endswith("\n"):
        body += newline
    elif not original.endswith("\n"):
        body = body.rstrip("\r\n")
    return bom + body


@dataclass(frozen=True)
class FilePatch:
    data: bytes
    """The new file content, encoded like the old one."""
    outcome: EditOutcome
    diff: str


def patch_bytes(
    data: bytes, search: str, replace: str, name: str, max_bytes: int = MAX_FILE_BYTES
) -> FilePatch:
    """Apply one search/replace edit to a file's bytes; PatchError when it cannot be applied safely."""
    source = decode(data, name, max_bytes)
    outcome = apply_edit(source.text, search, replace)
    return FilePatch(source.encode(outcome.text), outcome, unified_diff(name, source.text, outcome.text))
