"""Edit blocks written in prose (<<<<<<< SEARCH / ======= / >>>>>>> REPLACE) applied like a patch call.

Some models answer with edit blocks instead of a tool call; they still edit, through the same workspace
seam as the patch tool, and per file all-or-nothing (agent_core.patch.apply_edit_blocks).
"""

from __future__ import annotations

from agent_core.patch import EditBlock, apply_edit_blocks
from agent_core.safety.paths import PathError
from agent_core.tools.base import ToolContext, ToolError, ToolOutput
from agent_core.tools.files import check_editable, rel, resolve
from agent_core.workspace import WorkspaceError


async def apply_blocks(blocks: list[EditBlock], ctx: ToolContext) -> ToolOutput:
    """Apply every block through ctx.workspace; the output text says what applied and what did not."""
    current: dict[str, str | None] = {}
    paths = {}
    problems: list[str] = []
    for block in blocks:
        if block.path in paths or not block.path:
            continue
        try:
            path = resolve(ctx, block.path)
            check_editable(ctx, rel(ctx, path))
        except (ToolError, PathError) as exc:
            problems.append(str(exc))
            continue
        paths[block.path] = path
        try:
            current[block.path] = (
                await ctx.workspace.read_text(path) if await ctx.workspace.exists(path) else None
            )
        except WorkspaceError as exc:
            problems.append(str(exc))
    if problems:
        return ToolOutput(ok=False, text="Edit blocks not applied: " + "; ".join(problems))
    result = apply_edit_blocks(blocks, current)
    created: list[str] = []
    edited: list[str] = []
    notes = [result.message] if result.message else []
    for name, text in result.texts.items():
        path = paths[name]
        outcome = await ctx.workspace.write_text(path, text, label=f"edit {rel(ctx, path)}")
        if not outcome.applied:
            notes.append(f"the user rejected the edit of {name}: {outcome.message}")
            continue
        ctx.read_paths.add(path)
        (created if name in result.created else edited).append(rel(ctx, path))
        notes.append(result.diffs.get(name, ""))
        notes.append(outcome.message)  # parts the user rejected in review, if any
    text = "\n".join(n for n in notes if n) or "No changes."
    if result.texts and not (created or edited):  # the user turned every file down: say so first
        return ToolOutput(ok=False, text=f"the user rejected this edit: {text}")
    return ToolOutput(ok=result.ok, text=text, created=created, edited=edited)
