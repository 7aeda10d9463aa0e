"""`smallcode bench smoke`: a dozen quick Python tasks (agent_core/bench/data/smoke/), each judged by running
its tests or its program; meant to finish in under 5 minutes on the embedded qwen2.5-coder-0.5b."""

from __future__ import annotations

from pathlib import Path

from agent_core.bench import checked
from agent_core.bench.report import BenchReport

SPEC = checked.SuiteSpec(
    "smoke", max_turns=5, timeout=45.0, wall_bar=300.0, default_model="qwen2.5-coder-0.5b"
)


def run(
    cwd: Path, base_url: str | None = None, model: str | None = None, names: list[str] | None = None
) -> BenchReport:
    return checked.run(SPEC, cwd, base_url, model, names)
