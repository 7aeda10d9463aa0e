"""smallcode.undo in the editor: revert the agent's last turn without writing under the editor's open buffers.

Files open in the editor get their old text back through one workspace/applyEdit (then saved like any applied
edit); open files the turn created are deleted through it where the client can delete files. Everything else
is restored on disk as `/undo` does (agent_core.safety.checkpointing.apply_undo). If the editor refuses the
edit, nothing is changed and the turn stays undoable. `what` is what /undo takes: the last turn, `redo`,
`run N`, `to ID`; `list` lists the checkpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path

from agent_core.commands import execute_command
from agent_core.safety.checkpointing import apply_undo, plan_undo
from agent_core.safety.checkpoints import CheckpointError, RestoreItem
from agent_core.workspace import WorkspaceError, decode_text
from lsp_server import capabilities
from lsp_server.agents import Agents
from lsp_server.feature import CommandHandler, Feature
from lsp_server.replies import CommandReply, one_arg
from lsp_server.save_documents import PendingSave, buffer_matches_disk, save_after_edit
from lsp_server.workspace_edits import APPLY_TIMEOUT, LspWorkspace


def _reply(data: dict[str, Any], text: str, ok: bool = True) -> CommandReply:
    return CommandReply(data=data, text=text, ok=ok)


class UndoFeature(Feature):
    name = "undo"

    def __init__(self, agents: Agents) -> None:
        super().__init__(agents.server)
        self.agents = agents

    def commands(self) -> dict[str, CommandHandler]:
        return {"undo": self.command}

    async def command(self, *args: Any) -> CommandReply:
        arg = one_arg(args)
        root = self.agents.root_for(arg.get("uri") if isinstance(arg, dict) else None)
        what = arg if isinstance(arg, str) else str((arg or {}).get("args", "") or "")
        if what.split()[:1] == ["list"]:
            result = await execute_command(await self.agents.agent_for(root), "undo", "list")
            return _reply(result.data, result.text, result.ok)
        return await self.undo(root, what.strip() or "last")

    async def undo(self, root: Path, what: str = "last") -> CommandReply:
        ls = self.server
        if self.agents.busy(root):
            return _reply(
                {"error": "busy"}, "SmallCode is working on a task here; cancel it or wait, then undo", False
            )
        try:
            plan = await asyncio.to_thread(plan_undo, root, what)
        except CheckpointError as exc:
            return _reply({"restored": [], "removed": [], "failed": []}, str(exc), False)
        if plan is None:
            return _reply(
                {"restored": [], "removed": [], "failed": []},
                "nothing to undo: no agent turn with changes that is not undone yet",
                False,
            )
        workspace = self.agents.workspace(root)
        in_editor: list[tuple[RestoreItem, Any, str | None]] = []  # item, open document, text to restore
        for item in plan.items:
            doc = ls.workspace.text_documents.get(_uri(root / item.path))
            if doc is None:
                continue
            if item.link:  # a symlink is put back on disk, not into a buffer
                continue
            if item.data is None:
                if capabilities.delete_files(ls) and capabilities.document_changes(ls):
                    in_editor.append((item, doc, None))
                continue
            try:
                in_editor.append((item, doc, decode_text(item.data, item.path)))
            except WorkspaceError:  # binary: restored on disk
                continue
        saves: list[PendingSave] = []
        if in_editor:
            for item, doc, text in in_editor:
                if text is not None:
                    path = root / item.path
                    matched = await asyncio.to_thread(buffer_matches_disk, path, str(doc.source))
                    saves.append(PendingSave(path, doc.uri, text, matched))
            edit = _restore_edit(ls, workspace, in_editor)
            label = f"SmallCode: undo {plan.label}"
            try:
                answer = await asyncio.wait_for(
                    ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label)),
                    APPLY_TIMEOUT,
                )
            except Exception as exc:
                answer, reason = None, str(exc) or "no answer"
            else:
                reason = getattr(answer, "failure_reason", None) or "the edit was rejected"
            if answer is None or not getattr(answer, "applied", False):
                return _reply(
                    {"checkpoint": plan.checkpoint, "error": reason},
                    f"undo not done: the editor did not apply it ({reason}); nothing changed",
                    False,
                )
        done = [item.path for item, _, _ in in_editor]
        try:
            outcome = await asyncio.to_thread(apply_undo, root, plan, done)
        except CheckpointError as exc:
            return _reply({"error": str(exc)}, str(exc), False)
        await save_after_edit(ls, saves)
        for item, _, text in in_editor:  # modes too, as /undo restores them
            if text is not None and item.mode is not None:
                with contextlib.suppress(OSError):
                    os.chmod(root / item.path, item.mode)
        workspace.forget([root / item.path for item in plan.items])
        return _reply({**outcome, "editor": done}, str(outcome["text"]), bool(outcome["ok"]))


def _uri(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def _restore_edit(
    ls: LanguageServer, workspace: LspWorkspace, items: list[tuple[RestoreItem, Any, str | None]]
) -> types.WorkspaceEdit:
    """One edit: each open document back to its old text (only the changed lines), created files deleted."""
    if not capabilities.document_changes(ls):
        return types.WorkspaceEdit(
            changes={
                doc.uri: [workspace.minimal_edit(str(doc.source), text)]
                for _, doc, text in items
                if text is not None
            }
        )
    changes: list[Any] = []
    for _, doc, text in items:
        if text is None:
            changes.append(
                types.DeleteFile(uri=doc.uri, options=types.DeleteFileOptions(ignore_if_not_exists=True))
            )
            continue
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version),
                edits=[workspace.minimal_edit(str(doc.source), text)],
            )
        )
    return types.WorkspaceEdit(document_changes=changes)
