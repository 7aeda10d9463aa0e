"""An ACP prompt (content blocks) as the task text the agent core takes.

Text blocks are the request; files the user attached arrive as links (`resource_link`, the agent reads them
itself) or with their text embedded (`resource`, the editor's buffer), which goes into the task as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from acp.schema import (
    EmbeddedResourceContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
)

MAX_EMBEDDED_CHARS = 20_000
"""Of one attached file's text, what goes into the task (small models have small windows)."""


def prompt_text(blocks: list[Any], root: Path) -> str:
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, TextContentBlock):
            parts.append(block.text)
        elif isinstance(block, ResourceContentBlock):
            parts.append(f"(attached: {_name(block.uri, root)})")
        elif isinstance(block, EmbeddedResourceContentBlock):
            resource = block.resource
            name = _name(resource.uri, root)
            if isinstance(resource, TextResourceContents):
                text = resource.text[:MAX_EMBEDDED_CHARS]
                cut = "\n[… cut]" if len(resource.text) > MAX_EMBEDDED_CHARS else ""
                parts.append(f"{name}:\n```\n{text.rstrip()}{cut}\n```")
            else:
                parts.append(f"(attached: {name}, not text)")
        else:  # image or audio: not advertised, so not expected
            parts.append(f"(an attachment of type {getattr(block, 'type', '?')} was left out)")
    return "\n\n".join(p for p in parts if p.strip())


def _name(uri: str, root: Path) -> str:
    """A file URI as a workspace-relative path when it is inside the workspace."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("file", ""):
        return uri
    path = Path(unquote(parsed.path))
    try:
        return path.resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return str(path)
