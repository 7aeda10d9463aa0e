"""Workspace trust: settings that weaken safety are the user's to choose, not the project's.

A cloned repository (or a model that writes `smallcode.toml`) must not turn the shell sandbox off, let the
file tools at `.env` files, give the shell the network, send the code to an endpoint of its choosing, or have
the embedded server load a model file of its choosing (`gguf`, `models_dir`). Such
settings from the workspace's own files (`smallcode.toml`, the project's `.env`) are used only when the user
said yes to exactly those values for this workspace, once, on a terminal (like direnv's `allow` or VS Code's
workspace trust); the answer lives in the user's state directory, outside every workspace and every sandbox,
one folder per workspace. Flags, the environment and the user's own config file are the user's and need no
trust.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from agent_core.workspace import atomic_write

log = logging.getLogger("smallcode.trust")

SANDBOX_STRENGTH = {"off": 0, "auto": 1, "on": 2}
SAFETY_FLAGS = ("allow_env_files", "shell_network", "web_browse", "web_allow_private")
"""Booleans that weaken safety when true."""
CHOSEN_BY_USER = ("gguf", "models_dir", "shell_env_pass")
"""Paths of model files the embedded server loads (unsandboxed; a crafted GGUF is an attack on its parser)
and environment variables let into the model's shell (they may hold secrets): any value of the project's
own is a weakening."""


def user_config_file() -> Path:
    """The user's own settings: $XDG_CONFIG_HOME/smallcode/config.toml (~/.config/smallcode/config.toml)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "smallcode" / "config.toml"


def state_dir(root: Path) -> Path:
    """The user's per-workspace state folder: $XDG_STATE_HOME/smallcode/workspaces/<name>-<hash of the path>."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    resolved = root.resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(base) / "smallcode" / "workspaces" / f"{resolved.name or 'root'}-{digest}"


def weakens(key: str, value: Any, user_value: Any) -> bool:
    """Whether a workspace's `value` for `key` is less safe than what the user's sources give."""
    if (
        key == "base_url"
        or key.startswith("base_url_")
        or key.endswith("_base_url")
        or key in CHOSEN_BY_USER
        or key == "web_search_url"  # the project's choice of where the model's queries go
    ):
        return value is not None and value != user_value
    if key == "shell_sandbox":
        return SANDBOX_STRENGTH.get(str(value), 0) < SANDBOX_STRENGTH.get(str(user_value), 1)
    if key in SAFETY_FLAGS:
        return bool(value) and not bool(user_value)
    if key == "cloud_max_calls":  # more of the user's code sent to the cloud, on the user's bill
        return isinstance(value, int) and value > (user_value if isinstance(user_value, int) else 0)
    return False


def _trust_file(root: Path, topic: str = "settings") -> Path:
    """One file per topic ("settings", "mcp"), so one answer never overwrites another."""
    return state_dir(root) / ("trust.json" if topic == "settings" else f"trust-{topic}.json")


def _fingerprint(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, default=str)


def decision(root: Path, settings: dict[str, Any], topic: str = "settings") -> bool | None:
    """The user's answer for exactly these weakening settings in this workspace, or None if never asked."""
    try:
        data = json.loads(_trust_file(root, topic).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("settings") != json.loads(_fingerprint(settings)):
        return None
    allowed = data.get("allowed")
    return allowed if isinstance(allowed, bool) else None


def remember(root: Path, settings: dict[str, Any], allowed: bool, topic: str = "settings") -> Path:
    """Record the user's answer (0600, in a 0700 folder of the state directory)."""
    path = _trust_file(root, topic)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    record = {
        "workspace": str(root.resolve()),
        "settings": json.loads(_fingerprint(settings)),
        "allowed": allowed,
    }
    atomic_write(path, json.dumps(record, indent=1).encode("utf-8"), mode=0o600)
    return path


def describe(settings: dict[str, Any], sources: dict[str, str]) -> str:
    files = sorted({sources.get(k, "the project") for k in settings})
    shown = ", ".join(f"{k} = {json.dumps(v, default=str)}" for k, v in sorted(settings.items()))
    return f"{' and '.join(files)} in this project set{'s' if len(files) == 1 else ''} {shown}"


_warned: set[tuple[str, str]] = set()


def warn_ignored(
    root: Path, settings: dict[str, Any], sources: dict[str, str], declined: bool, *, silent: bool = False
) -> None:
    """One line, once per workspace and set of settings in this process (`silent`: the user was just asked)."""
    key = (str(root.resolve()), _fingerprint(settings))
    if key in _warned:
        return
    _warned.add(key)
    if silent:
        return
    why = (
        "you declined them for this project"
        if declined
        else "allow them by running smallcode in this project on a terminal, or set them in the environment "
        f"or {user_config_file()}"
    )
    log.warning("ignoring settings that weaken safety: %s (%s)", describe(settings, sources), why)
