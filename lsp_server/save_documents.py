"""Saving after an applied edit: the agent's edits (save_agent_edit) and undo (save_after_edit).

An agent edit never reaches the disk behind the editor: only in "auto" mode with saveAfterEdit, and only for
buffers without unsaved changes of the user, the editor is asked to save it (save_agent_edit). Undo's files:

An applied WorkspaceEdit only changes the editor's buffers. The server asks the editor to save them with the
custom request `smallcode/saveDocuments {uris}` (answer `{saved: [uri]}`; null means all were saved); the
VS Code extension and the Neovim plugin implement it. For a client that does not (MethodNotFound, an error,
no answer within SAVE_TIMEOUT) or a document it did not save, the server writes the new text itself, but only
when that cannot lose the user's work: the document was not open before the edit, or its buffer then equalled
the file on disk. A buffer with unsaved changes of the user is never written over on disk.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound

from agent_core.workspace import WorkspaceError, atomic_write, decode_text, encode_for

if TYPE_CHECKING:
    from lsp_server.server import SmallCodeServer

log = logging.getLogger(__name__)

SAVE_DOCUMENTS = "smallcode/saveDocuments"
SAVE_TIMEOUT = 3.0
"""Seconds to wait for the editor to save before the server writes the files itself (where that is safe)."""


@dataclass
class PendingSave:
    path: Path
    uri: str
    text: str
    """The text the applied edit produced."""
    disk_matched: bool
    """Not open in the editor before the edit, or its buffer then equalled the file on disk."""


async def save_agent_edit(ls: SmallCodeServer, saves: list[PendingSave]) -> list[str]:
    """After an agent edit the editor applied: only in "auto" mode with saveAfterEdit, ask the editor to save
    the buffers that held no unsaved changes of the user before the edit. The server never writes these files
    itself, and in "preview" mode nothing is saved: the user saves; the checks read a shadow copy
    (agent_core.verify.shadow). Returns the paths the editor saved."""
    if not saves or not ls.options.save_after_edit or ls.options.apply_mode != "auto":
        return []
    for save in saves:
        if not save.disk_matched:
            ls.log(
                f"SmallCode: {save.path} has unsaved changes of yours, so the agent's edit stays unsaved "
                "in the editor (the checks see it; save when you are ready)",
                types.MessageType.Warning,
            )
    clean = [s for s in saves if s.disk_matched]
    handled = await _ask_editor(ls, [s.uri for s in clean]) if clean else set()
    return [str(s.path) for s in clean if s.uri in handled]


def buffer_matches_disk(path: Path, buffer: str | None) -> bool:
    """True when writing over `path` loses nothing: no open buffer (None), or one with the file's text."""
    if buffer is None:
        return True
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return buffer == ""
    except OSError:
        return False
    try:
        return decode_text(data, path.name) == buffer
    except WorkspaceError:  # binary on disk: never ours to overwrite
        return False


async def save_after_edit(ls: SmallCodeServer, saves: list[PendingSave]) -> list[str]:
    """Get `saves` onto the disk (editor first, safe fallback second); returns the paths written by the server."""
    if not saves or not ls.options.save_after_edit:
        return []
    handled = await _ask_editor(ls, [s.uri for s in saves])
    written: list[str] = []
    for save in saves:
        if save.uri in handled:
            continue
        if not save.disk_matched:
            ls.log(
                f"SmallCode: {save.path} has unsaved changes of yours, so the agent's edit stays unsaved "
                "in the editor (save it to let tests see it)",
                types.MessageType.Warning,
            )
            continue
        try:
            data = await asyncio.to_thread(encode_for, save.path, save.text, save.path.name)
            await asyncio.to_thread(atomic_write, save.path, data)
        except (OSError, WorkspaceError) as exc:
            ls.show(f"SmallCode: could not save {save.path}: {exc}", types.MessageType.Warning)
            continue
        written.append(str(save.path))
    return written


async def _ask_editor(ls: SmallCodeServer, uris: list[str]) -> set[str]:
    """The uris the editor says it saved (none when it cannot or does not answer in time)."""
    if ls.save_request_unsupported:
        return set()
    request = asyncio.ensure_future(ls.protocol.send_request_async(SAVE_DOCUMENTS, {"uris": uris}))
    try:
        # shielded: cancelling pygls' future would break its handling of a late answer
        answer = await asyncio.wait_for(asyncio.shield(request), SAVE_TIMEOUT)
    except JsonRpcMethodNotFound:
        ls.save_request_unsupported = True  # no need to ask this client again
        ls.log(
            f"SmallCode: the editor has no {SAVE_DOCUMENTS}; agent edits stay unsaved in it",
            types.MessageType.Log,
        )
        return set()
    except TimeoutError:
        ls.log(f"SmallCode: no answer to {SAVE_DOCUMENTS} in {SAVE_TIMEOUT:g}s", types.MessageType.Log)
        return set()
    except Exception as exc:
        ls.log(f"SmallCode: {SAVE_DOCUMENTS} failed: {exc}", types.MessageType.Log)
        return set()
    return _saved(answer, uris)


def _saved(answer: Any, uris: list[str]) -> set[str]:
    if answer is None:
        return set(uris)
    saved = answer.get("saved") if isinstance(answer, dict) else getattr(answer, "saved", None)
    if saved is None:
        return set(uris)
    return {str(uri) for uri in saved}
