"""What a benchmark suite returns, and where results are saved."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field


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


def save_report(report: BenchReport, cwd: Path) -> Path:
    out_dir = cwd / ".smallcode" / "benchmarks"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{report.suite}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"saved_at": time.time(), **report.model_dump()}, indent=2), encoding="utf-8")
    return path
