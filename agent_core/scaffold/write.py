"""Writing a scaffolded project through the workspace seam: the same confinement as the file tools, and the
same checkpoints (so `/undo` removes a scaffold like any turn's edits). Existing files are never overwritten:
the whole scaffold is refused, naming them, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agent_core.safety.paths import PathError, relative, resolve_in_workspace
from agent_core.scaffold.spec import ScaffoldSpec, SpecError, load_scaffold_spec
from agent_core.workspace import Workspace, WorkspaceError


class ScaffoldError(Exception):
    """The scaffold was not written; `str(exc)` is one line saying why and what to do."""


@dataclass
class Scaffolded:
    spec: ScaffoldSpec
    files: list[str]
    """Workspace-relative paths written, in order."""
    out: str
    """The project's folder, relative to the workspace root ("." for the root itself)."""


def plan_files(spec: ScaffoldSpec, root: Path, out: str = ".") -> dict[Path, str]:
    """Absolute target path → text, every path confined to the workspace. ScaffoldError if one is refused."""
    # Jinja2 is loaded when a scaffold is made, not with every agent.
    from agent_core.scaffold.render import render

    targets: dict[Path, str] = {}
    for rel, text in render(spec).items():
        name = (PurePosixPath(out or ".") / rel).as_posix()
        try:
            targets[resolve_in_workspace(root, name)] = text
        except PathError as exc:
            raise ScaffoldError(f"cannot scaffold into {out!r}: {exc}") from None
    return targets


async def scaffold(spec_path: str | Path, workspace: Workspace, out: str = ".") -> Scaffolded:
    """Read the spec at `spec_path` and write its project under `out` (relative to the workspace root)."""
    try:
        spec = load_scaffold_spec(spec_path)
    except SpecError as exc:
        raise ScaffoldError(str(exc)) from None
    root = workspace.root
    targets = plan_files(spec, root, out)
    existing = [relative(root, p) for p in targets if p.exists()]
    if existing:
        shown = ", ".join(existing[:4]) + (f" and {len(existing) - 4} more" if len(existing) > 4 else "")
        raise ScaffoldError(
            f"{shown} already exist{'s' if len(existing) == 1 else ''}; nothing was written — "
            "scaffold into an empty folder (--out DIR, or the tool's out argument)"
        )
    written: list[str] = []
    for path, text in targets.items():
        rel = relative(root, path)
        try:
            result = await workspace.write_text(path, text, label=f"scaffold {rel}")
        except WorkspaceError as exc:
            raise ScaffoldError(
                f"stopped at {rel}: {exc} (written before it: {len(written)} files)"
            ) from None
        if not result.applied:
            raise ScaffoldError(
                f"stopped at {rel}: {result.message or 'the edit was not applied'} "
                f"(written before it: {len(written)} files)"
            )
        written.append(rel)
    return Scaffolded(spec, written, out or ".")
