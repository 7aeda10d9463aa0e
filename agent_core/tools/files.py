"""The file tools: read_file, write_file, patch, find_files.

Every path goes through `resolve_in_workspace` and every read or write through the workspace seam, so the
language server can serve unsaved buffers and turn writes into editor edits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from pathspec import GitIgnoreSpec
from pydantic import Field

from agent_core.patch import PatchError, apply_search_replace, unified_diff
from agent_core.patch.textfile import conform
from agent_core.safety.paths import PathError, is_sensitive, relative, resolve_in_workspace
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from agent_core.workspace import MAX_FILE_BYTES, EditResult, LineWindow, WorkspaceError

PAGE_LINES = 200
"""Lines read_file shows when no range is given."""
MAX_LINE_CHARS = 2000
"""One very long line (minified code) is cut so it cannot fill the whole result."""
MAX_LISTED = 200
"""Entries find_files and directory listings show."""
MAX_DIFF_LINES = 40

ALWAYS_SKIP = frozenset({".git", ".smallcode", "node_modules", "__pycache__", ".venv"})
"""Directories no listing or search ever enters, ignored or not."""


# --- shared helpers -----------------------------------------------------------------------------------


def resolve(ctx: ToolContext, path: str) -> Path:
    """The confined absolute path, or a ToolError the model can act on."""
    try:
        return resolve_in_workspace(ctx.root, path, allow_env_files=ctx.settings.allow_env_files)
    except PathError as exc:
        raise ToolError(str(exc)) from None


def rel(ctx: ToolContext, path: Path) -> str:
    return relative(ctx.root, path) or "."


def editable_file(ctx: ToolContext, raw: str) -> tuple[Path, str]:
    """The file an edit tool may change at `raw` (its path and workspace-relative name); ToolError for a
    folder, a path outside the workspace, a protected test or SmallCode's own folder."""
    path = resolve(ctx, raw)
    name = rel(ctx, path)
    if path.is_dir():
        raise ToolError(f"{name} is a directory; give a file path.")
    check_editable(ctx, name)
    return path, name


def check_editable(ctx: ToolContext, name: str) -> None:
    """Refuse edits that would game the run or clutter SmallCode's state: the tests that judge the run
    (unless the task asked to change tests) and anything under `.smallcode/`."""
    if name == ".smallcode" or name.startswith(".smallcode/"):
        wanted = name.split("/")[-1]
        raise ToolError(
            f"{name} is inside .smallcode/, SmallCode's own folder, not part of the project. "
            f"Write the file in the project instead (e.g. path {wanted!r})."
        )
    if ctx.protected is not None and ctx.protected(name):
        raise ToolError(
            f"{name} is a test that checks your work and the task does not ask to change tests, so it stays "
            "as it is. Change the code under test so that these tests pass."
        )


def rejected(result: EditResult) -> ToolOutput:
    return ToolOutput(ok=False, text=f"the user rejected this edit: {result.message or 'no reason given'}")


def with_note(text: str, result: EditResult) -> str:
    """An applied edit's report, with what the editor says about it (parts the user rejected in review)."""
    return f"{text}\n{result.message}" if result.message else text


class IgnoreRules:
    """A workspace's .gitignore rules (nested files and .git/info/exclude too), loaded once per directory."""

    def __init__(self, root: Path, allow_env_files: bool = False) -> None:
        self.root = root
        self.allow_env_files = allow_env_files
        """Sensitive files (keys, .env, .git internals) are always left out of listings and searches."""
        self._specs: dict[str, GitIgnoreSpec | None] = {}

    def _spec(self, dir_rel: str) -> GitIgnoreSpec | None:
        if dir_rel not in self._specs:
            base = self.root / dir_rel if dir_rel else self.root
            lines: list[str] = []
            sources = [base / ".gitignore"]
            if not dir_rel:
                sources.append(self.root / ".git" / "info" / "exclude")
            for source in sources:
                try:
                    lines += source.read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    continue
            self._specs[dir_rel] = GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[dir_rel]

    def ignored(self, rel_path: str, is_dir: bool) -> bool:
        """Whether a workspace-relative POSIX path is skipped; deeper .gitignore files override shallower."""
        parts = rel_path.split("/")
        if any(part in ALWAYS_SKIP for part in parts):
            return True
        if is_sensitive(rel_path, allow_env_files=self.allow_env_files):
            return True
        verdict: bool | None = None
        for i in range(len(parts)):
            spec = self._spec("/".join(parts[:i]))
            if spec is None:
                continue
            sub = "/".join(parts[i:]) + ("/" if is_dir else "")
            include = spec.check_file(sub).include
            if include is not None:
                verdict = include
        return bool(verdict)


def walk_files(root: Path, start: Path | None = None, rules: IgnoreRules | None = None) -> Iterator[str]:
    """Workspace-relative POSIX paths of the files under `start`, sorted, ignored ones left out.

    Symlinked directories are not entered (they may lead outside the workspace or loop).
    """
    rules = rules or IgnoreRules(root)
    top = start or root
    for dirpath, dirnames, filenames in os.walk(top):
        dir_rel = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if dir_rel == "." else dir_rel + "/"
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not os.path.islink(os.path.join(dirpath, d)) and not rules.ignored(prefix + d, True)
        )
        for name in sorted(filenames):
            if not rules.ignored(prefix + name, False):
                yield prefix + name


def glob_spec(pattern: str, root: Path) -> GitIgnoreSpec:
    """A glob as gitignore-style rules: `*.py` matches at any depth, `src/*.py` is anchored, `**` spans dirs.

    Braces (`*.{ts,tsx}`) are expanded since models write them often.
    """
    pattern = pattern.strip()
    root_prefix = root.as_posix().rstrip("/") + "/"
    if pattern.startswith(root_prefix):
        pattern = pattern[len(root_prefix) :]
    while pattern.startswith("./"):
        pattern = pattern[2:]
    pattern = pattern.lstrip("!")
    return GitIgnoreSpec.from_lines(_expand_braces(pattern))


def _expand_braces(pattern: str) -> list[str]:
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    out: list[str] = []
    for option in match.group(1).split(","):
        out += _expand_braces(pattern[: match.start()] + option + pattern[match.end() :])
    return out


# --- read_file ----------------------------------------------------------------------------------------


class ReadFileArgs(ToolArgs):
    path: str = Field(description="File to read, relative to the workspace root.")
    start_line: int | None = Field(
        default=None, description="First line to show (1-based). Omit to start at the top."
    )
    end_line: int | None = Field(
        default=None, description="Last line to show (inclusive). Omit to read a page from start_line."
    )


class ReadFileTool(Tool):
    name = "read_file"
    description = (
        "Read a text file with line numbers (shown as 'N| ', not part of the file). Long files come in pages; "
        "use start_line/end_line to read a part. A directory path lists its entries."
    )
    Args = ReadFileArgs

    async def run(self, args: ReadFileArgs, ctx: ToolContext) -> ToolOutput:
        path = resolve(ctx, args.path)
        name = rel(ctx, path)
        if path.is_dir():
            return ToolOutput(text=_list_directory(ctx, path))
        if not await ctx.workspace.exists(path):
            raise ToolError(
                f"{name} does not exist. Use find_files to locate the file, or write_file to create it."
            )
        first = max(1, args.start_line or 1)
        last = first + PAGE_LINES - 1 if args.end_line is None else max(args.end_line, first)
        # no more lines than the result can show (a row takes at least 6 characters): a bounded read
        last = min(last, first + ctx.settings.max_tool_result_chars // 6)
        try:
            window = await ctx.workspace.read_lines(path, first, last)
        except WorkspaceError as exc:
            raise ToolError(str(exc)) from None
        except OSError as exc:
            raise ToolError(f"cannot read {name}: {exc.strerror or exc}") from None
        ctx.read_paths.add(path)
        return ToolOutput(text=_numbered_page(window, name, ctx))


def _numbered_page(window: LineWindow, name: str, ctx: ToolContext) -> str:
    total, first = window.total, window.first
    if total == 0:
        return f"({name} is empty)"
    if total is not None and first > total:
        raise ToolError(f"start_line {first} is past the end of {name}, which has {total} lines.")
    last = first + len(window.lines) - 1
    width = max(4, len(str(last)))
    budget = ctx.settings.max_tool_result_chars - 120  # room for the footer
    out: list[str] = []
    used = 0
    shown_last = first - 1
    for number, line, length in zip(range(first, last + 1), window.lines, window.lengths, strict=True):
        if length > MAX_LINE_CHARS or len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + f" … [line cut, {max(length, len(line))} characters]"
        row = f"{number:>{width}}| {line}"
        if out and used + len(row) + 1 > budget:
            break
        out.append(row)
        used += len(row) + 1
        shown_last = number
    if first == 1 and shown_last == total:
        return "\n".join(out)
    if total is None:
        footer = (
            f"[lines {first}-{shown_last} of {name}, a {window.size / 1e6:.1f} MB file (its lines are not "
            f"counted); call read_file with start_line={shown_last + 1} to read on]"
        )
    elif shown_last < total:
        footer = (
            f"[lines {first}-{shown_last} of {total}; "
            f"call read_file with start_line={shown_last + 1} to read on]"
        )
    else:
        footer = f"[lines {first}-{shown_last} of {total}; end of file]"
    return "\n".join(out) + "\n" + footer


def _list_directory(ctx: ToolContext, path: Path) -> str:
    name = rel(ctx, path)
    try:
        entries = sorted(path.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise ToolError(f"cannot list {name}: {exc.strerror or exc}") from None
    shown = [e.name + ("/" if e.is_dir() else "") for e in entries if e.name not in ALWAYS_SKIP]
    if not shown:
        return f"{name}/ is an empty directory."
    head = f"{name}/ is a directory with {len(shown)} entries (read_file a file inside it):"
    more = f"\n[… {len(shown) - MAX_LISTED} more]" if len(shown) > MAX_LISTED else ""
    return head + "\n" + "\n".join(shown[:MAX_LISTED]) + more


# --- write_file ---------------------------------------------------------------------------------------


class WriteFileArgs(ToolArgs):
    path: str = Field(description="File to create or overwrite, relative to the workspace root.")
    content: str = Field(description="The complete new content of the file.")
    append: bool = Field(
        default=False, description="Optional: add content at the end of the file instead of replacing it."
    )


class WriteFileTool(Tool):
    name = "write_file"
    description = (
        "Create a file, or replace a whole file, with the given content. Parent folders are created. "
        "To change part of an existing file use patch instead."
    )
    Args = WriteFileArgs

    async def run(self, args: WriteFileArgs, ctx: ToolContext) -> ToolOutput:
        path, name = editable_file(ctx, args.path)
        if len(args.content.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
            raise ToolError(f"content for {name} is larger than {MAX_FILE_BYTES} bytes; write smaller files.")
        existed = await ctx.workspace.exists(path)
        if (
            existed
            and ctx.settings.write_guard
            and path not in ctx.read_paths
            and path not in ctx.guard_warned
        ):
            ctx.guard_warned.add(path)
            raise ToolError(
                f"{name} already exists and you have not read it: read it first (read_file), then use patch "
                "for a change. If you really mean to replace the whole file, call write_file again."
            )
        content = args.content
        if existed and not args.append and await _same_text(ctx, path, content):
            return ToolOutput(
                ok=False,
                text=f"{name} already has exactly this content, so nothing changed. Make the change the task "
                "asks for.",
            )
        if args.append and existed:  # small models ask for this; replacing the file instead would lose it
            try:
                content = await ctx.workspace.read_text(path) + args.content
            except WorkspaceError as exc:
                raise ToolError(str(exc)) from None
        made_dirs = _make_parents(path, ctx)
        try:
            result = await ctx.workspace.write_text(path, content, label=f"write_file {name}")
        except (WorkspaceError, OSError) as exc:
            _remove_dirs(made_dirs)
            raise ToolError(f"cannot write {name}: {exc}") from None
        if not result.applied:
            _remove_dirs(made_dirs)
            return rejected(result)
        ctx.read_paths.add(path)
        count = len(content.splitlines())
        if existed and args.append:
            return ToolOutput(
                text=with_note(f"Appended {len(args.content.splitlines())} lines to {name}.", result),
                edited=[name],
            )
        if existed:
            return ToolOutput(text=with_note(f"Wrote {name} ({count} lines).", result), edited=[name])
        return ToolOutput(text=with_note(f"Created {name} ({count} lines).", result), created=[name])


async def _same_text(ctx: ToolContext, path: Path, content: str) -> bool:
    """Whether writing `content` would leave the file as it is (written in the file's style, see TextFile)."""
    try:
        current = await ctx.workspace.read_text(path)
    except (WorkspaceError, OSError):
        return False
    return conform(current, content) == current


def _make_parents(path: Path, ctx: ToolContext) -> list[Path]:
    """Create missing parent folders; return them (deepest first) so a rejected edit leaves no trace."""
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    if not parent.is_dir():
        raise ToolError(f"{rel(ctx, parent)} is a file, so {rel(ctx, path)} cannot be created under it.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolError(f"cannot create folder {rel(ctx, path.parent)}: {exc.strerror or exc}") from None
    return missing


def _remove_dirs(dirs: list[Path]) -> None:
    for folder in dirs:
        try:
            folder.rmdir()
        except OSError:
            return


# --- patch --------------------------------------------------------------------------------------------


class PatchArgs(ToolArgs):
    path: str = Field(description="Existing file to change, relative to the workspace root.")
    search: str = Field(
        description="Exact lines currently in the file (copy them without the line numbers), enough to be unique."
    )
    replace: str = Field(description="The lines that take their place (empty to delete them).")


class PatchTool(Tool):
    name = "patch"
    description = (
        "Change part of an existing file: the search text is found in the file and replaced. "
        "Copy the search lines exactly from read_file output, without line numbers."
    )
    Args = PatchArgs

    async def run(self, args: PatchArgs, ctx: ToolContext) -> ToolOutput:
        path, name = editable_file(ctx, args.path)
        if not await ctx.workspace.exists(path):
            raise ToolError(f"{name} does not exist; use write_file to create a new file.")
        try:
            before = await ctx.workspace.read_text(path)
        except WorkspaceError as exc:
            raise ToolError(str(exc)) from None
        # The search text shows the model knows the file: count it as read for the write guard.
        ctx.read_paths.add(path)
        try:
            after = apply_search_replace(before, args.search, args.replace)
        except PatchError as exc:
            raise ToolError(f"patch of {name} failed: {exc}") from None
        if after == before:
            raise ToolError(f"search and replace are the same, so {name} is unchanged.")
        try:
            result = await ctx.workspace.write_text(path, after, label=f"patch {name}")
        except (WorkspaceError, OSError) as exc:
            raise ToolError(f"cannot write {name}: {exc}") from None
        if not result.applied:
            return rejected(result)
        report = f"Patched {name}.\n{compact_diff(before, after, name)}"
        return ToolOutput(text=with_note(report, result), edited=[name])


def compact_diff(before: str, after: str, name: str) -> str:
    """The patch engine's unified diff with one line of context, cut to MAX_DIFF_LINES lines."""
    lines = unified_diff(name, before, after, context=1).splitlines()
    if len(lines) > MAX_DIFF_LINES:
        cut = len(lines) - MAX_DIFF_LINES
        lines = lines[:MAX_DIFF_LINES] + [f"[… {cut} more diff lines]"]
    return "\n".join(lines)


# --- find_files ---------------------------------------------------------------------------------------


class FindFilesArgs(ToolArgs):
    pattern: str = Field(
        description="Glob such as '*.py' (any depth), 'src/**/*.ts', 'test_*' or a file name."
    )


class FindFilesTool(Tool):
    name = "find_files"
    description = (
        "List workspace files whose path matches a glob. A pattern without '/' matches file names at any "
        "depth; '**' spans folders. Files ignored by .gitignore are left out."
    )
    Args = FindFilesArgs

    async def run(self, args: FindFilesArgs, ctx: ToolContext) -> ToolOutput:
        if not args.pattern.strip():
            raise ToolError("pattern is empty: give a glob such as '*.py' or 'src/**/*.ts'.")
        try:
            spec = glob_spec(args.pattern, ctx.root)
        except Exception as exc:  # pathspec raises several types for malformed globs
            raise ToolError(f"invalid glob {args.pattern!r}: {exc}") from None
        root = ctx.root.resolve()
        rules = IgnoreRules(root, ctx.settings.allow_env_files)
        matches = [p for p in walk_files(root, rules=rules) if spec.match_file(p)]
        if not matches:
            return ToolOutput(
                text=f"No files match {args.pattern!r}. A pattern without '/' matches names at any depth "
                "(e.g. '*.py'); use '**' to span folders (e.g. 'src/**/test_*.py')."
            )
        head = f"{len(matches)} file{'s' if len(matches) != 1 else ''} match {args.pattern!r}:"
        more = ""
        if len(matches) > MAX_LISTED:
            more = f"\n[showing the first {MAX_LISTED} of {len(matches)}; use a narrower pattern]"
        return ToolOutput(text=head + "\n" + "\n".join(matches[:MAX_LISTED]) + more)
