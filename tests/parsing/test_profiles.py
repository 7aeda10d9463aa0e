"""Model profiles (shipped data, user overrides, server context) and the format instructions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_core.bench import tools_suite
from agent_core.llm.profiles import ModelProfile, format_instructions, profile_for, shipped_profiles
from agent_core.parsing import parse_reply, parse_tool_calls

TOOLS = tools_suite.load_tool_sets()["default"]


@pytest.mark.parametrize(
    ("model", "profile", "fmt"),
    [
        ("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "qwen2.5-coder", "json"),
        ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5", "hermes"),
        ("Qwen3-Coder-30B-A3B-Instruct", "qwen3-coder", "xml"),
        ("qwen3:8b", "qwen3", "hermes"),
        ("llama-3.2-3b-instruct", "llama-3.2", "python-call"),
        ("Meta-Llama-3.1-8B-Instruct", "llama-3", "json"),
        ("mistralai/Devstral-Small-2505", "devstral", "native"),
        ("mistral-nemo:12b", "mistral", "native"),
        ("gemma-3-4b-it", "gemma", "python-call"),
        ("Phi-4-mini-instruct", "phi-4-mini", "json"),
        ("DeepSeek-R1-Distill-Qwen-7B", "deepseek-r1-distill", "hermes"),
        ("granite-3.3-8b-instruct", "granite", "native"),
        ("LFM2-1.2B", "lfm", "python-call"),
        ("SmolLM2-135M-Instruct", "smollm", "text"),
    ],
)
def test_shipped_profiles_match_by_name(model: str, profile: str, fmt: str) -> None:
    found = profile_for(model)
    assert (found.name, found.tool_format, found.source) == (profile, fmt, "shipped")
    assert found.context_length >= 4096


def test_unknown_model_gets_the_generic_default() -> None:
    found = profile_for("my-own-finetune")
    assert found == ModelProfile()
    assert (found.name, found.context_length) == ("generic", 8192)


def test_server_context_wins(tmp_path: Path) -> None:
    assert profile_for("qwen2.5-coder-1.5b", server_context=4096).context_length == 4096
    assert profile_for("unknown", tmp_path, server_context=2048).context_length == 2048


def test_user_override_and_new_profile(tmp_path: Path) -> None:
    folder = tmp_path / ".smallcode" / "profiles"
    folder.mkdir(parents=True)
    (folder / "mine.json").write_text(
        json.dumps(
            [
                {"name": "qwen2.5-coder", "context_length": 4096, "tool_format": "hermes"},
                {
                    "name": "house-model",
                    "patterns": ["house-*"],
                    "tool_format": "xml",
                    "context_length": 12000,
                },
            ]
        ),
        encoding="utf-8",
    )
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    (folder / "invalid.json").write_text(
        json.dumps({"name": "x", "patterns": ["x*"], "tool_format": "smoke"})
    )
    qwen = profile_for("qwen2.5-coder-7b", tmp_path)
    assert (qwen.context_length, qwen.tool_format) == (4096, "hermes")
    assert qwen.quirks and qwen.source.endswith("mine.json")  # unchanged fields stay
    house = profile_for("house-7b", tmp_path)
    assert (house.name, house.tool_format, house.context_length) == ("house-model", "xml", 12000)
    assert profile_for("x-1", tmp_path).name == "generic"  # the invalid entry was skipped
    assert profile_for("qwen2.5-coder-7b").context_length == 32768  # other workspaces are unaffected


def test_every_shipped_profile_is_complete() -> None:
    profiles = shipped_profiles()
    assert {p.name for p in profiles} >= {"qwen2.5", "qwen3", "qwen2.5-coder", "llama-3", "mistral", "devstral",
                                          "gemma", "phi", "deepseek", "granite", "lfm", "smollm"}  # fmt: skip
    for p in profiles:
        assert p.patterns and p.quirks and p.strengths


@pytest.mark.parametrize("fmt", ["native", "hermes", "json", "xml", "python-call", "text"])
def test_format_instructions_example_is_itself_parsed(fmt: str) -> None:
    """The example the prompt shows must be something the parser reads: model and parser agree. Its
    values are "..." placeholders, so sent back verbatim it is refused with a message, never run."""
    text = format_instructions(ModelProfile(tool_format=fmt), TOOLS)  # type: ignore[arg-type]
    assert "write_file" in text and "Tools: read_file, write_file" in text
    outcome = parse_reply(text, [], TOOLS)
    assert outcome.calls == [], text
    assert [e.split(" call ")[0] for e in outcome.errors] == ["Your write_file"], outcome.errors
    filled = text.replace("...", "a.py")  # the same example with real values is a call
    calls = parse_tool_calls(filled, TOOLS)
    assert [c.name for c in calls] == ["write_file"], filled
    assert set(calls[0].arguments) == {"path", "content"}


def test_format_instructions_without_tools_is_empty() -> None:
    assert format_instructions(ModelProfile(), []) == ""
