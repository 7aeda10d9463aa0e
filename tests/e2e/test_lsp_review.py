"""Per-hunk review (`smallcode/review`) with a client that offers it: nothing reaches the buffer or the disk
while the user reviews, only the accepted hunks are applied, the model hears what was rejected and why, and
"stop" ends the run. The run's steps reach the client as `smallcode/step`. Real server subprocess, the
pytest-lsp client playing the editor (the editors' own review UIs have their tests under tests/editors)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import LanguageClient

from tests.e2e import test_lsp_server as base
from tests.e2e.test_lsp_server import Editor, command, wait_until
from tests.support.scripted_server import ScriptedModelServer

client, lsp_options = base.client, base.lsp_options

OLD = "".join(f"x{n} = {n}\n" for n in range(1, 16))
NEW = OLD.replace("x2 = 2\n", "x2 = 20\n").replace("x14 = 14\n", "x14 = 140\n")


@pytest.fixture
def client_experimental() -> dict[str, Any]:
    return {"smallcode": {"review": True}}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "values.py").write_text(OLD)
    return root


class Reviewer:
    """The user in front of the review: answers each smallcode/review with `answers` in turn (held until
    `go` is set), and records the requests and the step notifications."""

    def __init__(self, lsp: LanguageClient, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.requests: list[Any] = []
        self.steps: list[Any] = []
        self.go = asyncio.Event()
        self.go.set()

        @lsp.feature("smallcode/review")
        async def review(params: Any) -> dict[str, Any]:
            self.requests.append(params)
            await self.go.wait()
            return self.answers.pop(0)

        @lsp.feature("smallcode/step")
        def step(params: Any) -> None:
            self.steps.append(params)


READ = {"tool_calls": [{"name": "read_file", "arguments": {"path": "values.py"}}]}


def _write(content: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": "values.py", "content": content}}]}


def _open_values(client: LanguageClient, buffer_only: bool = True) -> tuple[Editor, Path, str]:
    """The test editor with values.py open (its buffer, not the disk, takes edits); (editor, root, uri)."""
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    editor.buffer_only = buffer_only
    return editor, root, editor.open(root / "values.py")


async def test_only_accepted_hunks_land_and_the_model_hears_the_rejection(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    editor, root, uri = _open_values(client)
    reviewer = Reviewer(client, [{"accepted": [0], "feedback": "keep x14 as it is"}])
    model_server.extend([READ, _write(NEW), {"content": "Changed x2."}])
    answer = await command(
        client, "smallcode.ask", {"prompt": "make x2 and x14 ten times larger", "uri": uri}
    )

    (request,) = reviewer.requests
    assert request.path == "values.py" and request.oldText == OLD and request.newText == NEW
    assert [h.header for h in request.hunks] == ["@@ -1,5 +1,5 @@", "@@ -11,5 +11,5 @@"]
    assert "+x14 = 140" in request.hunks[1].lines
    assert editor.buffers[uri] == OLD.replace("x2 = 2\n", "x2 = 20\n")  # hunk 0 only
    assert (root / "values.py").read_text() == OLD  # preview: the user saves
    (applied,) = editor.edits
    assert "needs_confirmation" not in repr(applied.edit.change_annotations) or not any(
        a.needs_confirmation for a in (applied.edit.change_annotations or {}).values()
    )  # reviewed already: not asked again
    told = "\n".join(str(m.get("content")) for m in model_server.requests[2]["messages"])
    assert "accepted 1 of 2 parts" in told and "-x14 = 14" in told and "keep x14 as it is" in told
    assert {e["path"]: e["status"] for e in answer["data"]["edits"]} == {"values.py": "partial"}
    kinds = [(s.kind, getattr(s, "state", None)) for s in reviewer.steps]
    assert ("tool", "running") in kinds and ("tool", "ok") in kinds
    review_steps = [s.text for s in reviewer.steps if s.kind == "review"]
    assert review_steps == ["you accepted 1 of 2 parts of the change to values.py"]
    labels = [s.label for s in reviewer.steps if s.kind == "tool"]
    assert any("read_file" in label and "values.py" in label for label in labels)


async def test_nothing_changes_while_the_review_is_pending_and_stop_ends_the_run(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    editor, root, uri = _open_values(client)
    reviewer = Reviewer(client, [{"accepted": [], "feedback": "wrong idea", "stop": True}])
    reviewer.go.clear()
    model_server.extend([_write(NEW), _write(NEW), {"content": "Done."}])
    ask = asyncio.ensure_future(command(client, "smallcode.ask", {"prompt": "change values", "uri": uri}))
    await wait_until(lambda: reviewer.requests)
    await asyncio.sleep(0.3)
    assert editor.edits == [] and editor.buffers[uri] == OLD and (root / "values.py").read_text() == OLD
    reviewer.go.set()
    answer = await ask
    assert answer["data"].get("cancelled") is True, answer  # the user stopped it: no second try
    assert answer["error"] == "stopped in the review" and answer["text"].startswith(
        "Stopped: you ended the run"
    )
    assert len(reviewer.requests) == 1 and len(model_server.requests) == 1
    assert editor.edits == [] and editor.buffers[uri] == OLD and (root / "values.py").read_text() == OLD
    assert {e["path"]: e["status"] for e in answer["data"]["edits"]} == {"values.py": "rejected"}
    tool_states = [s.state for s in reviewer.steps if s.kind == "tool"]
    assert tool_states == ["running", "rejected"]  # the user's decision, not a failing tool


async def test_a_review_without_an_answer_rejects_the_change(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    editor, root, uri = _open_values(client, buffer_only=False)
    reviewer = Reviewer(client, [None, None])  # type: ignore[list-item]
    model_server.extend([_write(NEW), {"content": "I could not change it."}])
    await command(client, "smallcode.ask", {"prompt": "change values", "uri": uri})
    assert len(reviewer.requests) == 1 and editor.edits == []
    assert (root / "values.py").read_text() == OLD
    told = "\n".join(str(m.get("content")) for m in model_server.requests[1]["messages"])
    assert "the user rejected this edit" in told


@pytest.mark.parametrize("lsp_options", [{"applyMode": "auto"}])
async def test_auto_mode_applies_without_a_review(
    client: LanguageClient, model_server: ScriptedModelServer, lsp_options: dict[str, Any]
) -> None:
    editor: Editor = client.editor  # type: ignore[attr-defined]
    root: Path = client.root  # type: ignore[attr-defined]
    reviewer = Reviewer(client, [])
    model_server.extend([READ, _write(NEW), {"content": "Done."}])
    await command(client, "smallcode.ask", {"prompt": "change values"})
    assert reviewer.requests == [] and len(editor.edits) == 1
    assert (root / "values.py").read_text() == NEW


async def test_a_run_cancelled_during_the_review_lists_the_change_as_rejected(
    client: LanguageClient, model_server: ScriptedModelServer
) -> None:
    editor, root, uri = _open_values(client, buffer_only=False)
    reviewer = Reviewer(client, [{"accepted": [0, 1]}])
    reviewer.go.clear()  # the user never answers
    model_server.extend([_write(NEW), {"content": "Done."}])
    ask = asyncio.ensure_future(command(client, "smallcode.ask", {"prompt": "change values", "uri": uri}))
    await wait_until(lambda: reviewer.requests)
    await command(client, "smallcode.cancel")
    answer = await ask
    assert answer["error"] == "cancelled"
    assert [(e["path"], e["status"]) for e in answer["data"]["edits"]] == [("values.py", "rejected")]
    assert editor.edits == [] and (root / "values.py").read_text() == OLD
    reviewer.go.set()  # the late answer goes to a run that is over: nothing is applied
    await wait_until(lambda: not reviewer.answers)
    await asyncio.sleep(0.3)
    assert editor.edits == [] and (root / "values.py").read_text() == OLD
