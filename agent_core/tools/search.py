"""The search tool: a regex over the workspace's files, with ripgrep when it is installed, else Python `re`.

Both paths skip the same things: .gitignore'd files, ALWAYS_SKIP folders, binary files and files over 2 MB.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import stat
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from agent_core.safety.paths import is_sensitive
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from agent_core.tools.files import ALWAYS_SKIP, IgnoreRules, glob_spec, rel, resolve, walk_files
from agent_core.workspace import MAX_FILE_BYTES, looks_binary

MAX_SHOWN = 100
"""Match lines shown to the model."""
MAX_COUNTED = 1000
"""Matches counted before the search stops (so a too-broad pattern ends quickly)."""
MAX_TEXT = 200
"""Characters of one matching line shown."""


@dataclass(frozen=True)
class Match:
    path: str
    line: int
    text: str


def find_ripgrep() -> str | None:
    """rg beside this Python (the `ripgrep` wheel installs it there; no version-manager shim), else on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "rg"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("rg")


class SearchArgs(ToolArgs):
    pattern: str = Field(
        description="Regular expression to look for (Python/ripgrep syntax), one line at a time."
    )
    path: str | None = Field(
        default=None, description="File or folder to search in, relative to the workspace root. Default: all."
    )
    glob: str | None = Field(default=None, description="Only search files matching this glob, e.g. '*.py'.")


class SearchTool(Tool):
    name = "search"
    description = (
        "Search file contents for a regular expression; answers 'path:line: text' lines. "
        "Ignored files (.gitignore), binary files and dependency folders are skipped."
    )
    Args = SearchArgs

    def __init__(self, use_ripgrep: bool = True) -> None:
        # Tests turn ripgrep off to exercise the Python path on a machine that has rg.
        self.use_ripgrep = use_ripgrep

    async def run(self, args: SearchArgs, ctx: ToolContext) -> ToolOutput:
        if not args.pattern:
            raise ToolError("pattern is empty: give a regular expression or a word to look for.")
        root = ctx.root.resolve()
        target = resolve(ctx, args.path) if args.path else root
        if not target.exists():
            raise ToolError(f"{args.path} does not exist; use find_files to locate it, or omit path.")
        note = ""
        literal = False
        try:
            regex = re.compile(args.pattern)
        except re.error as exc:
            literal = True
            regex = re.compile(re.escape(args.pattern))
            note = (
                f"[{args.pattern!r} is not a valid regex ({exc}); searched for it as literal text instead]\n"
            )
        rg = find_ripgrep() if self.use_ripgrep else None
        matches: list[Match] | None = None
        if rg is not None:
            matches = await _search_rg(rg, root, target, args.pattern, args.glob, literal)
        if matches is None:  # no rg, or rg rejected a regex Python accepts (lookaround, backreference)
            matches = await asyncio.to_thread(
                _search_python, root, target, regex, args.glob, ctx.settings.allow_env_files
            )
        # Keys, .env files and .git internals never show up in results (rg knows nothing of them).
        allow_env = ctx.settings.allow_env_files
        matches = [m for m in matches if not is_sensitive(m.path, allow_env_files=allow_env)]
        where = f" in {rel(ctx, target)}" if target != root else ""
        where += f" (files matching {args.glob!r})" if args.glob else ""
        if not matches:
            hint = " Patterns are case-sensitive; try (?i) or a shorter pattern." if not literal else ""
            return ToolOutput(text=f"{note}No matches for {args.pattern!r}{where}.{hint}")
        return ToolOutput(text=note + _format(matches, where))


def _format(matches: list[Match], where: str) -> str:
    matches = sorted(matches, key=lambda m: (m.path, m.line))
    lines = [f"{m.path}:{m.line}: {_clip(m.text)}" for m in matches[:MAX_SHOWN]]
    more = "+" if len(matches) >= MAX_COUNTED else ""  # the search stopped counting there
    files = len({m.path for m in matches})
    count = f"{len(matches)}{more}"
    if len(matches) > MAX_SHOWN:
        lines.append(
            f"[showing {MAX_SHOWN} of {count} matches in {files}{more} file{'s' if files != 1 or more else ''}"
            f"{where}; narrow the pattern, path or glob]"
        )
    else:
        lines.append(
            f"[{count} match{'es' if len(matches) != 1 else ''} in {files} file{'s' if files != 1 else ''}{where}]"
        )
    return "\n".join(lines)


def _clip(text: str) -> str:
    text = text.rstrip("\r\n").strip()
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " …"


async def _search_rg(
    rg: str, root: Path, target: Path, pattern: str, glob: str | None, literal: bool
) -> list[Match] | None:
    """Matches from `rg --json`, or None when rg refuses the pattern (the caller falls back to Python)."""
    cmd = [
        rg, "--json", "--hidden", "--no-require-git", "--no-ignore-parent", "--no-config",
        "--sort", "path", "--max-filesize", str(MAX_FILE_BYTES),
    ]  # fmt: skip
    for skip in sorted(ALWAYS_SKIP):
        cmd += ["--glob", f"!{skip}"]
    if glob:
        cmd += ["--glob", glob]
    cmd += ["--fixed-strings"] if literal else []
    cmd += ["--regexp", pattern, "--", target.relative_to(root).as_posix() if target != root else "."]
    try:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=root,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError:
        return None
    assert proc.stdout is not None and proc.stderr is not None
    matches: list[Match] = []
    try:
        async for raw in proc.stdout:
            match = _parse_rg_line(raw)
            if match is not None:
                matches.append(match)
                if len(matches) >= MAX_COUNTED:
                    break
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        stderr = await proc.stderr.read()
        await proc.wait()
    if not matches and (proc.returncode not in (0, 1) or b"regex parse error" in stderr):
        return None  # rg refused the pattern or failed: Python re decides
    return matches


def _parse_rg_line(raw: bytes) -> Match | None:
    try:
        event = json.loads(raw)
    except ValueError:
        return None
    if event.get("type") != "match":
        return None
    data = event["data"]
    path = _rg_text(data["path"])
    if path.startswith("./"):
        path = path[2:]
    return Match(path, int(data.get("line_number") or 0), _rg_text(data["lines"]))


def _rg_text(field: dict[str, str]) -> str:
    if "text" in field:
        return field["text"]
    return base64.b64decode(field.get("bytes", "")).decode("utf-8", errors="replace")


def _search_python(
    root: Path, target: Path, regex: re.Pattern[str], glob: str | None, allow_env_files: bool = False
) -> list[Match]:
    spec = glob_spec(glob, root) if glob else None
    single = target.is_file()
    candidates: Iterable[str] = (
        [target.relative_to(root).as_posix()]
        if single
        else walk_files(root, target, IgnoreRules(root, allow_env_files))
    )
    matches: list[Match] = []
    for name in candidates:
        if spec is not None and not single and not spec.match_file(name):
            continue
        for number, line in _grep_file(root, name, regex):
            matches.append(Match(name, number, line))
            if len(matches) >= MAX_COUNTED:
                return matches
    return matches


def _grep_file(root: Path, name: str, regex: re.Pattern[str]) -> list[tuple[int, str]]:
    path = root / name
    try:
        # A symlink may point outside the workspace, or loop: never read through it.
        if path.is_symlink() and root not in Path(os.path.realpath(path)).parents:
            return []
        # Only regular files: a FIFO would block the read, a device never end (O_NONBLOCK: the open itself
        # does not wait for a writer).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                return []
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError:  # gone, unreadable, or a symlink loop (ELOOP)
        return []
    if looks_binary(data) or len(data) > MAX_FILE_BYTES:
        return []
    text = data.decode("utf-8", errors="replace")
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if regex.search(line)]
