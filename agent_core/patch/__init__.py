"""Search/replace editing. `apply_search_replace` is a public interface (DESIGN.md)."""

from __future__ import annotations


class PatchError(Exception):
    """No unique match for a search block; the message is written for the model."""


def apply_search_replace(text: str, search: str, replace: str) -> str:
    """Replace the one place `search` occurs in `text`; raise PatchError when there is none or several."""
    if not search:
        raise PatchError("search is empty: copy the exact lines to change from the file (read_file first)")
    count = text.count(search)
    if count == 0:
        raise PatchError("search text not found in the file: read_file it again and copy the lines exactly")
    if count > 1:
        raise PatchError(f"search text occurs {count} times: include more surrounding lines so it is unique")
    return text.replace(search, replace, 1)
