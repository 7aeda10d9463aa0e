"""initialize / initialized / workspace/didChangeConfiguration: settings that apply without a restart.

Options come from initializationOptions first, then the `smallcode` section of workspace/configuration (which
wins where the client offers it). didChangeConfiguration either carries the new section or makes the server
pull it again. When the agents' settings change, each agent is rebuilt on its next use.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from lsp_server import capabilities
from lsp_server.agents import Agents
from lsp_server.errors import guarded
from lsp_server.feature import Feature

SECTION = "smallcode"


class ConfigurationFeature(Feature):
    name = "configuration"

    def __init__(self, agents: Agents) -> None:
        super().__init__(agents.server)
        self.agents = agents

    def register(self) -> None:
        server = self.server
        server.feature(types.INITIALIZE)(guarded(server, "initialize")(self.initialize))
        server.feature(types.INITIALIZED)(guarded(server, "initialized")(self.initialized))
        server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(
            guarded(server, "didChangeConfiguration")(self.did_change_configuration)
        )

    async def initialize(self, params: types.InitializeParams) -> None:
        self.server.initial_options = params.initialization_options
        self._apply(params.initialization_options, "initializationOptions")

    async def initialized(self, params: types.InitializedParams) -> None:
        pulled = await self.pull()
        if pulled is not None:
            self._apply(_merge(self.server.initial_options, pulled), "workspace/configuration")

    async def did_change_configuration(self, params: types.DidChangeConfigurationParams) -> None:
        pushed = params.settings.get(SECTION) if isinstance(params.settings, dict) else None
        section = pushed if isinstance(pushed, dict) else await self.pull()
        self._apply(_merge(self.server.initial_options, section or {}), "didChangeConfiguration")

    async def pull(self) -> Any:
        """The client's `smallcode` section, or None when it offers no configuration (or answers nothing)."""
        ls = self.server
        if not capabilities.configuration(ls):
            return None
        items = [types.ConfigurationItem(section=SECTION)]
        answer = await ls.workspace_configuration_async(types.ConfigurationParams(items=items))
        value = answer[0] if answer else None
        return value if value else None  # {} or null: nothing configured there

    def _apply(self, raw: Any, source: str) -> None:
        if self.server.apply_options(raw, source):
            self.agents.settings_changed()


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(base.get(SECTION), dict):
        base = base[SECTION]
    if not isinstance(base, dict):
        return override
    if not isinstance(override, dict):
        return base if override is None else override
    return {**base, **override}
