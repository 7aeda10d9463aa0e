"""Suite name → `module:function`; each function takes the workspace Path and returns a BenchReport."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from agent_core.bench.report import BenchReport

SUITES: dict[str, str] = {
    "tools": "agent_core.bench.tools_suite:run",
    "patch": "agent_core.bench.patch_suite:run",
    "plan": "agent_core.bench.plan_suite:run",
    "tasks": "agent_core.bench.tasks_suite:run",
}


def load_suite(name: str) -> Callable[[Path], BenchReport]:
    target = SUITES[name]
    module_name, func_name = target.split(":")
    func: Callable[[Path], BenchReport] = getattr(importlib.import_module(module_name), func_name)
    return func
