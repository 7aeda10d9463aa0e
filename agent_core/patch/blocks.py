"""Edit blocks in a model's prose, for replies that answer with blocks instead of a tool call.

Understood: aider-style SEARCH/REPLACE blocks with the file name on the line before (or inside the fence,
or in the fence's info string), several blocks per file name, and unified diffs (```diff fences or bare
`--- a/x` / `+++ b/x` headers) whose hunks become search/replace pairs (their line numbers, often wrong,
are ignored; the cascade finds the place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent_core.patch.errors import PatchError

_HEAD = re.compile(r"^\s*<{5,9}\s*SEARCH\b.*$", re.IGNORECASE)
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_TAIL = re.compile(r"^\s*>{5,9}\s*REPLACE\b.*$", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(?:```+|~~~+)\s*(\S*)\s*(.*)$")
_DIFF_OLD = re.compile(r"^---\s+(\S+)")
_DIFF_NEW = re.compile(r"^\+\+\+\s+(\S+)")
_PATH_TOKEN = re.compile(r"^[\w./\\@+~-]+$")
_BARE_NAMES = {"Makefile", "Dockerfile", "Procfile", "Gemfile", "Rakefile", "LICENSE", "Justfile"}

FORMAT_HELP = (
    "Write each edit as:\npath/to/file.py\n<<<<<<< SEARCH\n(exact lines from the file)\n=======\n"
    "(new lines)\n>>>>>>> REPLACE"
)


@dataclass(frozen=True)
class EditBlock:
    path: str
    """The file name as the model wrote it ("" when it gave none)."""
    search: str
    """Lines to find ("" means: create the file)."""
    replace: str


def _clean_path(line: str) -> str | None:
    """A file name from a line like `src/app.py`, **src/app.py**, `# File: src/app.py:` — or None."""
    text = line.strip().strip("*`'\"").strip()
    text = re.sub(r"^(?:#+|//)\s*", "", text)
    text = re.sub(r"^(?:file(?:name)?|path)\s*:\s*", "", text, flags=re.IGNORECASE)
    text = text.strip("*`'\"").rstrip(":").strip().strip("*`'\"")
    if not text or not _PATH_TOKEN.match(text):
        return None
    if "." in text or "/" in text or text in _BARE_NAMES:
        return text.removeprefix("./")
    return None


def _fence_path(line: str) -> str | None:
    m = _FENCE.match(line)
    if not m:
        return None
    for token in (m.group(1).split(":", 1)[-1], m.group(2)):  # ```python:src/app.py, ```python src/app.py
        if token and ("." in token or "/" in token):
            return _clean_path(token)
    return None


def _path_before(lines: list[str], at: int) -> str | None:
    """The file name written just before line `at` (past blank lines and an opening fence)."""
    for k in range(at - 1, max(at - 4, -1), -1):
        line = lines[k]
        if not line.strip():
            continue
        if _FENCE.match(line):
            found = _fence_path(line)
            if found:
                return found
            continue
        return _clean_path(line)
    return None


def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def parse_edit_blocks(text: str) -> list[EditBlock]:
    """Every edit block in `text`, in order; [] when there are none. PatchError for a malformed block."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    blocks: list[EditBlock] = []
    path = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if _HEAD.match(line):
            path = _path_before(lines, i) or path
            block, i = _search_replace(lines, i, path, len(blocks) + 1)
            blocks.append(block)
        elif _DIFF_OLD.match(line) and i + 1 < len(lines) and _DIFF_NEW.match(lines[i + 1]):
            found, i = _unified(lines, i)
            blocks.extend(found)
        else:
            i += 1
    return blocks


def _search_replace(lines: list[str], at: int, path: str, number: int) -> tuple[EditBlock, int]:
    search: list[str] = []
    replace: list[str] = []
    part = search
    for k in range(at + 1, len(lines)):
        line = lines[k]
        if _TAIL.match(line):
            if part is search:
                break
            return EditBlock(path, _text(search), _text(replace)), k + 1
        if _DIVIDER.match(line) and part is search:
            part = replace
        elif _HEAD.match(line):
            break
        else:
            part.append(line)
    missing = "=======" if part is search else ">>>>>>> REPLACE"
    raise PatchError(
        f"edit block {number} starts with <<<<<<< SEARCH but has no {missing} line, so no block was "
        f"applied. {FORMAT_HELP}",
        reason="invalid",
    )


def _diff_path(raw: str) -> str:
    return "" if raw == "/dev/null" else re.sub(r"^[ab]/", "", raw)


def _unified(lines: list[str], at: int) -> tuple[list[EditBlock], int]:
    """Hunks of one file's unified diff as search/replace blocks."""
    old = _diff_path(_DIFF_OLD.match(lines[at]).group(1))  # type: ignore[union-attr]
    new = _diff_path(_DIFF_NEW.match(lines[at + 1]).group(1))  # type: ignore[union-attr]
    path = new or old
    blocks: list[EditBlock] = []
    search: list[str] = []
    replace: list[str] = []

    def flush() -> None:
        if search or replace:
            blocks.append(EditBlock(path, "" if not old else _text(search), _text(replace)))
        search.clear()
        replace.clear()

    k = at + 2
    while k < len(lines):
        line = lines[k]
        if line.startswith("@@"):
            flush()
        elif line.startswith("-"):
            search.append(line[1:])
        elif line.startswith("+"):
            replace.append(line[1:])
        elif line.startswith(" ") or line == "":
            # Models drop the space of blank context lines; a blank line after the last hunk ends the diff.
            if line == "" and (k + 1 >= len(lines) or lines[k + 1][:1] not in (" ", "-", "+", "@")):
                break
            search.append(line[1:])
            replace.append(line[1:])
        elif line.startswith("\\"):
            pass  # "\ No newline at end of file"
        else:
            break
        k += 1
    flush()
    return blocks, k
