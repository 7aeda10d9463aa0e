"""Patch engine: search/replace edits applied where the model meant them, or refused with a message.

Public: `apply_search_replace(text, search, replace) -> str` and `PatchError` (DESIGN.md); `apply_edit`
(same, with the matched stage and lines); `parse_edit_blocks` / `EditBlock` for SEARCH/REPLACE blocks in
prose; `apply_edit_blocks` for multi-block patches (per file all-or-nothing); `unified_diff`;
`PatchSpiralTracker`; file helpers in `agent_core.patch.textfile`.
"""

from __future__ import annotations

from agent_core.patch.blocks import EditBlock, parse_edit_blocks
from agent_core.patch.diff import diff_stats, unified_diff
from agent_core.patch.errors import PatchError
from agent_core.patch.matching import STAGES, EditOutcome, apply_edit
from agent_core.patch.multi import BlocksResult, apply_edit_blocks
from agent_core.patch.spiral import PatchSpiralTracker

__all__ = [
    "STAGES",
    "BlocksResult",
    "EditBlock",
    "EditOutcome",
    "PatchError",
    "PatchSpiralTracker",
    "apply_edit",
    "apply_edit_blocks",
    "apply_search_replace",
    "diff_stats",
    "parse_edit_blocks",
    "unified_diff",
]


def apply_search_replace(text: str, search: str, replace: str) -> str:
    """Replace the one place `search` means in `text`; raise PatchError when there is none or several."""
    return apply_edit(text, search, replace).text
