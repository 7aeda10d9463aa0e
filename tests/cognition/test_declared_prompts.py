"""Declared prompts against the scripted OpenAI-compatible server: validation, repair, retries, the cache, the
budgets, constrained decoding and its fallback, timeouts, traces, and clear errors for bad specs and inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_core import cognition
from agent_core.cognition import BudgetExceeded, Cognition, CognitionError, PromptFailed, SpecError
from agent_core.config import Settings
from agent_core.llm.types import ModelError
from agent_core.observe.trace import read_trace, traces_dir
from tests.support.scripted_server import ScriptedModelServer

SPEC = """
name = "classify"
description = "Is an issue a bug or a feature request?"
retries = {retries}
timeout = {timeout}
max_tokens = 100

[inputs]
text = "str"
[output]
label = {{ type = "str", choices = ["bug", "feature"] }}
confidence = {{ type = "float", min = 0, max = 1 }}
[prompt]
system = "You sort issues."
user = "Issue: $text"
[cache]
ttl = {ttl}
[budget]
call = {budget}
"""

GOOD = {"content": '{"label": "bug", "confidence": 0.9}'}


def write_spec(
    tmp_path: Path, retries: int = 2, timeout: float = 30, ttl: int = 3600, budget: int = 5000
) -> Path:
    path = tmp_path / "classify.toml"
    path.write_text(SPEC.format(retries=retries, timeout=timeout, ttl=ttl, budget=budget))
    return path


def runtime(server: ScriptedModelServer, root: Path, **settings: Any) -> Cognition:
    return Cognition(root, Settings(base_url=server.base_url, model="scripted-model", **settings))


async def call(
    server: ScriptedModelServer, root: Path, spec: Path, text: str = "it crashes", **settings: Any
) -> Any:
    rt = runtime(server, root, **settings)
    try:
        return await cognition.load(spec, runtime=rt).acall(text=text)
    finally:
        await rt.aclose()


async def test_valid_answer_is_typed_and_the_request_carries_the_schema(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([GOOD])
    out = await call(model_server, tmp_path, write_spec(tmp_path))
    assert (out.label, out.confidence) == ("bug", 0.9)
    request = model_server.requests[0]
    assert request["stream"] is False and request["max_tokens"] <= 100
    schema = request["response_format"]["json_schema"]["schema"]
    assert request["response_format"]["type"] == "json_schema"
    assert schema["properties"]["label"]["enum"] == ["bug", "feature"]
    system = request["messages"][0]["content"]
    assert "You sort issues." in system and "- label (str) one of 'bug', 'feature'" in system
    assert request["messages"][1]["content"] == "Issue: it crashes"


async def test_broken_json_is_repaired_without_another_request(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": "Here it is:\n```json\n{'label': 'feature', confidence: 0.5,}\n```"}])
    rt = runtime(model_server, tmp_path)
    out = await cognition.load(write_spec(tmp_path), runtime=rt).acall(text="add dark mode")
    assert (out.label, out.confidence) == ("feature", 0.5)
    assert len(model_server.requests) == 1
    assert rt.store.summary()["classify"]["repaired"] == 1


async def test_an_invalid_answer_is_retried_with_what_was_wrong(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": '{"label": "question", "confidence": 2}'}, GOOD])
    out = await call(model_server, tmp_path, write_spec(tmp_path))
    assert out.label == "bug"
    assert len(model_server.requests) == 2
    retry = model_server.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"label": "question", "confidence": 2}'}
    assert "not valid" in retry[-1]["content"]
    assert "label" in retry[-1]["content"] and "confidence" in retry[-1]["content"]


async def test_retries_are_counted_then_it_fails_in_one_line(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": "I think it is a bug."}, {"content": '{"label": "bug"}'}, GOOD])
    rt = runtime(model_server, tmp_path)
    with pytest.raises(PromptFailed) as failed:
        await cognition.load(write_spec(tmp_path, retries=1), runtime=rt).acall(text="x")
    assert len(model_server.requests) == 2 and model_server.remaining == 1
    message = str(failed.value)
    assert "\n" not in message
    assert "no valid answer in 2 attempt(s)" in message and "confidence" in message
    summary = rt.store.summary()["classify"]
    assert (summary["calls"], summary["failures"], summary["ok"]) == (1, 1, 0)
    assert rt.stats["classify"].failures == 1


async def test_a_cached_result_makes_no_request(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    model_server.extend([GOOD, {"content": '{"label": "feature", "confidence": 0.2}'}])
    first = await call(model_server, tmp_path, spec)
    again = await call(model_server, tmp_path, spec)  # a new session: the cache is on disk
    assert again.model_dump() == first.model_dump() and len(model_server.requests) == 1
    other = await call(model_server, tmp_path, spec, text="add dark mode")
    assert other.label == "feature" and len(model_server.requests) == 2
    summary = Cognition(tmp_path, Settings()).store.summary()["classify"]
    assert (summary["calls"], summary["hits"], summary["cached"]) == (3, 1, 2)


async def test_no_cache_without_a_ttl(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, ttl=0)
    model_server.extend([GOOD, GOOD])
    await call(model_server, tmp_path, spec)
    await call(model_server, tmp_path, spec)
    assert len(model_server.requests) == 2


async def test_over_the_call_budget_is_a_clear_error(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend(
        [{"content": '{"label": "nope"}', "usage": {"prompt_tokens": 400, "completion_tokens": 150}}, GOOD]
    )
    rt = runtime(model_server, tmp_path)
    with pytest.raises(BudgetExceeded) as over:
        await cognition.load(write_spec(tmp_path, budget=600), runtime=rt).acall(text="x")
    message = str(over.value)
    assert "over its budget of 600 tokens per call" in message and "550 tokens spent" in message
    assert "raise [budget] call in classify.toml" in message and "\n" not in message
    assert len(model_server.requests) == 1  # the retry was not sent
    assert rt.store.summary()["classify"]["budget_stops"] == 1


async def test_the_budget_caps_the_reply(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend([GOOD])
    await call(model_server, tmp_path, write_spec(tmp_path, budget=150))
    assert model_server.requests[0]["max_tokens"] < 100  # what is left of 150 after the prompt


async def test_over_the_session_budget(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    path = write_spec(tmp_path, ttl=0)
    path.write_text(path.read_text() + "session = 620\n")
    reply = {**GOOD, "usage": {"prompt_tokens": 300, "completion_tokens": 300}}
    model_server.extend([reply, reply])
    rt = runtime(model_server, tmp_path)
    prompt = cognition.load(path, runtime=rt)
    await prompt.acall(text="one")
    with pytest.raises(BudgetExceeded, match="620 tokens per session"):
        await prompt.acall(text="two")
    assert len(model_server.requests) == 1


async def test_llama_cpp_servers_get_the_schema_as_json_object(tmp_path: Path) -> None:
    with ScriptedModelServer([GOOD], tokenize=True) as server:
        await call(server, tmp_path, write_spec(tmp_path))
        fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_object"
    assert fmt["schema"]["required"] == ["label", "confidence"]


async def test_a_server_refusing_response_format_is_asked_plainly(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    refusal = {"status": 400, "body": json.dumps({"error": {"message": "response_format is not supported"}})}
    model_server.extend([refusal, GOOD, GOOD])
    rt = runtime(model_server, tmp_path)
    prompt = cognition.load(write_spec(tmp_path), runtime=rt)
    assert (await prompt.acall(text="one")).label == "bug"
    assert (await prompt.acall(text="two")).label == "bug"
    assert ["response_format" in r for r in model_server.requests] == [True, False, False]
    assert rt.store.summary()["classify"]["ok"] == 2


async def test_constraining_can_be_turned_off(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend([GOOD])
    await call(model_server, tmp_path, write_spec(tmp_path), cognition_constrain="off")
    assert "response_format" not in model_server.requests[0]


async def test_a_timeout_costs_an_attempt(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    model_server.extend([{**GOOD, "delay": 20}, GOOD])
    out = await call(model_server, tmp_path, write_spec(tmp_path, timeout=2))
    assert out.label == "bug" and len(model_server.requests) == 2


async def test_every_call_is_traced(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    model_server.extend([GOOD])
    await call(model_server, tmp_path, spec)
    await call(model_server, tmp_path, spec)
    entries = [
        e for p in traces_dir(tmp_path).glob("*.jsonl") for e in read_trace(p) if e["type"] == "cognition"
    ]
    assert sorted(e["outcome"] for e in entries) == ["hit", "ok"]
    ok = next(e for e in entries if e["outcome"] == "ok")
    assert ok["prompt"] == "classify" and ok["attempts"] == 1 and ok["usage"]["total_tokens"] > 0
    assert ok["inputs"] == {"text": "it crashes"} and ok["output"] == {"label": "bug", "confidence": 0.9}


def test_the_blocking_call_uses_the_workspace_settings(
    model_server: ScriptedModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLCODE_BASE_URL", model_server.base_url)
    model_server.extend([GOOD])
    prompt = cognition.load(write_spec(tmp_path), cwd=tmp_path)
    out = prompt({"text": "it crashes"})
    assert isinstance(out, prompt.Output) and out.label == "bug"
    assert model_server.requests[0]["model"] == "scripted-model"  # adopted from the server's list


async def test_the_blocking_call_inside_an_event_loop_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CognitionError, match="await prompt.acall"):
        cognition.load(write_spec(tmp_path))(text="x")


async def test_bad_inputs_are_one_line(model_server: ScriptedModelServer, tmp_path: Path) -> None:
    rt = runtime(model_server, tmp_path)
    with pytest.raises(CognitionError, match=r"declared prompt 'classify': bad inputs: text: Field required"):
        await cognition.load(write_spec(tmp_path), runtime=rt).acall()
    assert model_server.requests == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('label = { type = "str"', 'label = { type = "string"'),
            "classify.toml: Output.label: unknown type 'string'",
        ),
        (
            ("max_tokens = 100", "max_tokens = 100\nretrys = 3"),
            "classify.toml: retrys: Extra inputs are not permitted",
        ),
        (
            ('user = "Issue: $text"', 'user = "Issue: $body"'),
            "prompt.user uses $body, which is not among [inputs]",
        ),
        (("ttl = 3600", 'ttl = 3600\nkey = ["body"]'), "cache.key names 'body'"),
    ],
)
def test_bad_specs_are_one_line(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    path = write_spec(tmp_path)
    path.write_text(path.read_text().replace(*change))
    with pytest.raises(SpecError) as bad:
        cognition.load(path)
    assert expected in str(bad.value) and "\n" not in str(bad.value)


async def test_a_server_that_is_down_is_one_line(tmp_path: Path) -> None:
    rt = Cognition(tmp_path, Settings(base_url="http://127.0.0.1:9/v1", model="m", retries=0))
    with pytest.raises(CognitionError) as down:
        await cognition.load(write_spec(tmp_path), runtime=rt).acall(text="x")
    assert "cannot reach the model server" in str(down.value) and "\n" not in str(down.value)


async def test_the_agents_connection_failing_is_one_line(tmp_path: Path) -> None:
    async def connect() -> Any:
        raise ModelError("cannot reach the model server at http://x/v1: connection refused")

    rt = Cognition(tmp_path, Settings(), connect=connect)
    with pytest.raises(PromptFailed, match=r"^declared prompt 'classify': cannot reach the model server"):
        await cognition.load(write_spec(tmp_path), runtime=rt).acall(text="x")
    assert rt.store.summary()["classify"]["failures"] == 1
