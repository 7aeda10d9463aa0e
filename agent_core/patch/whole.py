"""Whole-file edits in a reply: a file's path alone on a line, then its complete new content in a fence.

Aider measured this as the one edit format small models keep well-formed: no JSON escaping of code, no
search text to copy exactly. Only paths the run knows are taken (files in play, or a new file the task
names), so a code sample in an explanation does not overwrite anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent_core.patch.blocks import _clean_path

_OPEN = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+#.-]*)\s*(.*)$")
MAX_WHOLE_LINES = 400
"""Longer blocks are not taken as a whole file (a small model rewriting a long file loses parts of it)."""


@dataclass(frozen=True)
class WholeFile:
    path: str
    content: str


_LANG_SUFFIXES = {
    "python": ".py", "py": ".py", "javascript": ".js", "js": ".js", "typescript": ".ts", "ts": ".ts",
    "go": ".go", "rust": ".rs", "rs": ".rs", "java": ".java", "ruby": ".rb", "rb": ".rb", "c": ".c",
    "cpp": ".cpp", "sh": ".sh", "bash": ".sh", "html": ".html", "css": ".css", "lua": ".lua", "php": ".php",
}  # fmt: skip


def parse_whole_files(text: str, known: set[str], default: str | None = None) -> list[WholeFile]:
    """The whole-file blocks in `text` whose path is in `known` (workspace-relative POSIX paths).

    `default`: the one file in play; a block with no path whose language fits it (```python for a .py file,
    or no language) is taken as that file — small models often drop the path line."""
    lines = text.splitlines()
    found: list[WholeFile] = []
    i = 0
    while i < len(lines):
        opened = _OPEN.match(lines[i])
        if opened is None:
            i += 1
            continue
        fence = opened.group(1)
        path = _path_before(lines, i) or _clean_path(opened.group(3) or "")
        end = _closing(lines, i + 1, fence)
        if end is None:  # an unclosed fence is a cut-off reply: never write half a file
            break
        body = lines[i + 1 : end]
        if body and (head := _clean_path(body[0])) and head in known and path is None:
            path, body = head, body[1:]  # the path as the fence's first line, e.g. "# calc.py"
        if path is None and default is not None and _fits(opened.group(2), default):
            path = default
        if path in known and body and len(body) <= MAX_WHOLE_LINES and not _is_call(body):
            found.append(WholeFile(path, "\n".join(body) + "\n"))
        i = end + 1
    return _last_per_path(found)


def _fits(lang: str, path: str) -> bool:
    lang = lang.lower()
    return not lang or _LANG_SUFFIXES.get(lang) == "." + path.rsplit(".", 1)[-1].lower()


def _path_before(lines: list[str], fence_at: int) -> str | None:
    for back in (1, 2):  # the path line may be followed by one blank line
        j = fence_at - back
        if j < 0:
            return None
        if lines[j].strip():
            return _clean_path(lines[j])
    return None


def _closing(lines: list[str], start: int, fence: str) -> int | None:
    for j in range(start, len(lines)):
        stripped = lines[j].strip()
        if stripped.startswith(fence[0] * 3) and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            return j
    return None


def _is_call(body: list[str]) -> bool:
    """A JSON tool call in a fence is a call, not a file's content."""
    joined = "\n".join(body).strip()
    return joined.startswith("{") and '"name"' in joined and '"arguments"' in joined


def _last_per_path(found: list[WholeFile]) -> list[WholeFile]:
    latest = {f.path: f for f in found}
    return list(latest.values())
