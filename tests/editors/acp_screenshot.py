"""A screenshot of `smallcode acp` under a real ACP client for the README (docs/images/acp-acpx.png).

acpx (tests/editors/acpx, `npm ci --ignore-scripts` there) runs a task in a pseudo-terminal against the
scripted model: it starts the agent, the edit comes back as fs/write_text_file, the push asks and is denied.
The terminal is read by the pyte emulator, drawn as HTML (tests/editors/screenshots.py) and captured by headless
Chromium. Needs `pip install pyte` and chromium; run from the repository:

    python -m tests.editors.acp_screenshot
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shlex
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from tests.editors.screenshots import IMAGES, _screen_html
from tests.editors.test_acpx import ACPX
from tests.editors.vscode_env import chromium
from tests.support.scripted_server import ScriptedModelServer

SCRIPT = [
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
    {
        "tool_calls": [
            {
                "name": "patch",
                "arguments": {"path": "app.py", "search": '"hello " + name', "replace": 'f"Hello, {name}!"'},
            }
        ]
    },
    {"tool_calls": [{"name": "bash", "arguments": {"command": "git push origin main"}}]},
    {"content": "greet now returns `Hello, NAME!`. I did not push: you declined `git push`."},
]
PROMPT = "Make greet in app.py say Hello, NAME! and push"


def acpx_screenshot(work: Path, out: Path) -> None:
    import pyte

    project = work / "greeter"
    project.mkdir()
    (project / "app.py").write_text('def greet(name):\n    return "hello " + name\n')
    columns, lines = 110, 50
    screen = pyte.Screen(columns, lines)
    stream = pyte.ByteStream(screen)
    with ScriptedModelServer(SCRIPT, models=["qwen2.5-coder-7b-instruct"]) as model:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SMALLCODE_")},
            "TERM": "xterm-256color",
            "HOME": str(work / "home"),
            "XDG_STATE_HOME": str(work / "state"),
            "XDG_CONFIG_HOME": str(work / "config"),
            "SMALLCODE_BASE_URL": model.base_url,
            "SMALLCODE_MODEL": "qwen2.5-coder-7b-instruct",
            "SMALLCODE_EMBEDDED": "never",
            "PS1": "$ ",
        }
        policy = json.dumps({"autoDeny": ["execute"]})
        shown = f"$ acpx --agent 'smallcode acp' --approve-all --permission-policy '{policy}' exec '{PROMPT}'"
        command = (
            f"echo {shlex.quote(shown)}; "
            f"node {ACPX} --agent '{sys.executable} -m agent_core.cli.main acp' --approve-all "
            f"--permission-policy '{policy}' exec '{PROMPT}'"
        )
        pid, fd = pty.fork()
        if pid == 0:  # the child: the client on the pseudo-terminal, sized before it starts
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
            os.chdir(project)
            os.execvpe("bash", ["bash", "--norc", "-c", command], env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            stream.feed(data)
        os.waitpid(pid, 0)
    page = work / "acpx.html"
    page.write_text(_screen_html(screen))
    width, height = columns * 9 + 16, lines * 19 + 16
    subprocess.run(
        [
            os.environ.get("CHROMIUM") or str(chromium()),  # CHROMIUM: the browser binary, if not on PATH
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={work / 'chromium-shot'}",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
    )


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        acpx_screenshot(Path(tmp), IMAGES / "acp-acpx.png")
    print(f"wrote {IMAGES / 'acp-acpx.png'}")


if __name__ == "__main__":
    main()
