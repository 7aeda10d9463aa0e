"""/mcp, /skill and /plugin: each handler takes the agent, the command's words and an editor's object, and
answers (ok, data, text) for agent_core/commands.py to wrap."""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import TYPE_CHECKING, Any

from agent_core.extend import skills as skill_book
from agent_core.extend.plugins import PluginHost

if TYPE_CHECKING:
    from agent_core.agent import SmallCode

Answer = tuple[bool, dict[str, Any], str]
INSTALL_TIMEOUT = 600.0


def _target(words: list[str], obj: dict[str, Any], *keys: str) -> str:
    if len(words) > 1:
        return " ".join(words[1:])
    return next((str(obj[k]) for k in keys if obj.get(k)), "")


# /mcp ----------------------------------------------------------------------------------------------------
def _mcp_listing(agent: SmallCode) -> Answer:
    config = agent.mcp.load()
    servers = [s.status() for s in agent.mcp.servers.values()]
    lines = []
    for s in servers:
        line = (
            f"{s['name']}  {s['transport']}  {s['state']}{'  trusted' if s['trust'] else ''}  {s['target']}"
        )
        if s["tools"]:
            line += "\n    tools: " + ", ".join(s["tools"])
        if s["error"]:
            line += f"\n    error: {s['error']}"
        lines.append(line)
    if not servers:
        lines.append("no MCP servers configured (.smallcode/mcp.json or ~/.config/smallcode/mcp.json)")
    elif any(s["state"] == "not started" for s in servers):
        lines.append("(servers start with the first task, or /mcp start [NAME])")
    lines += [f"problem: {p}" for p in config.problems]
    return True, {"servers": servers, "problems": config.problems}, "\n".join(lines)


async def mcp(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> Answer:
    action = (words[0] if words else str(obj.get("action", "") or "list")).lower()
    name = _target(words, obj, "name", "server")
    if action in ("list", "status", ""):
        return _mcp_listing(agent)
    if action == "reload":
        await agent.mcp.reload()
        agent.sync_mcp_tools()
        return _mcp_listing(agent)
    agent.mcp.load()
    if name and name not in agent.mcp.servers:
        known = ", ".join(agent.mcp.servers) or "none"
        return False, {"servers": list(agent.mcp.servers)}, f"no MCP server {name!r} (configured: {known})"
    names = [name] if name else None
    if action in ("start", "restart"):
        if action == "restart":
            for server in agent.mcp.servers.values():
                if names is None or server.name in names:
                    await server.stop()
        await agent.start_mcp(names or list(agent.mcp.servers), retry_failed=True)
        ok, data, text = _mcp_listing(agent)
        failed = [
            s for s in data["servers"] if (names is None or s["name"] in names) and s["state"] != "running"
        ]
        return not failed, data, text
    if action == "stop":
        for server in agent.mcp.servers.values():
            if names is None or server.name in names:
                await server.stop()
        agent.sync_mcp_tools()
        return _mcp_listing(agent)
    return (
        False,
        {},
        f"unknown /mcp action {action!r}: use list, start [NAME], stop [NAME], restart [NAME], reload",
    )


# /skill --------------------------------------------------------------------------------------------------
async def skill(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> Answer:
    action = (words[0] if words else str(obj.get("action", "") or "list")).lower()
    name = _target(words, obj, "name", "skill")
    if action in ("list", ""):
        rows = [
            {
                "name": s.name,
                "description": s.description,
                "when": list(s.when),
                "source": s.source,
                "active": skill_book.key(s.name) in agent.active_skills,
            }
            for s in agent.skills.values()
        ]
        lines = [f"{'*' if r['active'] else ' '} {r['name']:<16} {r['description']}" for r in rows]
        if agent.auto_skill:
            lines.append(f"(the last task used {agent.auto_skill}, chosen by its words)")
        lines.append("/skill use NAME adds one to this session's system prompt (* in use)")
        return (
            True,
            {"skills": rows, "active": agent.active_skills, "auto": agent.auto_skill},
            "\n".join(lines),
        )
    if not name:
        return False, {}, f"usage: /skill {action} NAME (/skill list shows them)"
    if action == "use":
        try:
            chosen = agent.use_skill(name)
        except KeyError:
            return False, {"skills": sorted(agent.skills)}, f"no skill {name!r}; /skill list shows them"
        except ValueError as exc:
            return False, {"active": agent.active_skills}, str(exc)
        return (
            True,
            {"active": agent.active_skills},
            f"skill {chosen.name} is in the system prompt for this session",
        )
    if action in ("drop", "remove", "stop"):
        if not agent.drop_skill(name):
            return False, {"active": agent.active_skills}, f"skill {name!r} is not in use"
        return True, {"active": agent.active_skills}, f"skill {name} dropped"
    if action == "show":
        found = agent.skills.get(skill_book.key(name))
        if found is None:
            return False, {}, f"no skill {name!r}; /skill list shows them"
        return True, {"name": found.name, "body": found.body, "source": found.source}, found.prompt()
    return False, {}, f"unknown /skill action {action!r}: use list, use NAME, drop NAME, show NAME"


# /plugin -------------------------------------------------------------------------------------------------
async def plugin(agent: SmallCode, words: list[str], obj: dict[str, Any]) -> Answer:
    action = (words[0] if words else str(obj.get("action", "") or "list")).lower()
    if action in ("list", ""):
        rows = agent.plugins.status()
        lines = []
        for r in rows:
            bits = [f"{k}: {', '.join(r[k])}" for k in ("tools", "commands", "hooks") if r[k]]
            state = "" if r["loaded"] else f"  NOT LOADED: {r['error']}"
            lines.append(f"{r['name']}  ({r['source']}){state}  " + "; ".join(bits))
        if not rows:
            lines.append(
                "no plugins (entry point group smallcode.plugins, or ~/.config/smallcode/plugins/*.py); "
                "/plugin install PATH|PACKAGE"
            )
        return True, {"plugins": rows}, "\n".join(lines)
    if action == "install":
        return await _install(agent, _target(words, obj, "package", "path"))
    return False, {}, f"unknown /plugin action {action!r}: use list or install PATH|PACKAGE"


async def _install(agent: SmallCode, spec: str) -> Answer:
    spec = spec.strip()
    if not spec or len(spec.split()) != 1 or spec.startswith("-"):
        return False, {}, "usage: /plugin install PATH|PACKAGE (one package name or path, no pip options)"
    command = [sys.executable, "-m", "pip", "install", spec]
    shown = f"{sys.executable} -m pip install {spec}"
    reason = "installs a Python package (and runs its build) into SmallCode's own environment"
    confirm = agent.ctx.confirm
    if confirm is None:
        return False, {"command": shown}, f"not installed: nobody can confirm here; run it yourself: {shown}"
    if not await confirm(shown, reason):
        return False, {"command": shown}, "not installed: declined"
    try:
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=agent.root,  # a relative PATH is the workspace's
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), INSTALL_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False, {"command": shown}, f"pip did not finish within {INSTALL_TIMEOUT:.0f} s"
    except OSError as exc:
        return False, {"command": shown}, f"cannot run pip: {exc}"
    tail = out.decode("utf-8", "replace").strip().splitlines()[-5:]
    if proc.returncode != 0:
        return (
            False,
            {"command": shown, "output": tail},
            f"pip failed ({proc.returncode}): " + " | ".join(tail),
        )
    added = _load_new_plugins(agent)
    note = (
        f"; new plugins: {', '.join(added)}" if added else "; no new plugin found (restart after an upgrade)"
    )
    return True, {"command": shown, "output": tail, "added": added}, f"installed {spec}{note}"


def _load_new_plugins(agent: SmallCode) -> list[str]:
    """Plugins that appeared with an install, added to the running agent (their tools too)."""
    importlib.invalidate_caches()
    known = {(p.name, p.source) for p in agent.plugins.plugins}
    fresh = [p for p in PluginHost.load().plugins if (p.name, p.source) not in known]
    agent.plugins.plugins.extend(fresh)
    agent.tools.add(t for p in fresh for t in p.tools)
    return [p.name for p in fresh]
