"""Suite name → `module:function`; each function takes the workspace Path (the model suites also the endpoint
and task names) and returns a BenchReport."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from agent_core.bench.report import BenchReport

SUITES: dict[str, str] = {
    "tools": "agent_core.bench.tools_suite:run",
    "patch": "agent_core.bench.patch_suite:run",
    "plan": "agent_core.bench.plan_suite:run",
    "tasks": "agent_core.bench.tasks_suite:run",
    "smoke": "agent_core.bench.smoke_suite:run",
    "polyglot": "agent_core.bench.polyglot_suite:run",
    "retrieval": "agent_core.bench.retrieval_suite:run",
}
MODEL_SUITES = ("smoke", "polyglot")
"""Suites that take the model endpoint (--base-url/--model) and a --tasks selection, like `tasks`."""


def load_suite(name: str) -> Callable[..., BenchReport]:
    target = SUITES[name]
    module_name, func_name = target.split(":")
    func: Callable[..., BenchReport] = getattr(importlib.import_module(module_name), func_name)
    return func
