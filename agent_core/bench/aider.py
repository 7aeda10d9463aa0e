"""Aider as the peer arm of `smallcode bench tasks`: find or install it, run it once on a task directory.

Which `aider` runs: SMALLCODE_AIDER (a path to the executable), else `aider` on PATH, else the one in a venv
cached under (XDG_CACHE_HOME or ~/.cache)/smallcode/aider-venv, created on first use with `pip install
aider-chat` from PyPI (a few minutes, once). When none can be had, the arm is skipped with the reason.

One try is one process: `aider --model openai/MODEL --edit-format whole --map-tokens 0 --message PROMPT FILE…`
against the same OpenAI-compatible endpoint the SmallCode arm uses (docs/BENCHMARKS.md has the whole line).
Two flags beyond a plain command line follow Aider's own benchmark harness: `--no-suggest-shell-commands`
(its benchmark creates the coder with suggest_shell_commands=False; with --yes-always a suggested command
would also run) and `--no-pretty` (plain text to parse). Token counts come from the `Tokens: N sent, M
received.` lines Aider prints after each model reply; it rounds counts of 1,000 and more ("1.2k", "15k").
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent_core.llm.models import cache_dir

INSTALL_TIMEOUT = 1200.0
"""Seconds `pip install aider-chat` may take (a few minutes on a laptop)."""
PACKAGE = "aider-chat"


@dataclass
class AiderRun:
    seconds: float
    prompt_tokens: int
    completion_tokens: int
    replies: int
    """How many `Tokens:` lines (model replies) the run printed."""
    exit_code: int
    timed_out: bool
    output: str


def venv_dir() -> Path:
    return cache_dir() / "aider-venv"


def _version(executable: str) -> str | None:
    try:
        done = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
            env=_env(),
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[-1].strip() if done.returncode == 0 and text else None


def find_aider(install: bool = True, status: Callable[[str], None] | None = None) -> tuple[str | None, str]:
    """(the aider executable, its version) or (None, why not)."""
    say = status or (lambda _text: None)
    override = os.environ.get("SMALLCODE_AIDER", "")
    if override:
        version = _version(override)
        return (override, version) if version else (None, f"SMALLCODE_AIDER={override} does not run")
    on_path = shutil.which("aider")
    if on_path:
        version = _version(on_path)
        if version:
            return on_path, version
    cached = venv_dir() / "bin" / "aider"
    if cached.is_file():
        version = _version(str(cached))
        if version:
            return str(cached), version
    if not install:
        return None, f"aider is not installed (no `aider` on PATH, none in {venv_dir()})"
    say(f"installing {PACKAGE} into {venv_dir()} (once; a few minutes)…")
    reason = _install()
    if reason:
        return None, reason
    version = _version(str(cached))
    return (str(cached), version) if version else (None, f"{cached} was installed but does not run")


def _install() -> str | None:
    """Create the cached venv and pip-install aider-chat into it; None on success, else the reason."""
    target = venv_dir()
    with contextlib.suppress(OSError):
        shutil.rmtree(target)  # a half-made venv from an interrupted install
    steps = (
        [sys.executable, "-m", "venv", str(target)],
        [
            str(target / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            PACKAGE,
        ],
    )
    for step in steps:
        try:
            done = subprocess.run(
                step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"could not install {PACKAGE}: {exc}"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
            return f"could not install {PACKAGE}: {tail[0][:300]}"
    return None


def _env(base_url: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "OPENAI_API_KEY": "none",
        # litellm fetches a price list from the internet at import unless told to use its bundled copy.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "AIDER_ANALYTICS": "false",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if base_url:
        env["OPENAI_API_BASE"] = base_url
    return env


def command(executable: str, model: str, prompt: str, files: list[str]) -> list[str]:
    return [
        executable, "--model", f"openai/{model}", "--yes-always", "--no-git", "--no-auto-commits",
        "--no-show-model-warnings", "--no-check-update", "--no-analytics", "--edit-format", "whole",
        "--map-tokens", "0", "--no-suggest-shell-commands", "--no-pretty", "--message", prompt, *files,
    ]  # fmt: skip


def run_aider(
    executable: str, root: Path, base_url: str, model: str, prompt: str, files: list[str], timeout: float
) -> AiderRun:
    """One Aider process in `root` (its own process group, killed whole on timeout)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        command(executable, model, prompt, files),
        cwd=root,
        env=_env(base_url),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    timed_out = False
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    sent, received, replies = parse_tokens(output)
    return AiderRun(
        seconds=time.monotonic() - started,
        prompt_tokens=sent,
        completion_tokens=received,
        replies=replies,
        exit_code=proc.returncode,
        timed_out=timed_out,
        output=output,
    )


_TOKENS_LINE = re.compile(r"^\s*Tokens:\s*(?P<rest>.*)$", re.MULTILINE)
_COUNT = re.compile(r"(?P<n>[\d.,]+)\s*(?P<unit>[kKmM]?)\s+(?P<what>sent|received)")


def _count(number: str, unit: str) -> int:
    value = float(number.replace(",", ""))
    return round(value * {"": 1, "k": 1_000, "m": 1_000_000}[unit.lower()])


def parse_tokens(output: str) -> tuple[int, int, int]:
    """(sent, received, lines) summed over Aider's `Tokens:` lines (one per model reply)."""
    sent = received = lines = 0
    for line in _TOKENS_LINE.finditer(output):
        lines += 1
        for m in _COUNT.finditer(line.group("rest")):
            if m.group("what") == "sent":
                sent += _count(m.group("n"), m.group("unit"))
            else:
                received += _count(m.group("n"), m.group("unit"))
    return sent, received, lines
