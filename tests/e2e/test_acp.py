"""`smallcode acp` as a real subprocess, driven by a client written against the ACP Python SDK, against the
scripted model server (real HTTP): updates stream, edits go to the editor (fs/write_text_file), ask-list shell
commands ask (session/request_permission), cancel stops a run, saved sessions load, slash commands answer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from acp import PROTOCOL_VERSION, RequestError, spawn_agent_process, text_block
from acp.schema import (
    AgentMessageChunk,
    AgentPlanUpdate,
    AllowedOutcome,
    AvailableCommandsUpdate,
    ClientCapabilities,
    DeniedOutcome,
    FileEditToolCallContent,
    FileSystemCapabilities,
    Implementation,
    McpServerStdio,
    ReadTextFileResponse,
    RequestPermissionResponse,
    SseMcpServer,
    TextContentBlock,
    ToolCallProgress,
    ToolCallStart,
    UserMessageChunk,
    WriteTextFileResponse,
)

from agent_core.memory.sessions import save_session
from tests.support.scripted_server import ScriptedModelServer

APP = "def greet(name):\n    return 'hello ' + name\n"
BUFFER = "# unsaved line\n" + APP
"""What the editor has for app.py: one line the disk does not have yet."""
TIMEOUT = 120
ECHO = Path(__file__).parents[1] / "extend" / "mcp_echo_server.py"
"""A small MCP server written with the official SDK (stdio)."""


class Editor:
    """An ACP client like an editor's agent panel: files come from its buffers (else the disk), writes go into
    its buffers only, permission requests get `answer`, every update is recorded."""

    def __init__(self, answer: str = "reject") -> None:
        self.answer = answer
        self.buffers: dict[str, str] = {}
        self.reads: list[str] = []
        self.writes: list[tuple[str, str]] = []
        self.permissions: list[Any] = []
        self.updates: list[Any] = []
        self.changed = asyncio.Event()

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)
        self.changed.set()

    async def read_text_file(self, session_id: str, path: str, **kwargs: Any) -> ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        if not Path(path).is_file():
            raise RequestError.resource_not_found(path)
        return ReadTextFileResponse(content=Path(path).read_text())

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse:
        self.writes.append((path, content))
        self.buffers[path] = content
        return WriteTextFileResponse()

    async def request_permission(
        self, session_id: str, tool_call: Any, options: list[Any], **kwargs: Any
    ) -> RequestPermissionResponse:
        self.permissions.append(tool_call)
        chosen = next((o for o in options if o.kind.startswith(self.answer)), None)
        if chosen is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=chosen.option_id)
        )

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async def loop() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), TIMEOUT)

    def of(self, kind: type) -> list[Any]:
        return [u for u in self.updates if isinstance(u, kind)]

    def text(self) -> str:
        return "".join(
            u.content.text for u in self.of(AgentMessageChunk) if isinstance(u.content, TextContentBlock)
        )


@contextlib.asynccontextmanager
async def smallcode_acp(
    editor: Editor, cwd: Path, server: ScriptedModelServer | None, fs: bool = True
) -> AsyncIterator[Any]:
    """`smallcode acp` started as an editor starts it, initialized; yields the SDK's client connection."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMALLCODE_")}
    if server is not None:
        env.update(SMALLCODE_BASE_URL=server.base_url, SMALLCODE_MODEL="scripted-model")
    env["SMALLCODE_EMBEDDED"] = "never"
    log_path = cwd.parent / f"{cwd.name}-acp-stderr.log"  # not a pipe: nobody would read it
    log = log_path.open("wb")
    async with spawn_agent_process(
        editor,
        sys.executable,
        "-m",
        "agent_core.cli.main",
        "acp",
        env=env,
        cwd=cwd,
        transport_kwargs={"stderr": log},
    ) as (conn, process):
        capabilities = ClientCapabilities(
            fs=FileSystemCapabilities(read_text_file=fs, write_text_file=fs), terminal=False
        )
        conn.init = await asyncio.wait_for(
            conn.initialize(
                protocol_version=PROTOCOL_VERSION,
                client_capabilities=capabilities,
                client_info=Implementation(name="pytest", title="pytest editor", version="1"),
            ),
            TIMEOUT,
        )
        yield conn
        process.stdin.close()  # the editor closes the pipe: the agent ends by itself
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), 90)  # closing the agents takes a while on a loaded machine
        log.close()
        assert process.returncode == 0, log_path.read_text()


def patch_call(path: str, search: str, replace: str) -> dict[str, Any]:
    return {
        "tool_calls": [{"name": "patch", "arguments": {"path": path, "search": search, "replace": replace}}]
    }


async def test_edit_goes_to_the_editor_and_updates_stream(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    editor = Editor()
    editor.buffers[str(app)] = BUFFER
    model_server.extend(
        [
            patch_call("app.py", "'hello ' + name", "f'Hello, {name}!'"),
            {"content": "Done: greet now says Hello, NAME!"},
        ]
    )
    async with smallcode_acp(editor, tmp_path, model_server) as conn:
        init = conn.init
        assert init.protocol_version == 1
        assert init.agent_info.name == "smallcode"
        caps = init.agent_capabilities
        assert caps.load_session is True
        assert caps.prompt_capabilities.image is False and caps.prompt_capabilities.embedded_context is True

        session = await conn.new_session(cwd=str(tmp_path), mcp_servers=[])
        await editor.wait_for(lambda: bool(editor.of(AvailableCommandsUpdate)))
        names = {c.name for c in editor.of(AvailableCommandsUpdate)[-1].available_commands}
        assert {"budget", "plan", "trace", "undo"} <= names and "quit" not in names

        response = await asyncio.wait_for(
            conn.prompt(
                session_id=session.session_id, prompt=[text_block("In app.py make greet say Hello, NAME!")]
            ),
            TIMEOUT,
        )
        assert response.stop_reason == "end_turn"

    # the edit went to the editor, made on its buffer (the unsaved line kept), and not to the disk behind it
    assert editor.writes == [(str(app), "# unsaved line\ndef greet(name):\n    return f'Hello, {name}!'\n")]
    assert app.read_text() == APP
    assert str(app) in editor.reads
    # the tool call, with its kind, location, diff and end
    start = next(u for u in editor.of(ToolCallStart) if u.title.startswith("patch"))
    assert start.kind == "edit" and start.status == "in_progress"
    assert [loc.path for loc in start.locations] == [str(app)]
    progress = [u for u in editor.of(ToolCallProgress) if u.tool_call_id == start.tool_call_id]
    diffs = [c for u in progress for c in (u.content or []) if isinstance(c, FileEditToolCallContent)]
    assert diffs and diffs[-1].path == str(app) and diffs[-1].old_text == BUFFER
    assert "Hello, {name}!" in diffs[-1].new_text
    assert progress[-1].status == "completed"
    # the answer streamed as message chunks, after the tool call
    assert "Done: greet now says Hello, NAME!" in editor.text()
    assert editor.updates.index(progress[-1]) < editor.updates.index(editor.of(AgentMessageChunk)[-1])
    # the model saw the editor's text, not the disk's
    assert "# unsaved line" in str(model_server.requests[0]["messages"])


async def test_the_editors_mcp_server_is_connected_and_its_calls_ask(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    editor = Editor(answer="allow")
    model_server.extend(
        [
            {"tool_calls": [{"name": "mcp__echo_server__echo", "arguments": {"text": "from the editor"}}]},
            {"content": "The echo server answered."},
        ]
    )
    echo = McpServerStdio(name="echo server", command=sys.executable, args=[str(ECHO)], env=[])
    sse = SseMcpServer(type="sse", name="old", url="http://127.0.0.1:9/sse", headers=[])
    async with smallcode_acp(editor, tmp_path, model_server) as conn:
        assert conn.init.agent_capabilities.mcp_capabilities.http is True
        session = await conn.new_session(cwd=str(tmp_path), mcp_servers=[echo, sse])
        response = await asyncio.wait_for(
            conn.prompt(session_id=session.session_id, prompt=[text_block("ask the echo server")]), TIMEOUT
        )
    assert response.stop_reason == "end_turn"
    # the model was offered the server's tool; its call asked first and ran when allowed
    offered = str(model_server.requests[0].get("tools", "")) + str(model_server.requests[0]["messages"])
    assert "mcp__echo_server__echo" in offered
    [asked] = editor.permissions
    assert asked.title.startswith("mcp__echo_server__echo") and asked.kind == "other"
    assert "echo says: from the editor" in str(model_server.requests[-1]["messages"])
    # an SSE server cannot be used, and the panel says so
    assert "server 'old' uses sse, which is not supported" in editor.text()


async def test_ask_list_command_asks_and_is_refused_when_denied(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    editor = Editor(answer="reject")
    model_server.extend(
        [
            {"tool_calls": [{"name": "bash", "arguments": {"command": "git push origin main"}}]},
            {"content": "The push was declined; run it yourself."},
        ]
    )
    async with smallcode_acp(editor, tmp_path, model_server) as conn:
        session = await conn.new_session(cwd=str(tmp_path), mcp_servers=[])
        response = await asyncio.wait_for(
            conn.prompt(session_id=session.session_id, prompt=[text_block("push my work")]), TIMEOUT
        )
    assert response.stop_reason == "end_turn"
    [asked] = editor.permissions
    assert asked.kind == "execute" and "git push origin main" in asked.title
    start = next(u for u in editor.of(ToolCallStart) if u.title.startswith("bash"))
    assert start.kind == "execute" and start.tool_call_id == asked.tool_call_id
    end = [u for u in editor.of(ToolCallProgress) if u.tool_call_id == start.tool_call_id][-1]
    assert end.status == "failed"
    # the model was told the user declined
    assert "the user declined this command" in str(model_server.requests[-1]["messages"])


async def test_cancel_stops_a_run_and_the_session_goes_on(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    editor = Editor()
    model_server.extend(
        [
            {"hang": True},
            {"tool_calls": [{"name": "write_file", "arguments": {"path": "new.py", "content": "x = 1\n"}}]},
            {"content": "Wrote new.py."},
        ]
    )
    async with smallcode_acp(editor, tmp_path, model_server, fs=False) as conn:
        session = await conn.new_session(cwd=str(tmp_path), mcp_servers=[])
        running = asyncio.ensure_future(
            conn.prompt(session_id=session.session_id, prompt=[text_block("write new.py with x = 1")])
        )
        while not model_server.requests:  # the run is waiting for the model
            await asyncio.wait({running}, timeout=0.05)
            assert not running.done(), running.result()
        await conn.cancel(session_id=session.session_id)
        assert (await asyncio.wait_for(running, TIMEOUT)).stop_reason == "cancelled"

        # the session is still usable; a client without fs capabilities gets the file written on disk
        again = await asyncio.wait_for(
            conn.prompt(session_id=session.session_id, prompt=[text_block("write new.py with x = 1")]),
            TIMEOUT,
        )
        assert again.stop_reason == "end_turn"
    assert (tmp_path / "new.py").read_text() == "x = 1\n"
    assert editor.writes == [] and editor.reads == []
    assert "Wrote new.py." in editor.text()


async def test_saved_session_loads_and_slash_commands_answer(tmp_path: Path) -> None:
    save_session(
        tmp_path,
        "20260101-120000-abcdef",
        [
            {"role": "system", "content": "system prompt"},
            {"role": "user", "content": "add a README"},
            {"role": "assistant", "content": "I added README.md."},
        ],
        {"model": "m", "cwd": str(tmp_path)},
    )
    (tmp_path / "smallcode.toml").write_text('shell_sandbox = "off"\n')  # the project's, never allowed
    editor = Editor()
    async with smallcode_acp(editor, tmp_path, None) as conn:
        listed = await conn.list_sessions(cwd=str(tmp_path))
        assert [s.session_id for s in listed.sessions] == ["20260101-120000-abcdef"]
        await conn.load_session(cwd=str(tmp_path), session_id="20260101-120000-abcdef", mcp_servers=[])
        replayed = [
            (type(u), u.content.text)
            for u in editor.updates
            if isinstance(u, UserMessageChunk | AgentMessageChunk)
        ]
        assert replayed == [(UserMessageChunk, "add a README"), (AgentMessageChunk, "I added README.md.")]

        editor.updates.clear()
        answer = await conn.prompt(session_id="20260101-120000-abcdef", prompt=[text_block("/budget")])
        assert answer.stop_reason == "end_turn"
        assert "free" in editor.text().lower()  # the context split, answered without a model
        # the panel, not only the editor's log, says which of the project's settings were ignored
        assert editor.text().startswith(
            "_smallcode: ignoring settings that weaken safety: smallcode.toml in this"
        )

        with pytest.raises(RequestError) as missing:
            await conn.load_session(cwd=str(tmp_path), session_id="nope", mcp_servers=[])
        assert str(missing.value).startswith("smallcode: session nope: no session 'nope'")
        with pytest.raises(RequestError) as relative:
            await conn.new_session(cwd="project", mcp_servers=[])
        assert str(relative.value) == "smallcode: cwd must be an absolute path, not 'project'"
    assert not editor.of(AgentPlanUpdate)


async def test_plan_arrives_as_plan_entries(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    editor = Editor()
    model_server.extend(
        [
            {"tool_calls": [{"name": "plan", "arguments": {"steps": ["create a.py", "create b.py"]}}]},
            {"tool_calls": [{"name": "todo", "arguments": {"step": 1, "status": "done"}}]},
            {"content": "Planned."},
        ]
    )
    async with smallcode_acp(editor, tmp_path, model_server) as conn:
        session = await conn.new_session(cwd=str(tmp_path), mcp_servers=[])
        task = "1. create a.py with x = 1\n2. create b.py with y = 2"
        response = await asyncio.wait_for(
            conn.prompt(session_id=session.session_id, prompt=[text_block(task)]), TIMEOUT
        )
    assert response.stop_reason == "end_turn"
    plans = [[(e.content, e.status) for e in u.entries] for u in editor.of(AgentPlanUpdate)]
    assert plans[0] == [("create a.py", "pending"), ("create b.py", "pending")]
    assert ("create a.py", "completed") in plans[-1]
    start = next(u for u in editor.of(ToolCallStart) if u.title.startswith("plan"))
    assert start.kind == "think"


def test_bad_input_gets_one_line_and_sigterm_ends_cleanly(tmp_path: Path) -> None:
    """A client that sends garbage is told so in one line on stderr, and the agent keeps answering; SIGTERM
    (an editor closing) ends it with its agents closed, exit 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMALLCODE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent_core.cli.main", "acp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**env, "SMALLCODE_EMBEDDED": "never"},
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(b"this is not json\n")
    proc.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1}}\n')
    proc.stdin.flush()
    answer = json.loads(proc.stdout.readline())
    assert answer["id"] == 1 and answer["result"]["agentInfo"]["name"] == "smallcode"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    assert proc.stdout.read() == b""  # nothing but the protocol on stdout
    stderr = proc.stderr.read().decode()
    assert "Error parsing JSON-RPC message: JSONDecodeError" in stderr and "Traceback" not in stderr
