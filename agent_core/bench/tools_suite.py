"""`smallcode bench tools`: the tool-call parser on the golden corpus of raw model replies.

Figures: recovery rate (replies with calls whose calls came out exactly right), false calls (calls found
in replies that make none), wrong calls (calls found, but not the expected ones), missed replies, and
error-message mismatches (an unrecoverable attempt not reported to the model, or a report where none was
due). The bar: everything recovered, nothing false or wrong.

The corpus ships in the package (agent_core/bench/data/tool_corpus/: one JSON file per case with `reply`,
optional `native`, `reasoning`, `finish_reason` and `task`, `tools` naming a file under tools/, `expected` calls
and optional `expect_errors`). Every case has a `family` (the format or rule it exercises; its negative cases,
replies that hold no call, carry the same label), and the report gives the figures per family. Family "recorded" holds real replies of the embedded Qwen2.5-Coder models, each with its
`source` (model, engine, date), `temperature`, the `context` messages it answered and a hand-review `note`
(scripts/bench_embedded.py --record / --record-agent write new ones as drafts). Cases in
<workspace>/.smallcode/tool_corpus/*.json are run too."""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

from agent_core.bench.report import BenchReport
from agent_core.llm.types import NativeToolCall
from agent_core.parsing import parse_reply


def corpus_dir() -> Any:
    return resources.files("agent_core.bench") / "data" / "tool_corpus"


def load_tool_sets(root: Any = None) -> dict[str, list[dict[str, Any]]]:
    folder = (root or corpus_dir()) / "tools"
    return {
        entry.name.removesuffix(".json"): json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


def load_cases(extra: Path | None = None) -> list[dict[str, Any]]:
    """Shipped cases sorted by id, then the workspace's recorded ones (each tagged with its file)."""
    cases = []
    sources: list[Any] = [corpus_dir()]
    if extra is not None and extra.is_dir():
        sources.append(extra)
    for folder in sources:
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json") and entry.is_file():
                case = json.loads(entry.read_text(encoding="utf-8"))
                case["_file"] = str(entry)
                cases.append(case)
    return cases


def actual(case: dict[str, Any], tool_sets: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """What the parser makes of a case: {"calls": [{name, arguments}], "errors": [...]}."""
    tools = tool_sets.get(case.get("tools", "default"), tool_sets.get("default", []))
    native = [NativeToolCall.model_validate(n) for n in case.get("native", [])]
    outcome = parse_reply(
        case.get("reply", ""),
        native,
        tools,
        reasoning=case.get("reasoning", ""),
        finish_reason=case.get("finish_reason"),
        task=case.get("task"),
    )
    return {
        "calls": [{"name": c.name, "arguments": c.arguments} for c in outcome.calls],
        "errors": outcome.errors,
    }


def judge(case: dict[str, Any], got: dict[str, Any]) -> str:
    """recovered | wrong | missed | false_call | no_call (correctly none) | error_mismatch."""
    expected = case.get("expected", [])
    errors_ok = bool(got["errors"]) == bool(case.get("expect_errors", False))
    if expected:
        if got["calls"] == expected:
            return "recovered" if errors_ok else "error_mismatch"
        return "wrong" if got["calls"] else "missed"
    if got["calls"]:
        return "false_call"
    return "no_call" if errors_ok else "error_mismatch"


def run(cwd: Path) -> BenchReport:
    tool_sets = load_tool_sets()
    cases = load_cases(Path(cwd) / ".smallcode" / "tool_corpus")
    started = time.perf_counter()
    rows = []
    for case in cases:
        t0 = time.perf_counter()
        got = actual(case, tool_sets)
        rows.append(
            {
                "id": case.get("id", Path(case["_file"]).stem),
                "family": case.get("family", ""),
                "verdict": judge(case, got),
                "ms": round((time.perf_counter() - t0) * 1000, 2),
                "got": got["calls"],
                "expected": case.get("expected", []),
            }
        )
    count = {v: sum(r["verdict"] == v for r in rows) for v in
             ("recovered", "wrong", "missed", "false_call", "no_call", "error_mismatch")}  # fmt: skip
    positive = sum(1 for c in cases if c.get("expected"))
    figures = {
        "cases": len(cases),
        "with_calls": positive,
        "recovered": count["recovered"],
        "recovery_rate": round(count["recovered"] / positive, 4) if positive else 1.0,
        "false_calls": count["false_call"],
        "wrong_calls": count["wrong"],
        "missed": count["missed"],
        "error_mismatches": count["error_mismatch"],
        "total_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    figures["families"] = _families(rows)
    ok = count["recovered"] == positive and not (
        count["false_call"] or count["wrong"] or count["error_mismatch"]
    )
    return BenchReport(suite="tools", figures=figures, cases=rows, text=_table(rows, figures), ok=ok)


def _families(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per family: cases, replies with calls and how many came out right, replies without a call, and the
    failures by kind."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        f = out.setdefault(r["family"] or "-", {
            "cases": 0, "with_calls": 0, "recovered": 0, "without_calls": 0, "no_call": 0,
            "false_calls": 0, "wrong_calls": 0, "missed": 0, "error_mismatches": 0,
        })  # fmt: skip
        f["cases"] += 1
        f["with_calls" if r["expected"] else "without_calls"] += 1
        key = {"false_call": "false_calls", "wrong": "wrong_calls", "error_mismatch": "error_mismatches"}
        f[key.get(r["verdict"], r["verdict"])] += 1
    return dict(sorted(out.items()))


def _table(rows: list[dict[str, Any]], figures: dict[str, Any]) -> str:
    lines = [
        f"tool-call parsing: {figures['recovered']}/{figures['with_calls']} recovered "
        f"({figures['recovery_rate']:.1%}), {figures['false_calls']} false, {figures['wrong_calls']} wrong, "
        f"{figures['missed']} missed, {figures['error_mismatches']} error-message mismatches "
        f"({figures['cases']} cases, {figures['total_ms']} ms)",
        f"  {'family':<14} {'recovered':>11} {'no call':>9} {'false':>6} {'wrong':>6} {'missed':>7} {'msg':>4}",
    ]
    for family, f in figures["families"].items():
        lines.append(
            f"  {family:<14} {f['recovered']:>5}/{f['with_calls']:<5} {f['no_call']:>4}/{f['without_calls']:<4} "
            f"{f['false_calls']:>6} {f['wrong_calls']:>6} {f['missed']:>7} {f['error_mismatches']:>4}"
        )
    for r in rows:
        if r["verdict"] not in ("recovered", "no_call"):
            lines.append(f"  ✗ {r['id']}: {r['verdict']} — got {json.dumps(r['got'])[:200]}")
    return "\n".join(lines)
