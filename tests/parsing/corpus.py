"""Golden-corpus helpers shared by the test and the regenerator: the canonical corpus ships in the
package (agent_core/bench/data/tool_corpus/), so `smallcode bench tools` can run it from an install."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from agent_core.bench import tools_suite

CORPUS = Path(str(tools_suite.corpus_dir()))


def case_files() -> list[Path]:
    return sorted(CORPUS.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


def diff(expected: Any, got: Any) -> str:
    a = json.dumps(expected, indent=2, ensure_ascii=False).splitlines()
    b = json.dumps(got, indent=2, ensure_ascii=False).splitlines()
    return "\n".join(difflib.unified_diff(a, b, "expected", "got", lineterm=""))


def regenerate(path: Path) -> bool:
    """Rewrite the case's `expected` (and `expect_errors`) from the parser's current output.
    Returns whether anything changed. Review the diff before committing a regenerated corpus."""
    case = load(path)
    got = tools_suite.actual(case, tools_suite.load_tool_sets())
    changed = case.get("expected") != got["calls"] or bool(case.get("expect_errors")) != bool(got["errors"])
    if changed:
        case["expected"] = got["calls"]
        case.pop("expect_errors", None)
        if got["errors"]:
            case["expect_errors"] = True
        path.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed
