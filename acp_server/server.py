"""The ACP agent: initialize, session/new, session/load, session/list, session/prompt, session/cancel.

A translator, like the language server: every behaviour is the agent core's (agent_core.SmallCode); this
module turns ACP requests into those calls and the answers back. Sessions are the agent core's saved
sessions (.smallcode/sessions/ in the session's directory), so a conversation started here can be loaded
again by any client, and one from the terminal (`/sessions`) can be loaded here.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acp import (
    PROTOCOL_VERSION,
    InitializeResponse,
    LoadSessionResponse,
    NewSessionResponse,
    PromptResponse,
)
from acp.schema import (
    AgentCapabilities,
    ClientCapabilities,
    Implementation,
    ListSessionsResponse,
    McpCapabilities,
    PromptCapabilities,
    SessionCapabilities,
    SessionInfo,
    SessionListCapabilities,
)

from acp_server.errors import RESOURCE_NOT_FOUND, user_error
from acp_server.prompt import prompt_text
from acp_server.session import AcpSession
from agent_core.memory.sessions import list_sessions, load_session, new_session_id

log = logging.getLogger(__name__)

__version__ = "0.1.0"


class SmallCodeAcpAgent:
    """The ACP `Agent` (acp.interfaces.Agent): one AcpSession per session id. Methods it does not define
    (modes, config options, fork, resume, close) answer "method not found", as the SDK routes them."""

    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        """Settings from the command line (--model, --base-url) over the environment and .env."""
        self.conn: Any = None
        self.client_capabilities: ClientCapabilities | None = None
        self.sessions: dict[str, AcpSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **kwargs: Any,
    ) -> InitializeResponse:
        self.client_capabilities = client_capabilities
        name = client_info.name if client_info is not None else "an unnamed client"
        log.info("ACP client %s, protocol %s", name, protocol_version)
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                # text, and files the user attaches (links or embedded text); no images or audio
                prompt_capabilities=PromptCapabilities(image=False, audio=False, embedded_context=True),
                # the editor's MCP servers over stdio and streamable HTTP (acp_server/mcp.py); not SSE
                mcp_capabilities=McpCapabilities(http=True, sse=False),
                session_capabilities=SessionCapabilities(list=SessionListCapabilities()),
            ),
            agent_info=Implementation(name="smallcode", title="SmallCode", version=__version__),
            auth_methods=[],
        )

    async def authenticate(self, method_id: str, **kwargs: Any) -> None:
        return None  # nothing to log in to: the model is local or configured in the environment

    async def new_session(
        self, cwd: str, mcp_servers: list[Any] | None = None, **kwargs: Any
    ) -> NewSessionResponse:
        session = self._open(new_session_id(), cwd, mcp_servers)
        self._later(session.announce_commands())
        return NewSessionResponse(session_id=session.session_id)

    async def load_session(
        self, cwd: str, session_id: str, mcp_servers: list[Any] | None = None, **kwargs: Any
    ) -> LoadSessionResponse:
        root = _root(cwd)
        try:
            messages = await asyncio.to_thread(load_session, root, session_id)
        except (KeyError, OSError, ValueError) as exc:
            raise user_error(f"session {session_id}: {_message(exc)}", RESOURCE_NOT_FOUND) from None
        old = self.sessions.pop(session_id, None)
        if old is not None:
            old.cancel()
            await old.agent.aclose()
        session = self._open(session_id, cwd, mcp_servers)
        session.agent.resume(messages)
        await session.replay()  # the conversation is shown before the response, as the protocol asks
        self._later(session.announce_commands())
        return LoadSessionResponse()

    async def list_sessions(
        self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any
    ) -> ListSessionsResponse:
        root = _root(cwd) if cwd else Path.cwd().resolve()
        saved = await asyncio.to_thread(list_sessions, root)
        return ListSessionsResponse(
            sessions=[
                SessionInfo(
                    session_id=str(s["id"]),
                    cwd=str(root),
                    title=(s.get("task") or "").splitlines()[0][:80] if s.get("task") else None,
                    updated_at=_iso(s.get("saved_at")),
                )
                for s in saved[:200]
            ]
        )

    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        session = self._session(session_id)
        text = prompt_text(prompt, session.root)
        if not text.strip():
            raise user_error("the prompt is empty")
        return PromptResponse(stop_reason=await session.prompt(text))

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self.sessions.get(session_id)
        if session is not None:
            session.cancel()

    async def aclose(self) -> None:
        """Stop every run and close the agents (the embedded model server with them)."""
        for session in list(self.sessions.values()):
            session.cancel()
        for session in list(self.sessions.values()):
            try:
                await session.agent.aclose()
            except Exception as exc:
                log.warning("while closing session %s: %s", session.session_id, exc)
        self.sessions.clear()

    # internals --------------------------------------------------------------------------------------
    def _open(self, session_id: str, cwd: str, mcp_servers: list[Any] | None) -> AcpSession:
        session = AcpSession(
            self.conn,
            session_id,
            _root(cwd),
            self.client_capabilities,
            self.overrides,
            mcp_servers=mcp_servers,
        )
        self.sessions[session_id] = session
        return session

    def _session(self, session_id: str) -> AcpSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise user_error(
                f"no session {session_id} (session/new or session/load first)", RESOURCE_NOT_FOUND
            )
        return session

    def _later(self, coro: Any) -> None:
        """Send after the response that is being returned (a client knows the session id by then)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _root(cwd: str) -> Path:
    path = Path(cwd).expanduser()
    if not path.is_absolute():
        raise user_error(f"cwd must be an absolute path, not {cwd!r}")
    if not path.is_dir():
        raise user_error(f"{cwd} is not a directory")
    return path.resolve()


def _iso(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int | float):
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
