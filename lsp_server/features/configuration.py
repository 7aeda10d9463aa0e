"""initialize / initialized / workspace/didChangeConfiguration / shutdown: settings that apply without a restart.

Options come from initializationOptions first, then the `smallcode` section of workspace/configuration (which
wins where the client offers it). didChangeConfiguration either carries the new section or makes the server
pull it again.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from lsp_server import capabilities
from lsp_server.server import SmallCodeServer

SECTION = "smallcode"


async def pull_configuration(ls: SmallCodeServer) -> Any:
    """The client's `smallcode` section, or None when it offers no configuration (or answers nothing)."""
    if not capabilities.configuration(ls):
        return None
    items = [types.ConfigurationItem(section=SECTION)]
    answer = await ls.workspace_configuration_async(types.ConfigurationParams(items=items))
    value = answer[0] if answer else None
    return value if value else None  # {} or null: nothing configured there


def register(server: SmallCodeServer) -> None:
    @server.feature(types.INITIALIZE)
    @server.guarded("initialize")
    async def initialize(ls: SmallCodeServer, params: types.InitializeParams) -> None:
        ls.initial_options = params.initialization_options
        ls.apply_options(params.initialization_options, "initializationOptions")

    @server.feature(types.INITIALIZED)
    @server.guarded("initialized")
    async def initialized(ls: SmallCodeServer, params: types.InitializedParams) -> None:
        pulled = await pull_configuration(ls)
        if pulled is not None:
            ls.apply_options(_merge(ls.initial_options, pulled), "workspace/configuration")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @server.guarded("didChangeConfiguration")
    async def did_change_configuration(
        ls: SmallCodeServer, params: types.DidChangeConfigurationParams
    ) -> None:
        pushed = params.settings.get(SECTION) if isinstance(params.settings, dict) else None
        section = pushed if isinstance(pushed, dict) else await pull_configuration(ls)
        ls.apply_options(_merge(ls.initial_options, section or {}), "didChangeConfiguration")

    @server.feature(types.SHUTDOWN)
    @server.guarded("shutdown")
    async def shutdown(ls: SmallCodeServer, params: None) -> None:
        await ls.close_all()


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(base.get(SECTION), dict):
        base = base[SECTION]
    if not isinstance(base, dict):
        return override
    if not isinstance(override, dict):
        return base if override is None else override
    return {**base, **override}
