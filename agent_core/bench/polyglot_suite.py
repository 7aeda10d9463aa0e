"""`smallcode bench polyglot`: small tasks in Python, JavaScript, Go and Rust (agent_core/bench/data/polyglot/),
each judged by its own tests with the toolchain found here (pytest, node --test, go test, cargo test); a
language whose toolchain is missing has its tasks skipped, and the report says so."""

from __future__ import annotations

from pathlib import Path

from agent_core.bench import checked
from agent_core.bench.report import BenchReport

SPEC = checked.SuiteSpec("polyglot", max_turns=10, timeout=180.0)


def run(
    cwd: Path, base_url: str | None = None, model: str | None = None, names: list[str] | None = None
) -> BenchReport:
    return checked.run(SPEC, cwd, base_url, model, names)
