"""The shell sandbox: on Linux the bash tool runs inside bubblewrap (`bwrap`).

Inside: the workspace read-write; the rest of the file system read-only; credentials (~/.ssh, ~/.aws,
~/.gnupg, cloud and git credentials, package-registry tokens) masked; container-engine and session-bus
sockets hidden; private /tmp, /proc and /dev; no network unless `shell_network` is on; the checkpoint
stores (the undo history of every workspace, copies of their files) hidden, wherever they are.
The persistent shell works as before: `wrap_command` turns
`["bash", …]` into `["bwrap", …, "--", "bash", …]`.

Whether bwrap works here (it needs user namespaces, which some containers lack) is found out once by a
trial run and cached; where it does not, commands run without a sandbox after a one-time warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent_core.config import Settings
from agent_core.safety.checkpoints import store_dir

log = logging.getLogger(__name__)

CREDENTIALS = (
    ".ssh", ".aws", ".gnupg", ".config/gcloud", ".azure", ".kube", ".docker", ".git-credentials", ".netrc",
    ".npmrc", ".pypirc", ".config/gh", ".config/hub", ".cargo/credentials", ".cargo/credentials.toml",
    ".vault-token", ".terraform.d", ".config/op", ".password-store", ".local/share/keyrings",
    ".config/smallcode",
)  # fmt: skip
"""Paths under the home directory the sandboxed shell cannot read (masked when they exist)."""

SOCKETS = (
    "/run/docker.sock", "/var/run/docker.sock", "/run/containerd/containerd.sock", "/run/podman/podman.sock",
    "/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket",
)  # fmt: skip
"""Sockets a read-only mount would not stop (connecting to a socket is not a write): hidden."""


class SandboxError(Exception):
    """The sandbox is required (shell_sandbox="on") but cannot run here; the message is for the user."""


@dataclass(frozen=True)
class Probe:
    available: bool
    reason: str = ""


_probes: dict[tuple[str, ...], Probe] = {}
_warned = False


def bwrap_path() -> str | None:
    return shutil.which("bwrap") if sys.platform.startswith("linux") else None


def sandbox_args(
    root: Path, *, network: bool = False, home: Path | None = None, writable: Sequence[Path] = ()
) -> list[str]:
    """The bwrap options (without the program) for a shell confined to workspace `root`.

    `writable`: more directories writable inside, at the same path (e.g. where a test run's report goes)."""
    root = root.resolve()
    home = (home or Path(os.path.expanduser("~"))).resolve()
    args = [
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        "--tmpfs", "/var/tmp",
        "--tmpfs", "/dev/shm",
    ]  # fmt: skip
    # The Python that runs SmallCode, read-only, when it lives in a temporary folder the private /tmp hides (a
    # virtualenv in /tmp): else the checks' `python -m pytest` found no pytest and unittest collected nothing.
    for prefix in _temporary_prefixes(root):
        args += ["--ro-bind", str(prefix), str(prefix)]
    # The workspace goes on top of the private /tmp (it may live there); masks go on top of the workspace
    # (it may be the home directory itself).
    args += ["--bind", str(root), str(root)]
    for extra in writable:
        args += ["--bind", str(extra.resolve()), str(extra.resolve())]
    run_user = Path("/run/user")
    if run_user.is_dir() and not _contains(run_user, root):
        args += ["--tmpfs", str(run_user)]  # session buses and agent sockets (ssh-agent, gpg-agent)
    masked: set[Path] = set()
    for path in [Path(sock) for sock in SOCKETS] + [home / name for name in CREDENTIALS]:
        path = path.resolve()  # a symlinked ~/.ssh is masked where it really lives
        if path in masked or not path.exists() or _contains(path, root):
            continue
        masked.add(path)
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        else:
            args += ["--ro-bind", "/dev/null", str(path)]
    checkpoints = store_dir(root).parent  # every workspace's undo history: neither readable nor writable
    if checkpoints.is_dir() and not _contains(checkpoints, root):
        args += ["--tmpfs", str(checkpoints)]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent"]
    if not network:
        args.append("--unshare-net")
    args += ["--chdir", str(root)]
    return args


def _temporary_prefixes(root: Path) -> list[Path]:
    """The interpreter's installation folders that sit under /tmp or /var/tmp (not inside the workspace)."""
    found: list[Path] = []
    for raw in dict.fromkeys((sys.prefix, sys.base_prefix)):
        prefix = Path(raw).resolve()
        hidden = any(_contains(Path(tmp), prefix) for tmp in ("/tmp", "/var/tmp")) and prefix.is_dir()
        if hidden and not _contains(prefix, root) and not _contains(root, prefix) and prefix not in found:
            found.append(prefix)
    return found


def _contains(outer: Path, inner: Path) -> bool:
    return inner == outer or outer in inner.parents


def probe(root: Path, *, network: bool = False) -> Probe:
    """Whether bwrap runs here with these options (one trial run, cached per option set)."""
    exe = bwrap_path()
    if exe is None:
        reason = "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
        if not sys.platform.startswith("linux"):
            reason = f"no sandbox on {sys.platform}"
        return Probe(False, reason)
    argv = [exe, *sandbox_args(root, network=network), "--", "/bin/sh", "-c", "exit 0"]
    key = (exe, str(root.resolve()), str(network))
    if key in _probes:
        return _probes[key]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=15, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        result = Probe(False, f"bwrap did not start: {exc}")
    else:
        if done.returncode == 0:
            result = Probe(True)
        else:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            result = Probe(False, (detail[-1] if detail else f"exit code {done.returncode}")[:200])
    _probes[key] = result
    return result


def wrap_command(
    argv: list[str], root: Path, settings: Settings, *, writable: Sequence[Path] = ()
) -> list[str]:
    """`argv` to run inside the sandbox, or unchanged when the sandbox is off or cannot run here.

    With shell_sandbox="on" a missing sandbox raises SandboxError instead of running unconfined.
    `writable`: directories outside `root` the command may write too (sandbox_args).
    """
    global _warned
    mode = settings.shell_sandbox
    if mode == "off":
        return argv
    found = probe(root, network=settings.shell_network)
    if not found.available:
        if mode == "on":
            raise SandboxError(
                f"the shell sandbox is required (SMALLCODE_SHELL_SANDBOX=on) but cannot run: {found.reason}"
            )
        if not _warned:
            _warned = True
            log.warning("bubblewrap unavailable: commands run without a sandbox (%s)", found.reason)
        return argv
    exe = bwrap_path()
    assert exe is not None
    if settings.snapshot:  # made before the shell starts, so the sandbox can hide it
        with contextlib.suppress(OSError):
            store_dir(root).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return [exe, *sandbox_args(root, network=settings.shell_network, writable=writable), "--", *argv]


def status(root: Path, settings: Settings) -> dict[str, object]:
    """What the sandbox does here, for /doctor-style reports: {mode, active, reason, network}."""
    if settings.shell_sandbox == "off":
        return {"mode": "off", "active": False, "reason": "turned off (SMALLCODE_SHELL_SANDBOX=off)"}
    found = probe(root, network=settings.shell_network)
    return {
        "mode": settings.shell_sandbox,
        "active": found.available,
        "reason": found.reason,
        "network": settings.shell_network,
    }
