"""Whole-file edits in a reply: a file's path alone on a line, then its complete new content in a fence.

Aider measured this as the one edit format small models keep well-formed: no JSON escaping of code, no
search text to copy exactly. Only paths the run knows are taken (files in play, or a new file the task
names), so a code sample in an explanation does not overwrite anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from agent_core.patch.blocks import _clean_path
from agent_core.verify.testfiles import is_test_file

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


def parse_whole_files(
    text: str, known: set[str], default: str | None = None, current: Mapping[str, str] | None = None
) -> list[WholeFile]:
    """The whole-file blocks in `text` whose path is in `known` (workspace-relative POSIX paths).

    A block's path is the line just before it, its fence's info string or first line, or else the one known
    file the sentence introducing it names ("… at the top of `store/errors.py`:").
    `default`: the one file in play; a block with no path whose language fits it (```python for a .py file,
    or no language) may be that file — small models often drop the path line. When several such blocks
    come, the file is the first that is not a copy of its current text (`current`: path → text) and not a
    test or usage example of it (a module never imports itself)."""
    lines = text.splitlines()
    found: list[WholeFile] = []
    pathless: list[WholeFile] = []
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
        if body and (head := _clean_path(body[0])) and head in known and path not in known:
            path, body = head, body[1:]  # the path as the fence's first line, e.g. "# calc.py"
        if body and (inner := _OPEN.match(body[0])) and inner.group(1) == fence and inner.group(2):
            # A stray fence before the path line ("```", "calc.py:", "```python", code, "```"): the block
            # opened early, and its real opening line is not part of the file.
            body = body[1:]
        if path not in known:
            path = _named_in_prose(lines, i, known, "\n".join(body))
        usable = bool(body) and len(body) <= MAX_WHOLE_LINES and not _is_call(body)
        if usable and path in known:
            found.append(WholeFile(path, "\n".join(body) + "\n"))
        elif usable and path is None and default is not None and _fits(opened.group(2), default):
            pathless.append(WholeFile(default, "\n".join(body) + "\n"))
        i = end + 1
    if default is not None and not any(f.path == default for f in found):
        chosen = _pick_default(pathless, default, (current or {}).get(default))
        if chosen is not None:
            found.append(chosen)
    if current and len(found) > 1:  # a file restated as it is ("the tests, unchanged:") is not an edit
        found = [f for f in found if f.content.strip() != current.get(f.path, "\0").strip()] or found
    return _last_per_path(found)


_WORD_PATH = re.compile(r"[\w./-]+")


def _named_in_prose(lines: list[str], fence_at: int, known: set[str], body: str) -> str | None:
    """The known file named in the sentence just before a fence that the block can be (the last one, if it
    names several): "Fix pages.py; do not change test_pages.py." before the module's code is pages.py."""
    for back in (1, 2):
        j = fence_at - back
        if j < 0 or _OPEN.match(lines[j]):
            return None
        if lines[j].strip():
            named = [w.strip("./") for w in _WORD_PATH.findall(lines[j]) if w.strip("./") in known]
            return next((p for p in reversed(named) if _could_be(p, body)), None)
    return None


_TEST_CODE = re.compile(r"^\s*(?:def test_\w*\(|class \w*\(\s*unittest\.TestCase\)|import pytest\b)", re.M)


def _could_be(path: str, content: str) -> bool:
    """Whether `content` can be the Python file `path`: a module never imports itself, and test code goes
    in a test file only (other files are taken as they come)."""
    if not path.endswith(".py"):
        return True
    module = path.rsplit("/", 1)[-1].removesuffix(".py")
    imports_itself = re.compile(
        rf"^\s*(?:from\s+[\w.]*\b{re.escape(module)}\s+import|import\s+[\w.]*\b{re.escape(module)}\b)", re.M
    )
    return not imports_itself.search(content) and bool(_TEST_CODE.search(content)) == is_test_file(path)


def _pick_default(blocks: list[WholeFile], path: str, now: str | None) -> WholeFile | None:
    """Of the pathless blocks, the one meant as the file: not the file as it already is, whole or a quoted
    part (an "original code" block before the changed one), not a test or example that imports the module."""
    candidates = [b for b in blocks if _could_be(path, b.content)]
    changed = [b for b in candidates if now is None or not _quotes(now, b.content)]
    pool = changed or candidates
    return pool[0] if pool else None


def _quotes(now: str, content: str) -> bool:
    """Whether a block only restates the file as it is, whole or in part: its lines are a run of the file's,
    indented alike relative to each other (a method quoted out of its class may lose the class's indentation;
    a fix that only moves a line in or out of a block is not a quote). "Change the line: <the code as it is>
    to: <the new code>" puts the quote first."""
    block = _shape([line.rstrip() for line in content.splitlines() if line.strip()])
    lines = [line.rstrip() for line in now.splitlines() if line.strip()]
    return any(_shape(lines[i : i + len(block)]) == block for i in range(len(lines) - len(block) + 1))


def _shape(lines: list[str]) -> list[str]:
    """Non-blank lines without the indentation they all share."""
    pad = min((len(line) - len(line.lstrip()) for line in lines), default=0)
    return [line[pad:] for line in lines]


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


_TOP_LEVEL_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+(\w+)", re.M)


def closes_whole_file(text: str, known: set[str], path: str, current: str | None) -> bool:
    """Whether a reply being streamed has just closed a block that is all of `path`'s new content: a block
    for it (named, or the one file in play) that changes the file and keeps every top-level definition it
    has. A snippet of one function ("the corrected function:") is not it: such replies often go on to write
    the whole file, which is the block that counts."""
    complete = text[: text.rfind("\n")]
    last = complete.rstrip("\n").rsplit("\n", 1)[-1].strip()
    if len(last) < 3 or set(last) not in ({"`"}, {"~"}):
        return False
    blocks = parse_whole_files(complete, known, path, {path: current} if current is not None else None)
    new = next((b.content for b in blocks if b.path == path), None)
    if new is None or not new.strip():
        return False
    if current is None:
        return True
    had = set(_TOP_LEVEL_DEFINITION.findall(current))
    return new.strip() != current.strip() and had <= set(_TOP_LEVEL_DEFINITION.findall(new))
