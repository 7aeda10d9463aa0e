"""What a benchmark suite returns, and where results are saved."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agent_core.safety.redact import redact_obj


class BenchReport(BaseModel):
    suite: str
    figures: dict[str, Any] = Field(default_factory=dict)
    """Headline numbers (rates, counts, timings) — what a diff between runs compares."""
    cases: list[dict[str, Any]] = Field(default_factory=list)
    """Per-case outcomes."""
    text: str = ""
    """A human-readable table of the results."""
    ok: bool = True
    """Whether the suite met its bar."""
    saved_to: str = ""
    """Where the suite saved itself, for a suite that saves as it goes (`bench tasks`); else the CLI saves it."""


def benchmarks_dir(cwd: Path) -> Path:
    return cwd / ".smallcode" / "benchmarks"


def save_report(
    report: BenchReport, cwd: Path, path: Path | None = None, extra: dict[str, Any] | None = None
) -> Path:
    """Write the report as JSON (secrets redacted): to `path`, or to a new SUITE-<date>.json under
    .smallcode/benchmarks/."""
    if path is None:
        path = benchmarks_dir(cwd) / f"{report.suite}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"saved_at": time.time(), **report.model_dump(exclude={"saved_to"}), **(extra or {})}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(redact_obj(body), indent=2), encoding="utf-8")
    tmp.replace(path)  # whole or not at all: an interrupted run never leaves half a file to resume from
    return path
