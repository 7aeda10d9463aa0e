"""The task text an editor's ask becomes (lsp_server.features.ask.build_task): diagnostics sent with the request
are listed with their place and source; `#diagnostics` with none reported says so instead of leaving the model
to guess what was meant."""

from __future__ import annotations

from pathlib import Path

from pygls.workspace import Workspace

from lsp_server.features.ask import AskArgs, build_task


def _ask(root: Path, **fields: object) -> str:
    uri = (root / "calc.py").as_uri()
    return build_task(Workspace(root.as_uri()), root, AskArgs.model_validate({"uri": uri, **fields}))


def test_diagnostics_are_listed_with_file_line_and_source(tmp_path: Path) -> None:
    diagnostic = {"message": "add subtracts", "source": "otherlint", "range": {"start": {"line": 1}}}
    task = _ask(tmp_path, prompt="why? #diagnostics", diagnostics=[diagnostic])
    assert "Diagnostics:\n\n- calc.py:2: add subtracts (otherlint)" in task


def test_diagnostics_asked_for_but_none_reported_says_so(tmp_path: Path) -> None:
    task = _ask(tmp_path, prompt="fix #diagnostics")
    assert "Diagnostics (#diagnostics): the editor reports none for this code." in task
    assert "the editor reports none" not in _ask(tmp_path, prompt="fix the bug")
