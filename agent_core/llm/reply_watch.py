"""Ending a streamed reply once it holds what the turn needs.

A small model's reply that writes one file whole goes on after the block: an explanation of the change, the
tests "to verify", sometimes the file again (in the bench's traces a sixth of the reply tokens came after the
block that was written). Generation is the slow part on a laptop CPU, so the agent stops reading there: the
watcher raises `ReplyComplete` from the token callback, which closes the stream, and the server stops
generating (llama.cpp servers check for a closed connection after every token).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

TokenCallback = Callable[[str], Awaitable[None] | None]


class ReplyComplete(Exception):
    """The reply so far (`text`) is all the turn needs."""

    def __init__(self, text: str) -> None:
        super().__init__("reply complete")
        self.text = text


class ReplyWatch:
    """A token callback that passes each piece on to `forward`, and raises ReplyComplete when a line ends and
    `complete(text so far)` says the reply is done."""

    def __init__(self, complete: Callable[[str], bool], forward: TokenCallback | None = None) -> None:
        self.complete = complete
        self.forward = forward
        self.parts: list[str] = []

    async def on_token(self, piece: str) -> None:
        if self.forward is not None:
            shown = self.forward(piece)
            if inspect.isawaitable(shown):
                await shown
        self.parts.append(piece)
        if "\n" in piece:  # a block can only have closed at the end of a line
            text = "".join(self.parts)
            if self.complete(text):
                raise ReplyComplete(text)
