"""The `scaffold {spec, out?}` tool: a project skeleton from one TOML spec in the workspace (see
agent_core/scaffold) — one call instead of dozens of write_file calls. Not offered to models of 4B and under
(their four tools stay as they are)."""

from __future__ import annotations

from pydantic import Field

from agent_core.safety.paths import PathError, resolve_in_workspace
from agent_core.scaffold import ScaffoldError, scaffold
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput


class ScaffoldArgs(ToolArgs):
    spec: str = Field(
        description="The spec file (TOML) in the project: name, kind (fastapi or cli), [storage], "
        "[entities.NAME] fields, endpoints or [[commands]]."
    )
    out: str = Field(
        default=".", description="The folder to write the project into (must not hold its files)."
    )


class ScaffoldTool(Tool):
    name = "scaffold"
    description = (
        "Create a whole project skeleton from a spec file: a FastAPI service with SQLite and tests, or an "
        "argparse CLI with SQLite and tests. Its tests pass as generated; then fill in the logic."
    )
    Args = ScaffoldArgs

    async def run(self, args: ScaffoldArgs, ctx: ToolContext) -> ToolOutput:
        try:
            spec_path = resolve_in_workspace(
                ctx.root, args.spec, allow_env_files=ctx.settings.allow_env_files
            )
        except PathError as exc:
            raise ToolError(str(exc)) from None
        try:
            done = await scaffold(spec_path, ctx.workspace, args.out)
        except ScaffoldError as exc:
            raise ToolError(f"scaffold: {exc}") from None
        # Files the agent wrote count as read: the write guard lets its next edits to them through.
        ctx.read_paths.update(ctx.root / f for f in done.files)
        listing = "\n".join(f"  {f}" for f in done.files)
        return ToolOutput(
            text=f"Scaffolded the {done.spec.kind} project {done.spec.name} ({len(done.files)} files):\n{listing}\n"
            f"Its tests run with: cd {done.out} && python -m pytest",
            created=done.files,
        )


def scaffold_tools() -> list[Tool]:
    return [ScaffoldTool()]
