"""The agent's edits as workspace/applyEdit requests: the editor applies them (never a write under its feet).

Reads see the editor's unsaved buffer when the document is open. Each write becomes one WorkspaceEdit with a
single TextEdit over the changed lines (or CreateFile + insert for a new file), annotated with a change
annotation (label, description, needsConfirmation in "preview" mode) when the client supports them, so
VS Code shows its refactor preview. A rejected edit comes back to the agent as "not applied" with the reason.
A client that offers per-hunk review gets a `smallcode/review` request instead of a confirmation
(lsp_server/review.py) and only the hunks the user accepts are applied. An applied edit is saved only in
"auto" mode, by the editor, when its buffer held no unsaved changes of the
user (lsp_server.save_documents); the checks see unsaved text through a shadow copy (`unsaved_texts`).
New text is first put in the file's style (agent_core.patch.textfile.conform: BOM, line endings, final
newline), so the TextEdit covers only the lines the agent changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from agent_core.patch import unified_diff
from agent_core.patch.textfile import conform
from agent_core.workspace import (
    EditResult,
    LineWindow,
    Workspace,
    decode_text,
    encode_for,
    read_file_bytes,
    window_of_text,
)
from lsp_server import capabilities
from lsp_server.review import Decision, ask_review
from lsp_server.run_steps import notify_step
from lsp_server.save_documents import PendingSave, buffer_matches_disk, save_agent_edit

if TYPE_CHECKING:
    from lsp_server.server import SmallCodeServer

log = logging.getLogger(__name__)

ANNOTATION_ID = "smallcode"
APPLY_TIMEOUT = 600.0
"""Seconds to wait for the user to accept or reject a previewed edit before giving up on it."""


@dataclass
class ProposedEdit:
    path: str
    """Workspace-relative path."""
    label: str
    diff: str
    """Unified diff of the change."""
    status: str = "pending"
    """pending | applied | partial (some hunks rejected in review) | rejected."""
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _items(text: str) -> list[str]:
    """Lines as LSP counts them (split on \\n), each keeping its newline except the last."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]]


class LspWorkspace(Workspace):
    """One per agent (workspace root). `begin_run` starts a fresh list of proposed edits."""

    def __init__(self, root: Path, server: SmallCodeServer) -> None:
        super().__init__(root)
        self.server = server
        self.edits: list[ProposedEdit] = []
        self._applied: dict[Path, str] = {}  # text of files we changed that the editor does not have open
        self.run_id = ""
        self._stop: Callable[[], None] | None = None

    def begin_run(self, run_id: str = "", stop: Callable[[], None] | None = None) -> None:
        """A run starts: `stop` ends it (the user chose to stop in a review)."""
        self.edits = []
        self._applied = {}
        self.run_id, self._stop = run_id, stop

    def forget(self, paths: list[Path]) -> None:
        """Files changed behind the agent's back (an undo): read them afresh next time."""
        for path in paths:
            self._applied.pop(path, None)

    async def unsaved_texts(self) -> dict[Path, str]:
        """The editor's text that the disk does not have (open documents and applied edits under this root):
        the agent's checks run on a shadow copy with it (agent_core.verify.shadow)."""
        texts = dict(self._applied)
        for uri, doc in list(self.server.workspace.text_documents.items()):
            fs_path = to_fs_path(uri) if uri.startswith("file:") else None
            if fs_path and Path(fs_path).is_relative_to(self.root):
                texts[Path(fs_path)] = str(doc.source)
        return {
            path: text
            for path, text in texts.items()
            if not await asyncio.to_thread(buffer_matches_disk, path, text)
        }

    # reading ----------------------------------------------------------------------------------------
    def _uri(self, path: Path) -> str:
        return from_fs_path(str(path)) or path.as_uri()

    def _open_document(self, path: Path) -> Any:
        return self.server.workspace.text_documents.get(self._uri(path))

    async def read_text(self, path: Path) -> str:
        doc = self._open_document(path)
        if doc is not None:
            return str(doc.source)
        if path in self._applied:
            return self._applied[path]
        rel = self._rel(path)
        return decode_text(await asyncio.to_thread(read_file_bytes, path, rel), rel)

    async def read_lines(self, path: Path, first: int, last: int) -> LineWindow:
        doc = self._open_document(path)
        if doc is not None or path in self._applied:  # what the editor has, however large
            return window_of_text(await self.read_text(path), first, last)
        return await super().read_lines(path, first, last)

    async def exists(self, path: Path) -> bool:
        return self._open_document(path) is not None or path in self._applied or path.exists()

    def _rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    # writing ----------------------------------------------------------------------------------------
    async def write_text(self, path: Path, text: str, *, label: str = "") -> EditResult:
        rel = self._rel(path)
        if path.is_dir():
            return EditResult(False, f"{rel} is a directory")
        old = await self.read_text(path) if await self.exists(path) else None
        if old is not None:
            text = conform(old, text)  # the file's BOM, line endings and final newline (TextFile)
        if old == text:
            return EditResult(True, "no change")
        doc = self._open_document(path)
        if doc is None and path.exists():  # refused here when the file's encoding cannot hold the text
            await asyncio.to_thread(encode_for, path, text, rel)
        # decided before the edit: may the server write this file if the editor does not save it?
        disk_matched = await asyncio.to_thread(
            buffer_matches_disk, path, str(doc.source) if doc is not None else None
        )
        label = label or f"SmallCode: edit {rel}"
        proposed = ProposedEdit(path=rel, label=label, diff=unified_diff(rel, old, text))
        self.edits.append(proposed)
        confirm = self.server.options.apply_mode == "preview"
        decision: Decision | None = None
        if confirm and capabilities.review(self.server):
            decision = await self._review(path, rel, label, old, text, proposed)
            if not decision.any_accepted:
                proposed.status, proposed.reason = "rejected", decision.note_for_model(rel)
                self._stop_if_asked(decision)
                return EditResult(False, proposed.reason)
            text, confirm = decision.text, False  # reviewed: applied as accepted, not asked again
            proposed.diff = unified_diff(rel, old, text)
        edit = self._workspace_edit(path, old, text, label, rel, confirm)
        params = types.ApplyWorkspaceEditParams(edit=edit, label=label)
        request = asyncio.ensure_future(self.server.workspace_apply_edit_async(params))
        try:
            # shielded: a cancelled run still learns whether the editor applied this edit (never half-known)
            answer = await asyncio.wait_for(asyncio.shield(request), APPLY_TIMEOUT)
        except asyncio.CancelledError:
            await self._settle(request, proposed, path, text)
            raise
        except Exception as exc:  # the client failed or never answered
            request.cancel()
            proposed.status, proposed.reason = "rejected", f"the editor did not apply the edit: {exc}"
            return EditResult(False, proposed.reason)
        result = self._record(answer, proposed, path, text)
        if result.applied:
            await save_agent_edit(self.server, [PendingSave(path, self._uri(path), text, disk_matched)])
        if decision is not None:
            if result.applied and decision.rejected:
                proposed.status, proposed.reason = "partial", decision.note_for_model(rel)
                result = EditResult(True, proposed.reason)
            self._stop_if_asked(decision)
        return result

    async def _review(
        self, path: Path, rel: str, label: str, old: str | None, text: str, proposed: ProposedEdit
    ) -> Decision:
        try:
            decision = await ask_review(
                self.server,
                run_id=self.run_id,
                path=rel,
                uri=self._uri(path),
                label=label,
                old=old,
                new=text,
                diff=proposed.diff,
            )
        except asyncio.CancelledError:  # the run was stopped while the user reviewed: nothing was applied
            proposed.status, proposed.reason = "rejected", "the run was stopped during the review"
            raise
        notify_step(self.server, self.run_id, "review", text=decision.summary(rel))
        return decision

    def _stop_if_asked(self, decision: Decision) -> None:
        """The user chose to stop the run in the review: it ends after this edit (at its next await)."""
        if decision.stop and self._stop is not None:
            asyncio.get_running_loop().call_soon(self._stop)

    async def _settle(
        self, request: asyncio.Future[Any], proposed: ProposedEdit, path: Path, text: str
    ) -> None:
        try:
            answer = await asyncio.wait_for(request, 30)
        except Exception:  # unknown outcome: keep it pending, the diff stays available
            return
        self._record(answer, proposed, path, text)

    def _record(self, answer: Any, proposed: ProposedEdit, path: Path, text: str) -> EditResult:
        if answer is not None and getattr(answer, "applied", False):
            proposed.status = "applied"
            if self._open_document(path) is None:
                self._applied[path] = text
            return EditResult(True)
        reason = getattr(answer, "failure_reason", None) if answer is not None else None
        proposed.status = "rejected"
        proposed.reason = (
            f"the editor could not apply the edit to {proposed.path}: {reason}"
            if reason
            else f"the user rejected the edit to {proposed.path}"
        )
        return EditResult(False, proposed.reason + "; do not retry the same change unless asked")

    def _workspace_edit(
        self, path: Path, old: str | None, new: str, label: str, rel: str, confirm: bool
    ) -> types.WorkspaceEdit:
        uri = self._uri(path)
        ls = self.server
        annotate = capabilities.change_annotations(ls)
        annotation_id = ANNOTATION_ID if annotate else None
        if old is None:
            text_edit = types.TextEdit(range=_range(0, 0, 0, 0), new_text=new)
        else:
            text_edit = self.minimal_edit(old, new)
        annotations = None
        if annotate:
            annotations = {
                ANNOTATION_ID: types.ChangeAnnotation(
                    label=label,
                    description=f"SmallCode {'creates' if old is None else 'changes'} {rel}",
                    needs_confirmation=confirm,
                )
            }
        if not capabilities.document_changes(ls):
            return types.WorkspaceEdit(changes={uri: [text_edit]})
        edit: types.TextEdit | types.AnnotatedTextEdit = text_edit
        if annotation_id:
            edit = types.AnnotatedTextEdit(
                range=text_edit.range, new_text=text_edit.new_text, annotation_id=annotation_id
            )
        doc = self._open_document(path)
        version = doc.version if doc is not None else None
        document_edit = types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=[edit],
        )
        changes: list[Any] = []
        if old is None and capabilities.create_files(ls):
            changes.append(
                types.CreateFile(
                    uri=uri,
                    options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True),
                    annotation_id=annotation_id,
                )
            )
        changes.append(document_edit)
        return types.WorkspaceEdit(document_changes=changes, change_annotations=annotations)

    def minimal_edit(self, old: str, new: str) -> types.TextEdit:
        """One TextEdit over the lines that changed: the cursor and marks elsewhere in the buffer stay put."""
        a, b = _items(old), _items(new)
        prefix = 0
        while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
            prefix += 1
        suffix = 0
        while suffix < min(len(a), len(b)) - prefix and a[-1 - suffix] == b[-1 - suffix]:
            suffix += 1
        end_index = len(a) - suffix
        if end_index < len(a):
            end_line, end_char = end_index, 0
        else:
            end_line, end_char = len(a) - 1, self.server.workspace.position_codec.client_num_units(a[-1])
        return types.TextEdit(
            range=_range(prefix, 0, end_line, end_char), new_text="".join(b[prefix : len(b) - suffix])
        )

    # for smallcode.diff -----------------------------------------------------------------------------
    def diff_report(self, path: str | None = None) -> dict[str, Any]:
        edits = [e for e in self.edits if path is None or e.path == path]
        return {"edits": [e.as_dict() for e in edits], "diff": "".join(e.diff for e in edits)}


def _range(l1: int, c1: int, l2: int, c2: int) -> types.Range:
    return types.Range(start=types.Position(line=l1, character=c1), end=types.Position(line=l2, character=c2))
