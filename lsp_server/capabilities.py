"""What the connected client can do, asked in one place (each answer False when the client says nothing)."""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer


def _caps(ls: LanguageServer) -> types.ClientCapabilities:
    try:
        return ls.client_capabilities
    except Exception:  # before initialize
        return types.ClientCapabilities()


def document_changes(ls: LanguageServer) -> bool:
    ws = _caps(ls).workspace
    return bool(ws and ws.workspace_edit and ws.workspace_edit.document_changes)


def change_annotations(ls: LanguageServer) -> bool:
    ws = _caps(ls).workspace
    return bool(ws and ws.workspace_edit and ws.workspace_edit.change_annotation_support is not None)


def create_files(ls: LanguageServer) -> bool:
    ws = _caps(ls).workspace
    ops = ws.workspace_edit.resource_operations if ws and ws.workspace_edit else None
    return bool(ops and types.ResourceOperationKind.Create in ops)


def delete_files(ls: LanguageServer) -> bool:
    ws = _caps(ls).workspace
    ops = ws.workspace_edit.resource_operations if ws and ws.workspace_edit else None
    return bool(ops and types.ResourceOperationKind.Delete in ops)


def code_lens_refresh(ls: LanguageServer) -> bool:
    ws = _caps(ls).workspace
    return bool(ws and ws.code_lens and ws.code_lens.refresh_support)


def work_done_progress(ls: LanguageServer) -> bool:
    window = _caps(ls).window
    return bool(window and window.work_done_progress)


def configuration(ls: LanguageServer) -> bool:
    ws = _caps(ls).workspace
    return bool(ws and ws.configuration)


def inline_completion(ls: LanguageServer) -> bool:
    td = _caps(ls).text_document
    return bool(td and td.inline_completion is not None)


def code_action_literals(ls: LanguageServer) -> bool:
    td = _caps(ls).text_document
    return bool(td and td.code_action and td.code_action.code_action_literal_support is not None)


def review(ls: LanguageServer) -> bool:
    """The client reviews proposed edits hunk by hunk (`smallcode/review`, lsp_server/review.py)."""
    experimental = _caps(ls).experimental
    smallcode = experimental.get("smallcode") if isinstance(experimental, dict) else None
    return isinstance(smallcode, dict) and smallcode.get("review") is True
