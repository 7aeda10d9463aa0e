"""`smallcode/step` notifications: what a run is doing, step by step, for the editors' chat views.

{runId, kind: "tool", id, name, label, state: running|ok|failed|rejected, ms?, error?} as each tool starts and ends
(rejected: the user turned its edit down in the editor);
{runId, kind: "status"|"check"|"review"|"approval", text} for the model loading, a check's outcome, a review's
decision, a shell command waiting for the user's yes and the answer.
The model's text itself streams as `smallcode/stream` (lsp_server/features/ask.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lsp_server.server import SmallCodeServer

STEP = "smallcode/step"


def notify_step(ls: SmallCodeServer, run_id: str, kind: str, **fields: Any) -> None:
    if run_id:
        ls.protocol.notify(STEP, {"runId": run_id, "kind": kind, **fields})
