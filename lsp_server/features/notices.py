"""Agent notices the user must see in the editor (window/showMessage): a routing switch to another model and
each cloud escalation (what is sent leaves the machine). Other progress goes to the ask's progress report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_server.feature import Feature

NOTICES = {"model_switch": types.MessageType.Info, "cloud": types.MessageType.Warning}


class NoticesFeature(Feature):
    name = "notices"

    async def on_agent_event(self, root: Path, event: dict[str, Any]) -> None:
        level = NOTICES.get(str(event.get("event")))
        if level is not None and event.get("text"):
            self.server.show(f"SmallCode: {event['text']}", level)
