"""Multi-block patches: every block dry-run first; per file all or nothing.

A file gets its new text only when every block for it applies (in order, each on the text the previous
one left). Blocks for other files are independent. The message tells the model which blocks were applied
(so it does not re-send them) and why the others were not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agent_core.patch.blocks import EditBlock
from agent_core.patch.diff import unified_diff
from agent_core.patch.errors import PatchError
from agent_core.patch.matching import apply_edit


@dataclass
class BlocksResult:
    texts: dict[str, str] = field(default_factory=dict)
    """New text of every file whose blocks all applied (write these)."""
    created: list[str] = field(default_factory=list)
    """Of those, files that did not exist."""
    diffs: dict[str, str] = field(default_factory=dict)
    """Unified diff per changed file."""
    applied: list[int] = field(default_factory=list)
    failed: dict[int, PatchError] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)
    """Blocks that would apply but were held back because another block for the same file failed."""
    message: str = ""
    """What to tell the model."""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


def _apply_one(block: EditBlock, text: str | None) -> str:
    if not block.path:
        raise PatchError(
            "it has no file name: put the file's path on its own line just before <<<<<<< SEARCH",
            reason="invalid",
        )
    if text is None:
        if block.search.strip():
            raise PatchError(
                f"{block.path} does not exist. Check the path (find_files), or to create the file leave "
                "the SEARCH part empty.",
                reason="not_found",
            )
        return block.replace
    if not block.search.strip():
        if not text.strip():
            return block.replace
        raise PatchError(
            f"the SEARCH part is empty but {block.path} already exists. Put the lines next to the change in "
            "SEARCH, or use write_file to rewrite the whole file.",
            reason="invalid",
        )
    return apply_edit(text, block.search, block.replace).text


def _names(indexes: list[int], blocks: Sequence[EditBlock]) -> str:
    word = "Block" if len(indexes) == 1 else "Blocks"
    return f"{word} " + ", ".join(f"{i + 1} ({blocks[i].path})" for i in indexes)


def apply_edit_blocks(blocks: Sequence[EditBlock], files: Mapping[str, str | None]) -> BlocksResult:
    """Apply blocks to `files` (path → current text, None or absent when the file does not exist)."""
    result = BlocksResult()
    by_file: dict[str, list[int]] = {}
    for i, block in enumerate(blocks):
        by_file.setdefault(block.path, []).append(i)
    for path, indexes in by_file.items():
        original = files.get(path)
        text = original
        good: list[int] = []
        for i in indexes:
            try:
                text = _apply_one(blocks[i], text)
                good.append(i)
            except PatchError as exc:
                result.failed[i] = exc
        if any(i in result.failed for i in indexes):
            result.skipped.extend(good)
            continue
        result.applied.extend(good)
        if text is not None and text != original:
            result.texts[path] = text
            result.diffs[path] = unified_diff(path, original, text)
            if original is None:
                result.created.append(path)
    result.applied.sort()
    result.skipped.sort()
    result.message = _message(result, blocks)
    return result


def _message(result: BlocksResult, blocks: Sequence[EditBlock]) -> str:
    if not blocks:
        return "No edit blocks were found."
    if result.ok:
        files = sorted({blocks[i].path for i in result.applied})
        return f"Applied {len(result.applied)} edit block(s) to {', '.join(files)}."
    parts = [f"Block {i + 1} ({blocks[i].path}) failed: {exc}" for i, exc in sorted(result.failed.items())]
    if result.skipped:
        parts.append(
            f"{_names(result.skipped, blocks)} would apply but were NOT applied, because another block "
            "for the same file failed (each file is all or nothing): re-send them with the fixed blocks."
        )
    if result.applied:
        parts.append(f"{_names(result.applied, blocks)} were applied; don't re-send them.")
    else:
        parts.append("No block was applied.")
    return "\n".join(parts)
