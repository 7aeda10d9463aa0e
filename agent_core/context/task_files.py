"""Context up front: the files a task names go into the first prompt, so the model starts with them.

A small model on a laptop spends a whole turn (tens of seconds) reading a file the user already named; shown
in the task message, it can change it on the first turn. Files are shown in full while they fit the budget;
larger ones are only listed. A file shown in full counts as read for the write guard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from agent_core.context.tokens import TokenCounter
from agent_core.safety.paths import PathError, resolve_in_workspace
from agent_core.verify.testfiles import is_test_file
from agent_core.workspace import Workspace, WorkspaceError

MAX_NAMED = 6
"""Files taken from one task; a task naming more is about a wider change the model should explore itself."""
MAX_SHOWN_LINES = 400
_PATHISH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]*\w\.[A-Za-z][\w]{0,7})(?![\w/])")
CODE_SUFFIXES = frozenset(
    [
        ".py",
        ".js",
        ".mjs",
        ".cjs",
        ".ts",
        ".tsx",
        ".jsx",
        ".go",
        ".rs",
        ".java",
        ".kt",
        ".rb",
        ".php",
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".hpp",
        ".cs",
        ".swift",
        ".sh",
        ".lua",
        ".html",
        ".css",
        ".json",
        ".toml",
        ".yaml",
        ".yml",
        ".md",
        ".txt",
        ".sql",
    ]
)
_SKIP = frozenset({".git", ".smallcode", "node_modules", "__pycache__", ".venv", "venv"})


@dataclass
class TaskFiles:
    """What went into the first prompt."""

    text: str = ""
    shown: list[Path] = field(default_factory=list)
    """Files shown whole (they count as read)."""
    named: list[str] = field(default_factory=list)
    """Workspace-relative files the task names (shown or not)."""


def named_files(root: Path, task: str, allow_env_files: bool = False) -> list[str]:
    """Workspace-relative paths of existing files the task names: `calc.py`, `src/app/models.py`; a bare
    name found at exactly one place in the tree counts too. Sensitive files and paths outside are skipped."""
    found: list[str] = []
    by_name: dict[str, list[str]] | None = None
    for match in _PATHISH.finditer(task):
        word = match.group(1).removeprefix("./")
        if word.replace(".", "").isdigit() or len(found) >= MAX_NAMED:
            continue
        candidate = _confined(root, word, allow_env_files)
        if candidate is None and "/" not in word:
            if by_name is None:
                by_name = _index_names(root)
            places = by_name.get(word, [])
            candidate = _confined(root, places[0], allow_env_files) if len(places) == 1 else None
        if candidate is not None:
            rel = candidate.relative_to(root).as_posix()
            if rel not in found:
                found.append(rel)
    return found


def new_files_named(root: Path, task: str, allow_env_files: bool = False) -> list[str]:
    """Paths the task names that do not exist yet but could be created in the workspace (`create util.py`)."""
    out: list[str] = []
    for match in _PATHISH.finditer(task):
        word = match.group(1).removeprefix("./")
        if word.replace(".", "").isdigit() or Path(word).suffix.lower() not in CODE_SUFFIXES:
            continue
        try:
            path = resolve_in_workspace(root, word, allow_env_files=allow_env_files)
        except PathError:
            continue
        if not path.exists():
            rel = path.relative_to(root).as_posix()
            if rel not in out and not rel.startswith(".smallcode/"):
                out.append(rel)
    return out[:MAX_NAMED]


def _confined(root: Path, rel: str, allow_env_files: bool) -> Path | None:
    try:
        path = resolve_in_workspace(root, rel, allow_env_files=allow_env_files)
    except PathError:
        return None
    return path if path.is_file() else None


def _index_names(root: Path, limit: int = 5000) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    seen = 0
    stack = [root]
    while stack and seen < limit:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir(), key=lambda p: p.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink() or entry.name in _SKIP:
                continue
            if entry.is_dir():
                stack.append(entry)
            else:
                seen += 1
                names.setdefault(entry.name, []).append(entry.relative_to(root).as_posix())
    return names


async def task_files_context(
    root: Path,
    task: str,
    workspace: Workspace,
    counter: TokenCounter,
    budget_tokens: int,
    allow_env_files: bool = False,
    files: list[str] | None = None,
    heading: str = "Files named in the task, as they are now:",
) -> TaskFiles:
    """The named files (or `files`, workspace-relative) rendered for the first prompt within `budget_tokens`
    (through the workspace seam, so an editor's unsaved buffer is what the model sees)."""
    out = TaskFiles(named=named_files(root, task, allow_env_files) if files is None else list(files))
    parts: list[str] = []
    used = 0
    for rel in out.named:
        path = root / rel
        try:
            text = await workspace.read_text(path)
        except (WorkspaceError, OSError, UnicodeDecodeError):
            continue
        lines = text.splitlines()
        block = f"{rel}:\n```{_fence_lang(rel)}\n{text.rstrip()}\n```" if text.strip() else f"{rel}: (empty)"
        cost = counter.estimate(block)
        if is_test_file(rel) and len(out.named) > 1 and cost > budget_tokens // 3:
            parts.append(f"{rel}: a test file of {len(lines)} lines (read_file to see it).")
            continue
        if len(lines) > MAX_SHOWN_LINES or used + cost > budget_tokens:
            parts.append(f"{rel}: {len(lines)} lines, not shown (read_file to see the part you need).")
            continue
        parts.append(block)
        out.shown.append(path)
        used += cost
    if parts:
        out.text = heading + "\n\n" + "\n\n".join(parts)
    return out


def _fence_lang(rel: str) -> str:
    suffix = Path(rel).suffix.lstrip(".").lower()
    return {"py": "python", "js": "javascript", "ts": "typescript", "rs": "rust", "md": "markdown"}.get(
        suffix, suffix
    )
