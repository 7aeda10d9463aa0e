"""Per-hunk review: the `smallcode/review` request to a client that offers it (docs/EDITORS.md, "Protocol").

In "preview" mode a client that announces `experimental.smallcode.review` gets each proposed file change as
hunks and answers which it accepts; only those reach the buffer (an ordinary workspace/applyEdit follows),
the model is told what was rejected and why, and the user may stop the run there. No answer rejects all.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent_core.patch.hunks import Hunk, apply_hunks, split_hunks

if TYPE_CHECKING:
    from lsp_server.server import SmallCodeServer

REVIEW = "smallcode/review"
REVIEW_TIMEOUT = 600.0
"""Seconds the user has to review one file's change before it counts as rejected."""
MAX_REJECTED_CHARS = 1500
"""Rejected hunks quoted back to the model (a small window's share)."""


@dataclass
class Decision:
    """The user's answer about one file's change."""

    text: str
    """The old text with the accepted hunks (the old text itself when none was accepted)."""
    accepted: list[Hunk]
    rejected: list[Hunk]
    feedback: str = ""
    stop: bool = False
    error: str = ""
    """Why there is no answer (the editor failed or timed out); everything is rejected then."""

    @property
    def any_accepted(self) -> bool:
        return bool(self.accepted)

    def note_for_model(self, path: str) -> str:
        """What the model is told: which parts the user rejected, and the user's words."""
        if not self.rejected:
            return ""
        if not self.accepted:
            reason = self.error or (f"they said: {self.feedback}" if self.feedback else "no reason given")
            return f"{reason}; do not send the same change again unless asked"
        quoted = "\n".join(h.text() for h in self.rejected)
        if len(quoted) > MAX_REJECTED_CHARS:
            quoted = quoted[:MAX_REJECTED_CHARS] + "\n[… more rejected lines]"
        total = len(self.accepted) + len(self.rejected)
        said = f"\nThe user said: {self.feedback}" if self.feedback else ""
        return (
            f"The user accepted {len(self.accepted)} of {total} parts of this change to {path}; these parts "
            f"were rejected and are not in the file:\n{quoted}{said}"
        )

    def summary(self, path: str) -> str:
        """One line for the editor's step list."""
        total = len(self.accepted) + len(self.rejected)
        if not self.rejected:
            return f"you accepted the change to {path}"
        if not self.accepted:
            return f"you rejected the change to {path}"
        return f"you accepted {len(self.accepted)} of {total} parts of the change to {path}"


async def ask_review(
    ls: SmallCodeServer,
    *,
    run_id: str,
    path: str,
    uri: str,
    label: str,
    old: str | None,
    new: str,
    diff: str,
) -> Decision:
    """Send one file's change for review and wait for the user's decision (never raises but on cancel)."""
    hunks = split_hunks(old or "", new)
    params = {
        "runId": run_id,
        "path": path,
        "uri": uri,
        "label": label,
        "created": old is None,
        "oldText": old or "",
        "newText": new,
        "diff": diff,
        "hunks": [h.as_dict() for h in hunks],
    }
    request = asyncio.ensure_future(ls.protocol.send_request_async(REVIEW, params))
    try:
        # shielded: cancelling pygls' future would break its handling of a late answer
        answer = await asyncio.wait_for(asyncio.shield(request), REVIEW_TIMEOUT)
    except asyncio.CancelledError:
        raise
    except TimeoutError:
        return Decision(old or "", [], hunks, error=f"no answer to the review in {REVIEW_TIMEOUT:g}s")
    except Exception as exc:  # the client failed the request
        return Decision(old or "", [], hunks, error=f"the editor did not answer the review: {exc}")
    accepted_ids = _ids(_field(answer, "accepted"))
    feedback = _field(answer, "feedback")
    accepted = [h for h in hunks if h.id in accepted_ids]
    rejected = [h for h in hunks if h.id not in accepted_ids]
    text = new if not rejected else apply_hunks(old or "", new, accepted_ids)
    return Decision(
        text=text,
        accepted=accepted,
        rejected=rejected,
        feedback=feedback.strip()[:2000] if isinstance(feedback, str) else "",
        stop=_field(answer, "stop") is True,
    )


def _field(answer: Any, name: str) -> Any:
    """A field of a client's answer, which pygls gives as an object with attributes (or a dict)."""
    if answer is None:
        return None
    if isinstance(answer, dict):
        return answer.get(name)
    return getattr(answer, name, None)


def _ids(value: Any) -> set[int]:
    if not isinstance(value, list | tuple):
        return set()
    return {v for v in value if isinstance(v, int) and not isinstance(v, bool)}
