"""Golden drift cases on real code: each drifted edit must give exactly the reviewed result.

Regenerate after an intended change with SMALLCODE_UPDATE_GOLDEN=1, then review `git diff tests/patch/golden`.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from agent_core.patch import PatchError, apply_edit, apply_edit_blocks, parse_edit_blocks, unified_diff
from tests.patch.golden_cases import CASES

HERE = Path(__file__).parent
UPDATE = os.environ.get("SMALLCODE_UPDATE_GOLDEN") == "1"


def source(name: str, variant: str = "") -> str:
    text = (HERE / "data" / name).read_text(encoding="utf-8")
    return text.replace("\n", "\r\n") if variant == "crlf" else text


def check_gold(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"no gold file {path.name}: run with SMALLCODE_UPDATE_GOLDEN=1 and review it"
    with path.open(encoding="utf-8", newline="") as handle:
        expected = handle.read()
    if actual != expected:
        delta = "".join(
            difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "gold", "actual")
        )
        pytest.fail(f"{path.name} differs from its gold file:\n{delta}")


@pytest.mark.parametrize(("name", "data", "variant", "search", "replace"), CASES, ids=[c[0] for c in CASES])
def test_golden_drift(name: str, data: str, variant: str, search: str, replace: str) -> None:
    text = source(data, variant)
    try:
        outcome = apply_edit(text, search, replace)
    except PatchError as exc:
        check_gold(HERE / "golden" / f"{name}.refusal", f"{exc.reason}\n{exc}\n")
        return
    # Only the intended lines change: every other line of the real file is kept byte for byte.
    assert not (HERE / "golden" / f"{name}.refusal").exists(), "this case must be refused"
    check_gold(
        HERE / "golden" / f"{name}.diff", f"stage: {outcome.stage}\n" + unified_diff(data, text, outcome.text)
    )


def test_crlf_case_keeps_crlf_everywhere() -> None:
    name, data, variant, search, replace = next(c for c in CASES if c[2] == "crlf")
    out = apply_edit(source(data, variant), search, replace).text
    assert "\n" not in out.replace("\r\n", "")
    assert out.count("\r\n") == source(data, variant).count("\r\n") + 1


def test_reply_with_edit_blocks_applies_to_real_files() -> None:
    """A model reply with blocks in prose (two files, one diff-fenced) edits both files."""
    reply = (HERE / "data" / "reply_blocks.md").read_text(encoding="utf-8")
    blocks = parse_edit_blocks(reply)
    files = {b.path: source(Path(b.path).name) for b in blocks}
    result = apply_edit_blocks(blocks, files)
    assert result.ok, result.message
    check_gold(HERE / "golden" / "reply_blocks.diff", "".join(result.diffs[p] for p in sorted(result.diffs)))
