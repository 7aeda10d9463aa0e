"""What the model-driven benchmarks (`bench plan`, `bench tasks`) share: the bench settings from the
environment, one model endpoint for a whole run (the embedded server, started once, or a given URL), one
agent run under a wall-clock cap, and subprocesses for the suites' own checks.

Model: SMALLCODE_BENCH_MODEL, else SMALLCODE_EMBEDDED_MODEL (default qwen2.5-coder-1.5b; qwen2.5-coder-0.5b is
the quick one); SMALLCODE_GGUF serves any local GGUF instead. Turns per run: SMALLCODE_BENCH_MAX_TURNS (12).
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_core.config import ConfigError, Settings, load_settings
from agent_core.result import RunResult

log = logging.getLogger(__name__)

MAX_TURNS = 12
"""Model turns per run: enough for plan + edits + tests + marking steps, small enough to bound the run time."""
CHECK_TIMEOUT = 60.0
"""Seconds one check subprocess (pytest, a hidden assertion, running a script) may take."""

Status = Callable[[str], None]


class Unavailable(Exception):
    """The benchmark cannot run here (no engine, no model, no pytest…); the message says why, in one line."""


def bench_settings(cwd: Path) -> tuple[Settings, int]:
    """The workspace's settings with SMALLCODE_BENCH_MODEL applied, and the turn cap; ConfigError when bad."""
    settings = load_settings(cwd)
    updates: dict[str, Any] = {}
    if os.environ.get("SMALLCODE_BENCH_MODEL"):
        updates["embedded_model"] = os.environ["SMALLCODE_BENCH_MODEL"]
    max_turns = MAX_TURNS
    raw_turns = os.environ.get("SMALLCODE_BENCH_MAX_TURNS", "")
    if raw_turns:
        if not raw_turns.isdigit() or int(raw_turns) < 1:
            raise ConfigError(f"SMALLCODE_BENCH_MAX_TURNS must be a positive whole number, not {raw_turns!r}")
        max_turns = int(raw_turns)
    return settings.model_copy(update=updates), max_turns


def agent_settings(base: Settings, base_url: str, model: str, max_turns: int, **updates: Any) -> Settings:
    """The agent's settings for a bench run: the endpoint, temperature 0 (a rerun repeats itself) and the
    detected test command (a user's SMALLCODE_TEST_RUNNER would not fit the bench's projects)."""
    return base.model_copy(
        update={
            "base_url": base_url,
            "model": model,
            "max_turns": max_turns,
            "temperature": 0.0,
            "test_runner": None,
            **updates,
        }
    )


def unavailable(settings: Settings) -> str | None:
    """Why the embedded model cannot run here (one line), or None when it can."""
    from agent_core.llm.embedded import engine_missing
    from agent_core.llm.models import ModelsError, find_parts, get_model, models_dir, present_path

    missing = engine_missing()
    if missing:
        return (
            f"the embedded engine is not installed ({', '.join(missing)} missing): "
            "pip install 'smallcode[embedded]' to run this benchmark"
        )
    if settings.gguf:
        return (
            None
            if Path(settings.gguf).expanduser().is_file()
            else f"SMALLCODE_GGUF {settings.gguf} is not a file"
        )
    try:
        model = get_model(settings.embedded_model)
    except ModelsError as exc:
        return str(exc)
    if present_path(model, models_dir(settings)) is None and find_parts(model)[1]:
        return (
            f"the embedded model {model.name} is not installed: run `smallcode models pull {model.name}` "
            "(or pick another with SMALLCODE_BENCH_MODEL)"
        )
    return None


def embedded_settings(settings: Settings, model: str | None) -> Settings:
    """The settings for a run on the embedded model: --model (without --base-url) names it, a catalogue name
    such as qwen2.5-coder-0.5b, as SMALLCODE_BENCH_MODEL does."""
    return settings.model_copy(update={"embedded_model": model, "gguf": None}) if model else settings


def model_label(settings: Settings, base_url: str | None, model: str | None) -> str:
    """The model a run is measured on, as the report names it."""
    if base_url is None:
        settings = embedded_settings(settings, model)
        return settings.gguf or settings.embedded_model
    return model or ""


@dataclass
class Endpoint:
    base_url: str
    model: str
    settings: Settings
    """The settings with the server's context window filled in (embedded)."""


@asynccontextmanager
async def model_endpoint(
    settings: Settings, base_url: str | None, model: str | None, status: Status | None = None
) -> AsyncIterator[Endpoint]:
    """The given endpoint, or the embedded server started once for the whole run and stopped after it.

    Raises Unavailable when the embedded model cannot run here or no model name is known; ModelError when
    the server does not start."""
    if base_url is not None:
        if not model:
            raise Unavailable("no model name given for the model server")
        yield Endpoint(base_url, model, settings)
        return
    settings = embedded_settings(settings, model)
    reason = unavailable(settings)
    if reason:
        raise Unavailable(reason)
    from agent_core.llm.embedded import EmbeddedServer

    server = EmbeddedServer(settings, on_status=status)
    try:
        url, name = await server.start()
        # The agent asks the server's window, not the model's nominal one (which would overflow n_ctx).
        yield Endpoint(url, name, settings.model_copy(update={"context": settings.context or server.context}))
    finally:
        await server.stop()


@dataclass
class AgentRun:
    result: RunResult
    response: str
    seconds: float
    plan_made: bool


async def run_agent(root: Path, prompt: str, settings: Settings, timeout: float) -> AgentRun:
    """One SmallCode run in `root` under a wall-clock cap. A crash or a timeout is a failed run with its
    reason in `response`, never an exception: one bad task must not end a benchmark."""
    from agent_core.agent import SmallCode  # the agent pulls in much; the module stays cheap to import

    agent = SmallCode(cwd=root, settings=settings)
    started = time.monotonic()
    response = ""
    try:
        response = (await asyncio.wait_for(agent.run(prompt), timeout)).response
    except TimeoutError:
        response = f"abandoned after {timeout:.0f} s"
    except Exception as exc:
        log.warning("the agent crashed in %s", root.name, exc_info=True)
        response = f"the agent crashed: {type(exc).__name__}: {exc}"
    finally:
        seconds = time.monotonic() - started
        plan_made = bool(agent.ctx.plan is not None and agent.ctx.plan.plan is not None)
        await agent.aclose()
    # agent.run records its result even when it is cancelled or crashes: the figures of the part that ran.
    result = agent.runs[-1] if agent.runs else RunResult()
    return AgentRun(result, response, seconds, plan_made)


def check_env() -> dict[str, str]:
    # Inner pytest: no third-party plugins (fast, isolated); no bytecode files left in the project.
    return {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def run_command(root: Path, args: list[str], timeout: float = CHECK_TIMEOUT) -> tuple[int, str]:
    """(exit code, stdout+stderr) of a check run in `root`; -1 and a message when it timed out."""
    try:
        done = subprocess.run(
            args, cwd=root, env=check_env(), capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL, errors="replace",
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout:.0f} s"
    return done.returncode, (done.stdout + done.stderr).strip()
