"""The code graph follows the editor: what the user types (didChange) is indexed as the file's text, a save or
a close (didSave, didClose) sends the index back to the file on disk. Each is a note to the index's background
thread (agent_core.memory.graph.index), so a keystroke never waits for a parse.

Only workspaces that already have an index (.smallcode/index.db, made by the first graph tool call or
repository map) are followed: opening a file must not create one where the agent never needed it.
"""

from __future__ import annotations

from pathlib import Path

from pygls.uris import to_fs_path

from agent_core.memory.graph.index import CodeIndex
from agent_core.memory.graph.languages import language_of
from agent_core.memory.graph.store import index_path
from lsp_server.agents import Agents
from lsp_server.feature import Feature


class CodeIndexFeature(Feature):
    name = "code index"

    def __init__(self, agents: Agents) -> None:
        super().__init__(agents.server)
        self.agents = agents

    def document_changed(self, uri: str) -> None:
        found = self._index_of(uri)
        if found is not None:
            index, path = found
            index.notify_text(path, self.server.workspace.get_text_document(uri).source)

    def document_saved(self, uri: str) -> None:
        self._back_to_disk(uri)

    def document_closed(self, uri: str) -> None:
        self._back_to_disk(uri)  # closed without saving: the unsaved text indexed so far is gone

    def _back_to_disk(self, uri: str) -> None:
        found = self._index_of(uri)
        if found is not None:
            index, path = found
            index.notify([path])

    def _index_of(self, uri: str) -> tuple[CodeIndex, Path] | None:
        """The index that holds the file at `uri` and the file's path; None for a file outside the workspace,
        in a language the graph does not read, or in a workspace without an index."""
        root = self.agents.root_of(uri)
        if root is None:
            return None
        path = Path(to_fs_path(uri) or "").resolve()
        if language_of(path.name) is None or not index_path(root).is_file():
            return None
        return CodeIndex.for_root(root), path
