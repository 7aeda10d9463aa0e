"""The checks judge the editor's unsaved text on a shadow copy (agent_core.verify.shadow): the workspace's files
are never written, VCS data is left out, dependency folders are linked, and the copy is removed afterwards."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from agent_core.config import Settings
from agent_core.verify.shadow import make_shadow, shadow_copy
from agent_core.verify.verifier import Verifier

CALC = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TEST)
    return root


def test_the_shadow_has_the_unsaved_text_and_the_workspace_stays_as_it_was(tmp_path: Path) -> None:
    root = _project(tmp_path)
    shadow = make_shadow(root, {root / "calc.py": FIXED, root / "pkg" / "new.py": "x = 1\n"})
    try:
        assert (shadow / "calc.py").read_text() == FIXED
        assert (shadow / "pkg" / "new.py").read_text() == "x = 1\n"
        assert (shadow / "test_calc.py").read_text() == TEST
        assert not (shadow / ".git").exists()
        assert (shadow / ".venv").is_symlink() and (shadow / ".venv").resolve() == (root / ".venv").resolve()
    finally:
        shutil.rmtree(shadow.parent)
    assert (root / "calc.py").read_text() == CALC and not (root / "pkg").exists()


async def test_nothing_unsaved_checks_in_place(tmp_path: Path) -> None:
    root = _project(tmp_path)
    async with shadow_copy(root, {}) as where:
        assert where == root
    async with shadow_copy(root, {tmp_path / "elsewhere.py": "x"}) as where:
        assert where == root  # text outside the workspace is no reason for a copy


async def test_the_verifier_runs_the_tests_against_the_unsaved_text(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = set(Path(tempfile.gettempdir()).glob("smallcode-shadow-*"))

    async def unsaved() -> dict[Path, str]:
        return {root / "calc.py": FIXED}

    settings = Settings.model_validate({})
    saved = await Verifier(root, None, settings, "fix add").check(["calc.py"])
    assert saved.status == "failed"  # the file on disk still subtracts
    unsaved_verdict = await Verifier(root, None, settings, "fix add", unsaved=unsaved).check(["calc.py"])
    assert unsaved_verdict.status == "passed", unsaved_verdict.output_tail
    assert unsaved_verdict.passed == 1
    assert "smallcode-shadow-" not in unsaved_verdict.output_tail + unsaved_verdict.feedback
    assert (root / "calc.py").read_text() == CALC
    assert set(Path(tempfile.gettempdir()).glob("smallcode-shadow-*")) == before  # removed
