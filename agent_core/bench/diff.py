"""`smallcode bench diff A B`: two saved benchmark runs compared task by task and in total.

The rule: only tasks that pass in one run and fail in the other say anything. With b tasks that B passes and A
failed, and c the other way, an exact McNemar test (two-sided binomial sign test on b + c, p = 1/2) gives p.
p < 0.05: B is better (b > c, exit 0) or worse (c > b, exit 1); otherwise the difference is within noise
(exit 2). Tasks are matched by name (and arm, for the tasks suite); tasks in only one run are listed, not
counted. Tokens and time are shown for reading, not judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from math import comb
from pathlib import Path
from typing import Any

from agent_core.bench.report import benchmarks_dir

ALPHA = 0.05
BETTER, WORSE, NOISE = 0, 1, 2
RULE = (
    "rule: exact McNemar test (two-sided sign test) over the tasks that pass in one run and fail in the "
    f"other; p < {ALPHA} means better (exit 0) or worse (exit 1), else within noise (exit 2)"
)


class DiffError(Exception):
    """A run cannot be read or compared; the message says why, in one line."""


def load_run(ref: str, cwd: Path) -> tuple[Path, dict[str, Any]]:
    """A saved report by path, or by file name under .smallcode/benchmarks/."""
    candidates = [Path(ref), benchmarks_dir(cwd) / ref, benchmarks_dir(cwd) / f"{ref}.json"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise DiffError(f"no saved run {ref!r} (give a path or a file name in {benchmarks_dir(cwd)})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DiffError(f"{path} is not a saved benchmark run: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise DiffError(f"{path} is not a saved benchmark run (no list of cases)")
    return path, data


def outcomes(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Task key → case, for the cases with a pass/fail outcome (skipped ones left out)."""
    out = {}
    for case in run["cases"]:
        if not isinstance(case, dict) or not isinstance(case.get("passed"), bool) or case.get("skipped"):
            continue
        name = case.get("task") or case.get("name") or case.get("id")
        if name is None:
            continue
        out[f"{name} · {case['arm']}" if case.get("arm") else str(name)] = case
    return out


def sign_test(b: int, c: int) -> float:
    """Two-sided exact binomial p for b successes in b + c trials at p = 1/2 (1.0 when there are none)."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(comb(n, k) for k in range(0, min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass
class Diff:
    rows: list[tuple[str, bool, bool]] = field(default_factory=list)
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    gained: int = 0
    lost: int = 0
    p: float = 1.0
    verdict: int = NOISE


def compare(a: dict[str, Any], b: dict[str, Any]) -> Diff:
    left, right = outcomes(a), outcomes(b)
    common = [k for k in left if k in right]
    if not common:
        raise DiffError("the two runs share no task with a pass/fail outcome: compare runs of the same suite")
    diff = Diff(
        rows=[(k, bool(left[k]["passed"]), bool(right[k]["passed"])) for k in common],
        only_a=[k for k in left if k not in right],
        only_b=[k for k in right if k not in left],
    )
    diff.gained = sum(1 for _, x, y in diff.rows if y and not x)
    diff.lost = sum(1 for _, x, y in diff.rows if x and not y)
    diff.p = sign_test(diff.gained, diff.lost)
    if diff.p < ALPHA:
        diff.verdict = BETTER if diff.gained > diff.lost else WORSE
    return diff


def _total(cases: list[dict[str, Any]], key: str) -> float:
    return sum(float(c.get(key) or 0) for c in cases if isinstance(c, dict))


def render(path_a: Path, a: dict[str, Any], path_b: Path, b: dict[str, Any], diff: Diff) -> str:
    mark = {(True, True): "  pass → pass", (False, False): "  fail → fail", (False, True): "+ fail → PASS",
            (True, False): "- pass → FAIL"}  # fmt: skip
    width = max(12, *(len(k) for k, _, _ in diff.rows))
    lines = [f"A: {path_a.name} ({a.get('suite', '?')})", f"B: {path_b.name} ({b.get('suite', '?')})", ""]
    lines += [f"{key:<{width}}  {mark[(x, y)]}" for key, x, y in diff.rows]
    for label, keys in (("only in A", diff.only_a), ("only in B", diff.only_b)):
        if keys:
            lines.append(f"{label} (not counted): {', '.join(keys)}")
    n = len(diff.rows)
    passed_a = sum(x for _, x, _ in diff.rows)
    passed_b = sum(y for _, _, y in diff.rows)
    lines += [
        "",
        f"total: A passed {passed_a}/{n}, B passed {passed_b}/{n}; B gained {diff.gained}, lost {diff.lost}; "
        f"p = {diff.p:.3g}",
    ]
    ca, cb = a["cases"], b["cases"]
    if _total(ca, "tokens") or _total(cb, "tokens"):
        lines.append(
            f"tokens: A {_total(ca, 'tokens'):.0f}, B {_total(cb, 'tokens'):.0f}; "
            f"seconds: A {_total(ca, 'seconds'):.0f}, B {_total(cb, 'seconds'):.0f}"
        )
    word = {BETTER: "B is better", WORSE: "B is worse", NOISE: "within noise"}[diff.verdict]
    lines += [f"verdict: {word}", RULE]
    return "\n".join(lines)
