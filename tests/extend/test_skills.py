"""Skills through the agent loop: /skill list and use, the user's and the project's skills, and the automatic
choice by a task's words (never for small models unless asked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_core import SmallCode
from agent_core.commands import execute_command
from agent_core.extend.skills import load_skills, parse_skill
from agent_core.safety import trust
from tests.support.scripted_server import ScriptedModelServer

BUILT_IN = {"brainstorming", "debugging", "tdd", "refactoring", "code review", "writing tests"}
DEBUG_LINE = "Reproduce it: run the failing test or command"


def agent_for(server: ScriptedModelServer, root: Path, model: str = "scripted-model", **kw: Any) -> SmallCode:
    return SmallCode(model=model, base_url=server.base_url, cwd=root, test_disable=True, **kw)


def system(request: dict[str, Any]) -> str:
    return str(request["messages"][0]["content"])


def first_user(request: dict[str, Any]) -> str:
    return next(str(m["content"]) for m in request["messages"] if m["role"] == "user")


def test_six_built_in_skills_with_front_matter(tmp_path: Path) -> None:
    skills = load_skills(tmp_path)
    assert {s.name for s in skills.values()} == BUILT_IN
    assert all(s.description and s.when and s.body for s in skills.values())


def test_front_matter_is_optional() -> None:
    skill = parse_skill("Just do it well.", "x.md", "plain")
    assert (skill.name, skill.description, skill.when, skill.body) == ("plain", "", (), "Just do it well.")


async def test_skill_use_puts_it_in_the_system_prompt_for_the_session(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": "ok"}, {"content": "ok again"}])
    async with agent_for(model_server, tmp_path) as agent:
        listing = await execute_command(agent, "skill", "list")
        assert {r["name"] for r in listing.data["skills"]} == BUILT_IN
        used = await execute_command(agent, "skill", "use tdd")
        assert used.ok and used.data["active"] == ["tdd"]
        await agent.run("add a function")
        dropped = await execute_command(agent, "skill", {"action": "drop", "name": "tdd"})
        assert dropped.ok
        await agent.run("add another function")
        unknown = await execute_command(agent, "skill", "use nothing-like-it")
        assert not unknown.ok and "no skill 'nothing-like-it'" in unknown.text
    assert "Red: write one small test" in system(model_server.requests[0])
    assert "Red: write one small test" not in system(model_server.requests[1])


async def test_a_skill_over_the_budget_is_refused(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    folder = tmp_path / ".smallcode" / "skills"
    folder.mkdir(parents=True)
    (folder / "huge.md").write_text("---\nname: huge\ndescription: too long\n---\n" + "word " * 790)
    async with agent_for(model_server, tmp_path, context=2048) as agent:
        refused = await execute_command(agent, "skill", "use huge")
    assert not refused.ok and "does not fit" in refused.text and agent.active_skills == []


async def test_user_and_project_skills_are_found_and_used(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    user = trust.user_config_file().parent / "skills" / "house-style"
    user.mkdir(parents=True)
    (user / "SKILL.md").write_text(
        "---\nname: house style\ndescription: our conventions\nwhen: house style\n---\nUse tabs. Name things well."
    )
    project = tmp_path / ".smallcode" / "skills"
    project.mkdir(parents=True)
    (project / "debugging.md").write_text("---\nname: debugging\ndescription: ours\n---\nPrint everything.")
    model_server.extend([{"content": "ok"}])
    async with agent_for(model_server, tmp_path) as agent:
        assert agent.skills["debugging"].body == "Print everything."  # the project's replaces the built-in
        await agent.run("apply the house style to util.py")
    assert "Use tabs. Name things well." in first_user(model_server.requests[0])


async def test_a_task_that_names_a_skill_gets_it_with_its_first_message(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": "ok"}, {"content": "ok"}])
    async with agent_for(model_server, tmp_path) as agent:
        await agent.run("debug this traceback from parse.py")
        assert agent.auto_skill == "debugging"
        await agent.run("add a greeting to hello.py")
        assert agent.auto_skill is None
    assert DEBUG_LINE in first_user(model_server.requests[0])
    assert DEBUG_LINE not in system(model_server.requests[0])  # the system prompt stays the same
    assert DEBUG_LINE not in str(model_server.requests[1]["messages"][-1]["content"])


async def test_small_models_get_skills_only_when_asked(tmp_path: Path) -> None:
    small = "qwen2.5-coder-1.5b"
    with ScriptedModelServer([{"content": "ok"}, {"content": "ok"}], models=[small]) as server:
        async with agent_for(server, tmp_path, model=small) as agent:
            await agent.run("debug this traceback from parse.py")
            assert agent.auto_skill is None
            assert (await execute_command(agent, "skill", "use debugging")).ok
            await agent.run("debug this traceback from parse.py")
    assert DEBUG_LINE not in str(server.requests[0]["messages"])
    assert DEBUG_LINE in system(server.requests[1])


async def test_skill_auto_can_be_turned_off(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend([{"content": "ok"}])
    async with agent_for(model_server, tmp_path, skill_auto=False) as agent:
        await agent.run("debug this traceback from parse.py")
    assert DEBUG_LINE not in str(model_server.requests[0]["messages"])
