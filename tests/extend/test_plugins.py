"""Plugins through the agent loop: a real package (tests/extend/plugin_pkg) built into a wheel and installed
with pip into a temporary target on sys.path, found through its `smallcode.plugins` entry point; a file in the
user's plugins directory; and /plugin install running pip after confirmation."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent_core import SmallCode
from agent_core.commands import execute_command
from agent_core.safety import trust
from tests.support.scripted_server import ScriptedModelServer

PACKAGE = Path(__file__).with_name("plugin_pkg")


@pytest.fixture(scope="session")
def demo_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo plugin as a wheel (built from a copy: pip writes build files next to the sources)."""
    source = tmp_path_factory.mktemp("plugin_src") / "plugin_pkg"
    shutil.copytree(PACKAGE, source)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            ".",
        ],
        cwd=source,
        check=True,
    )
    return next(out.glob("smallcode_demo_plugin-*.whl"))


def pip_install(wheel: Path, target: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )


@pytest.fixture
def demo_plugin(
    demo_wheel: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """The plugin installed with pip into a target on sys.path (for this test only); its module, for EVENTS."""
    target = tmp_path_factory.mktemp("site")
    pip_install(demo_wheel, target)
    monkeypatch.syspath_prepend(str(target))
    module = importlib.import_module("smallcode_demo_plugin")
    module.EVENTS.clear()
    return module


def agent_for(server: ScriptedModelServer, root: Path) -> SmallCode:
    return SmallCode(model="scripted-model", base_url=server.base_url, cwd=root, test_disable=True)


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"id": "c1", "name": name, "arguments": arguments}]}


async def test_an_entry_point_plugin_adds_a_tool_a_command_and_sees_every_hook(
    model_server: ScriptedModelServer, tmp_path: Path, demo_plugin: Any
) -> None:
    model_server.extend(
        [
            call("demo_shout", text="hello"),
            call("read_file", path="missing.txt"),
            call("demo_shout", text="forbidden"),
            {"content": "Done."},
        ]
    )
    async with agent_for(model_server, tmp_path) as agent:
        result = await agent.run("shout hello")
        command = await execute_command(agent, "demo", "there")
        listing = await execute_command(agent, "plugin", "list")
        helped = await execute_command(agent, "help")
    assert result.success, result.response
    assert "demo_shout" in {t["function"]["name"] for t in model_server.requests[0]["tools"]}
    second = [str(m["content"]) for m in model_server.requests[1]["messages"] if m["role"] == "tool"]
    assert second[-1].endswith("HELLO!")
    refused = [str(m["content"]) for m in model_server.requests[3]["messages"] if m["role"] == "tool"][-1]
    assert "the demo plugin refuses this call" in refused
    events = demo_plugin.EVENTS
    assert [e[0] for e in events if e[0].endswith("request")] == ["before_request", "after_request"] * 4
    assert ("before_tool", "demo_shout") in events and ("after_tool", "demo_shout", True) in events
    assert ("after_tool", "read_file", False) in events
    assert any(e[0] == "on_error" and e[1].startswith("read_file:") for e in events)
    assert [e for e in events if e == ("after_tool", "demo_shout", True)] == [
        ("after_tool", "demo_shout", True)
    ]
    assert command.ok and command.text == f"demo says there in {tmp_path.name}"
    row = next(p for p in listing.data["plugins"] if p["name"] == "demo")
    assert row["loaded"] and row["tools"] == ["demo_shout"] and row["commands"] == ["demo"]
    assert set(row["hooks"]) == {"before_request", "after_request", "before_tool", "after_tool", "on_error"}
    assert "demo" in helped.data["commands"]


async def test_a_plugins_directory_file_is_loaded_and_a_broken_one_is_reported(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    folder = trust.user_config_file().parent / "plugins"
    folder.mkdir(parents=True)
    (folder / "greeter.py").write_text(
        "class Greeter:\n"
        "    name = 'greeter'\n"
        "    def commands(self):\n"
        "        return {'greet': lambda agent, words: {'text': 'hello ' + ' '.join(words), 'n': len(words)}}\n"
        "plugin = Greeter()\n"
    )
    (folder / "broken.py").write_text("raise RuntimeError('this plugin is broken')\n")
    model_server.extend([{"content": "ok"}])
    async with agent_for(model_server, tmp_path) as agent:
        greeted = await execute_command(agent, "greet", "you two")
        listing = await execute_command(agent, "plugin")
        result = await agent.run("say hi")
    assert greeted.ok and greeted.text == "hello you two" and greeted.data["n"] == 2
    rows = {p["name"]: p for p in listing.data["plugins"]}
    assert rows["greeter"]["loaded"] and not rows["broken"]["loaded"]
    assert "this plugin is broken" in rows["broken"]["error"] and "NOT LOADED" in listing.text
    assert result.success


async def test_plugin_install_asks_first_then_runs_pip_and_loads_the_plugin(
    model_server: ScriptedModelServer,
    tmp_path: Path,
    demo_wheel: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path_factory.mktemp("install_target")
    monkeypatch.setenv("PIP_TARGET", str(target))  # pip installs here, not into the test venv
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.syspath_prepend(str(target))
    asked: list[str] = []
    answers = iter([False, True])

    async def confirm(command: str, reason: str) -> bool:
        asked.append(command)
        return next(answers)

    async with agent_for(model_server, tmp_path) as agent:
        nobody = await execute_command(agent, "plugin", f"install {demo_wheel}")
        agent.ctx.confirm = confirm
        declined = await execute_command(agent, "plugin", f"install {demo_wheel}")
        assert not list(target.iterdir())
        installed = await execute_command(agent, "plugin", {"action": "install", "package": str(demo_wheel)})
        options = await execute_command(agent, "plugin", "install --index-url=http://evil.example/ x")
        assert "demo_shout" in agent.tools
    assert not nobody.ok and "nobody can confirm" in nobody.text
    assert not declined.ok and "declined" in declined.text
    assert asked[0].endswith(f"-m pip install {demo_wheel}")
    assert installed.ok, installed.text
    assert installed.data["added"] == ["demo"] and (target / "smallcode_demo_plugin.py").is_file()
    assert not options.ok and "no pip options" in options.text and len(asked) == 2
