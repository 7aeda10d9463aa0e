"""Property tests: the parser never raises, whatever the reply, and stays fast on adversarial input."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_core.bench import tools_suite
from agent_core.llm.types import NativeToolCall
from agent_core.parsing import parse_reply, parse_tool_calls

TOOLS = tools_suite.load_tool_sets()["extended"]

# Pieces of every format, so generated replies hit the extractors' edge cases, not just plain text.
FRAGMENTS = [
    "<tool_call>", "</tool_call>", "<tool>", "</tools>", "<function=", "<function=write_file>", "</function>",
    "<parameter=path>", "</parameter>", "<parameter name=\"content\">", "<write_file>", "</write_file>",
    "<|python_tag|>", "<|eom_id|>", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "<｜tool▁call▁begin｜>",
    "<｜tool▁sep｜>", "<|tool_call_start|>", "<|tool_call_end|>", "<|tool_call|>", "functools[", "<think>",
    "</think>", "```json\n", "```tool_code\n", "```yaml\n", "```\n", "```python\n", "{", "}", "[", "]", "(",
    ")", "\"", "'", "'''", "\\", ":", ",", "\n", " ", "name", "\"name\": ", "\"arguments\": ", "read_file",
    "write_file(", "bash(command=", "path=", "tool: bash\n", "Action: bash\nAction Input: ", "I'll call ",
    " with path ", " and content ", "True", "None", "null", "{\"name\": \"bash\", \"arguments\": {\"command\": ",
    "default_api.", "print(", "\u0000", "é", "\ud7ff",
    # issue 14's dialects
    "<tool_call_start>", "<tool_call_end>", "call:", "call: ", "<start_function_call>", "<end_function_call>",
    "<escape>", "{location:", "<parameter=path=", "<parameter=command\n", "/>", "<terminal_command>",
    "</terminal_command>", "<bash>", "</bash>", "```bash\n", "```console\n$ ", "<|im_start|>", "<|im_end|>",
    "\nassistant: ", "&amp;", "&lt;", "<｜tool▁calls▁begin｜>", "function<｜tool▁sep｜>", "<｜tool\\_sep｜>",
    "brave_search.call(", "x = ", "[get_weather(", "read-file(", '"title": ', '"method": "tools/call"',
]  # fmt: skip

replies = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)), max_size=60).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies)
def test_never_raises_on_fragment_soup(reply: str) -> None:
    outcome = parse_reply(reply, [], TOOLS)
    names = {t["function"]["name"] for t in TOOLS}
    assert all(call.name in names for call in outcome.calls)
    assert all(isinstance(call.arguments, dict) for call in outcome.calls)
    assert all(isinstance(e, str) and e for e in outcome.errors)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_any_text(reply: str) -> None:
    assert isinstance(parse_tool_calls(reply, TOOLS), list)


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=30), arguments=json_values | st.text(max_size=50))
def test_native_calls_never_raise(name: str, arguments: object) -> None:
    args = arguments if isinstance(arguments, str | dict) else json.dumps(arguments)
    outcome = parse_reply("", [NativeToolCall(name=name, arguments=args)], TOOLS)
    assert len(outcome.calls) + len(outcome.errors) <= 1


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_any_json_value_in_tags_never_raises(value: object) -> None:
    parse_reply(f"<tool_call>{json.dumps(value)}</tool_call>", [], TOOLS)
    parse_reply(json.dumps(value), [], [{"junk": True}, "not a tool", {"function": {"name": 3}}])  # type: ignore[list-item]


N = 100_000
ADVERSARIAL = {
    "open_braces": "{" * N,
    "open_brackets": "[" * N,
    "nested_objects": '{"a":' * (N // 5),
    "quotes": '"' * N,
    "tool_call_tags": "<tool_call>" * (N // 11),
    "unclosed_tag_then_brace": "<tool_call>{" * (N // 12),
    "function_tags": "<function=read_file>" * (N // 20),
    "parameter_tags": "<function=bash>" + "<parameter=command>" * (N // 19),
    "mistral_tokens": "[TOOL_CALLS]" * (N // 12),
    "args_tokens": "bash[ARGS]{" * (N // 11),
    "deepseek_tokens": "<｜tool▁call▁begin｜>" * (N // 19),
    "python_calls": "write_file(" * (N // 11),
    "python_call_lines": "read_file(path='a'\n" * (N // 19),
    "think_tags": "<think>" * (N // 7),
    "fences": "```json\n{\n" * (N // 10),
    "backtick_line": "```" + "a" * N + "`",
    "spaces_in_brackets": "[" + " " * N,
    "yaml_lines": "tool: bash\n" * (N // 11),
    "react_lines": "Action: bash\nAction Input: {" * (N // 30),
    "intent_sentences": "I'll call write_file with path " * (N // 31),
    "deep_indent_yaml": "name: bash\narguments:\n" + "".join(" " * i + "k:\n" for i in range(1, 400)),
    "huge_valid_call": '<tool_call>{"name": "write_file", "arguments": {"path": "a", "content": "'
    + "x" * N
    + '"}}</tool_call>',
    "stray_quotes": '{"a": "' + '"x ' * (N // 3),
    "quotes_then_spaces": ('"' + " " * 50) * (N // 51),
    "code_after_strings": '{"a": "x".f(' * (N // 12),
    "string_concat_soup": '{"a": "x" + b ' * (N // 14),
    "envelope_heads": '```json\n{"name": "nope", "arguments": {' * (N // 40),
    "long_broken_json": '```json\n{"name": "write_file", "arguments": {"path": "a", "content": "' + "y\n" * (N // 2),
    # issue 14's dialects
    "call_list_lines": "[read_file(path='a'\n" * (N // 19),
    "trailing_call_lists": "x [read_file(path='a' " * (N // 22) + "]",
    "long_trailing_list": "Sure: " + "[read_file(path='a'), " * (N // 22) + "]",
    "argument_tags": "<terminal_command>" * (N // 18),
    "argument_tag_pairs": "<terminal_command>ls</terminal_command>\n" * (N // 40),
    "separators_alone": "function<｜tool▁sep｜>x\n" * (N // 20),
    "garbled_tokens": "<tool▁call▁tool▁call▁tool▁call▁tool▁call▁tool▁call" * (N // 50),
    "gemma_calls": "call:read_file{" * (N // 15),
    "gemma_escapes": "call:read_file{a:<escape>" * (N // 25),
    "folded_parameters": "<function=bash><parameter=path=" * (N // 30),
    "print_wrappers": "print(default_api.read_file(" * (N // 28),
    "assignments": "x = read_file(" * (N // 14),
    "shell_fences": "```bash\nls\n" * (N // 11),
    "turn_markers": "<|im_start|>" * (N // 12),
    "role_lines": "assistant:\n" * (N // 11),
    "run_on_strings": '{"path": "a "content": ' * (N // 23),
    "entities": "<function=bash><parameter=command>" + "&amp;" * (N // 5),
    "tool_elements": "<bash>" * (N // 6),
    "element_attributes": "<read_file" + ' a="x"' * (N // 6),
    "unclosed_attributes": '<read_file a="' * (N // 14),
    "spaced_parameters": "<function=bash>" + "<parameter=command " * (N // 19),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_input_is_fast(name: str) -> None:
    reply = ADVERSARIAL[name]
    started = time.perf_counter()
    outcome = parse_reply(reply, [], TOOLS)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"{name}: {elapsed:.2f}s for {len(reply)} characters"
    assert isinstance(outcome.calls, list)


def test_huge_valid_call_is_recovered_whole() -> None:
    calls = parse_tool_calls(ADVERSARIAL["huge_valid_call"], TOOLS)
    assert [c.name for c in calls] == ["write_file"]
    assert calls[0].arguments["content"] == "x" * N


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies)
def test_format_readers_themselves_never_raise(reply: str) -> None:
    """parse_reply has a safety net; this checks no format reader or normalizer actually needs it."""
    from agent_core.parsing.context import Ctx
    from agent_core.parsing.formats import extractors
    from agent_core.parsing.normalize import _resolve
    from agent_core.parsing.think import split_thinking
    from agent_core.parsing.toolset import ToolSet

    toolset = ToolSet(TOOLS)
    for segment in split_thinking(reply):
        ctx = Ctx(segment, toolset)
        for _, extract in extractors():
            for candidate in extract(ctx):
                assert 0 <= candidate.start <= candidate.end <= len(segment)
                _resolve(candidate, toolset)
