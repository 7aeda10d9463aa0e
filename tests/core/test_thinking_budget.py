"""Reasoning models through the loop: the thinking budget cuts a reply and re-asks for the answer, thinking
can be turned off in the request, and reasoning never reaches the next request's history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_core import SmallCode
from agent_core.context.tokens import TokenCounter
from agent_core.llm.client import ChatClient
from agent_core.llm.thinking import ThinkingBudgetSpent, ThinkingMeter, separate
from agent_core.llm.types import ChatResponse
from tests.support.scripted_server import ScriptedModelServer
from tests.support.traces import trace_entries

LONG = "Let me weigh every option once more before I answer. " * 80  # ≈ 1,100 tokens of thinking


def last_user(request: dict[str, Any]) -> str:
    return next(m["content"] for m in reversed(request["messages"]) if m["role"] == "user")


async def test_reasoning_content_past_the_budget_is_cut_and_the_answer_asked_for(tmp_path: Path) -> None:
    with ScriptedModelServer(models=["qwen3-8b"]) as server:
        server.extend([{"reasoning": LONG, "content": "an answer after all that"}, {"content": "It is 4."}])
        statuses: list[str] = []
        async with SmallCode(
            model="qwen3-8b", base_url=server.base_url, cwd=tmp_path, thinking_budget=100, test_disable=True
        ) as agent:
            agent.on("status", lambda p: statuses.append(p["text"]))
            result = await agent.run("what is 2 + 2?")
    assert result.success and result.response == "It is 4."
    first, again = server.requests
    assert "chat_template_kwargs" not in first  # thinking is on, within its budget
    # the re-ask: thinking off the way Qwen3's profile says, and told to answer now with where it had got to
    assert again["chat_template_kwargs"] == {"enable_thinking": False}
    asked = last_user(again)
    assert "thinking budget (100 tokens) is spent" in asked and asked.endswith("/no_think")
    assert "Where your thinking had got to" in asked and "weigh every option" in asked
    assert again["messages"][:-1] == first["messages"]  # the history itself is unchanged
    assert any("passed its budget of 100 tokens" in s for s in statuses)
    cut = [e for e in trace_entries(tmp_path) if e["type"] == "thinking_cut"]
    assert len(cut) == 1 and 100 < cut[0]["tokens"] < 400  # ended soon after the budget, not at the end
    assert result.usage.completion_tokens >= cut[0]["tokens"]  # the cut request's tokens are counted


async def test_think_text_past_the_budget_is_cut_and_thinking_stays_out_of_the_history(
    tmp_path: Path,
) -> None:
    (tmp_path / "notes.txt").write_text("two plus two\n")
    with ScriptedModelServer(models=["deepseek-r1-distill-qwen-7b"]) as server:
        server.extend(
            [
                {"content": f"<think>{LONG}</think>I will read it."},
                {
                    "content": "<think>The file is notes.txt; reading it first.</think>",
                    "reasoning": "PRIVATE-REASONING read the notes",
                    "tool_calls": [{"name": "read_file", "arguments": {"path": "notes.txt"}}],
                },
                {"content": "<think>short</think>It says two plus two."},
            ]
        )
        async with SmallCode(
            model="deepseek-r1-distill-qwen-7b",
            base_url=server.base_url,
            cwd=tmp_path,
            thinking_budget=100,
            test_disable=True,
        ) as agent:
            result = await agent.run("what does notes.txt say?")
    assert result.success and result.response == "It says two plus two."
    cut, reask, after = server.requests
    assert "thinking budget (100 tokens) is spent" in last_user(reask)
    # this model's template has no switch: the re-ask asks in words only
    assert "chat_template_kwargs" not in reask and not last_user(reask).endswith("/no_think")
    history = json.dumps(after["messages"])
    assert (
        "reading it first" not in history and "PRIVATE-REASONING" not in history and "<think>" not in history
    )
    assistant = [m for m in after["messages"] if m["role"] == "assistant"]
    assert (
        assistant[-1]["content"] == "" and assistant[-1]["tool_calls"][0]["function"]["name"] == "read_file"
    )


async def test_thinking_off_in_the_request_body_as_the_profile_allows(tmp_path: Path) -> None:
    cases = {
        "qwen3-8b": ({"enable_thinking": False}, True),
        "scripted-model": ({"enable_thinking": False}, False),  # unknown family: the template switch only
        "deepseek-r1-distill-qwen-7b": (None, False),  # no switch at all
    }
    for model, (kwargs, no_think) in cases.items():
        with ScriptedModelServer(models=[model]) as server:
            server.extend([{"content": "Hello."}])
            async with SmallCode(
                model=model, base_url=server.base_url, cwd=tmp_path, thinking_disable=True, test_disable=True
            ) as agent:
                await agent.run("say hello")
        request = server.requests[0]
        assert request.get("chat_template_kwargs") == kwargs, model
        assert last_user(request).endswith("/no_think") == no_think, model


async def test_a_server_that_refuses_chat_template_kwargs_is_asked_again_without() -> None:
    refusal = json.dumps(
        {"error": {"message": "Unrecognized request argument supplied: chat_template_kwargs"}}
    )
    with ScriptedModelServer(
        [{"status": 400, "body": refusal}, {"content": "ok"}, {"content": "ok"}]
    ) as server:
        async with ChatClient(server.base_url, "scripted-model", retries=0) as client:
            extra = {"chat_template_kwargs": {"enable_thinking": False}}
            assert (await client.chat([{"role": "user", "content": "hi"}], extra=extra)).content == "ok"
            await client.chat([{"role": "user", "content": "hi"}], extra=extra)  # remembered: not sent again
    assert ["chat_template_kwargs" in r for r in server.requests] == [True, False, False]


async def test_the_meter_finds_think_tags_split_across_pieces() -> None:
    shown: list[str] = []
    meter = ThinkingMeter(10, TokenCounter(), shown.append, None)
    for piece in ["Sure. <thi", "nk>", "abcd" * 5, "</th", "ink>", "answer " * 50]:
        await meter.on_token(piece)
    assert meter.thought == ["abcd" * 5] and not meter.inside and "".join(shown).endswith("answer ")
    meter = ThinkingMeter(10, TokenCounter(), None, None)
    try:
        for piece in ["<think>", *["word " * 3] * 10]:
            await meter.on_token(piece)
    except ThinkingBudgetSpent as spent:
        assert 10 < spent.tokens <= 15 and spent.thought.startswith("word word")
    else:
        raise AssertionError("the budget was not enforced")


def test_only_leading_thinking_leaves_the_answer() -> None:
    def cut(content: str) -> tuple[str, str]:
        reply = separate(ChatResponse(content=content, reasoning="served"))
        return reply.content, reply.reasoning

    assert cut("<think>plan</think>\n\nanswer") == ("answer", "served\n\nplan")
    assert cut("opened by the template</think>answer") == ("answer", "served\n\nopened by the template")
    assert cut("<think>cut off by max_tokens") == ("", "served\n\ncut off by max_tokens")
    # a tag further on, or after a code fence, is part of what the model writes
    for kept in ("Here: <think>x</think> ok", 'x\n```py\nEND = "</think>"\n```'):
        assert cut(kept) == (kept, "served")
