"""What the model is told when a call it attempted cannot be used, and how native calls are handled."""

from __future__ import annotations

from agent_core.bench import tools_suite
from agent_core.llm.types import NativeToolCall
from agent_core.parsing import parse_reply
from agent_core.parsing.messages import SHAPE_LEAD

TOOLS = tools_suite.load_tool_sets()["default"]


def test_no_name_message_lists_tools_and_exact_shape() -> None:
    outcome = parse_reply('<tool_call>{"arguments": {"path": "a.py"}}</tool_call>', [], TOOLS)
    assert outcome.calls == []
    (message,) = outcome.errors
    assert "no tool name" in message
    assert "read_file, write_file, patch, bash, search, find_files" in message
    assert (
        f'{SHAPE_LEAD} <tool_call>{{"name": "read_file", "arguments": {{"path": "..."}}}}</tool_call>'
        in message
    )


def test_unreadable_arguments_message_uses_the_tool_and_its_family() -> None:
    outcome = parse_reply(
        '<tool_call>{"name": "write_file", "arguments": "make hello.py"}</tool_call>', [], TOOLS
    )
    assert outcome.calls == []
    (message,) = outcome.errors
    assert "arguments of your write_file call: the arguments are a plain string" in message
    assert '{"name": "write_file", "arguments": {"path": "...", "content": "..."}}' in message
    xml = parse_reply("<function=nosuchtool><parameter=x>1</parameter></function>", [], TOOLS)
    (message,) = xml.errors
    assert "no tool named 'nosuchtool'" in message
    assert "<function=read_file><parameter=path>...</parameter></function>" in message


def test_bad_native_arguments_are_reported_with_the_shape() -> None:
    native = [NativeToolCall(id="c1", name="write_file", arguments='"just a string"')]
    outcome = parse_reply("", native, TOOLS)
    assert outcome.calls == []
    (message,) = outcome.errors
    assert message.startswith("Could not read the arguments of your write_file call")
    assert '"arguments": {"path": "...", "content": "..."}' in message


def test_native_call_keeps_its_id_and_text_is_ignored() -> None:
    native = [NativeToolCall(id="call_7", name="bash", arguments='{"cmd": "ls"}')]
    outcome = parse_reply(
        '<tool_call>{"name": "read_file", "arguments": {"path": "x"}}</tool_call>', native, TOOLS
    )
    assert [(c.name, c.arguments, c.id) for c in outcome.calls] == [("bash", {"command": "ls"}, "call_7")]


def test_garbage_tools_list_does_not_break_parsing() -> None:
    tools = [*TOOLS, "junk", {"function": {"name": None}}, {"no": "name"}]
    outcome = parse_reply('{"name": "bash", "arguments": {"command": "ls"}}', [], tools)  # type: ignore[list-item]
    assert [c.name for c in outcome.calls] == ["bash"]


EDITING = tools_suite.load_tool_sets()["editing"]


def test_cut_off_call_says_how_to_go_on() -> None:
    """A reply ending inside a write_file call runs nothing; the model is told to send the file in parts."""
    reply = '<tool_call>{"name": "write_file", "arguments": {"path": "big.py", "content": "def main():\n    '
    outcome = parse_reply(reply, [], EDITING)
    assert outcome.calls == []
    (message,) = outcome.errors
    assert message.startswith("Your reply was cut off before your write_file call was finished")
    assert '"append": true' in message
    assert f'{SHAPE_LEAD} <tool_call>{{"name": "write_file"' in message


def test_token_limit_runs_nothing_even_in_prose_or_native_calls() -> None:
    cut = parse_reply("Here is the plan: first I will read the", [], EDITING, finish_reason="length")
    assert cut.calls == [] and len(cut.errors) == 1
    assert "cut off" in cut.errors[0] and "token limit" in cut.errors[0]
    native = [NativeToolCall(id="c1", name="bash", arguments='{"command": "ls"}')]
    cut = parse_reply("", native, EDITING, finish_reason="length")
    assert cut.calls == [] and "your bash call" in cut.errors[0]
    assert parse_reply("", native, EDITING, finish_reason="stop").calls[0].name == "bash"


def test_earlier_calls_do_not_run_when_the_reply_stops_mid_call() -> None:
    reply = (
        '<tool_call>{"name": "bash", "arguments": {"command": "rm -rf build"}}</tool_call>\n'
        '<tool_call>{"name": "bash", "arguments": {"command": "make && make inst'
    )
    outcome = parse_reply(reply, [], EDITING)
    assert outcome.calls == [] and outcome.errors[0].startswith("Your reply was cut off")


def test_an_unclear_argument_name_is_asked_about() -> None:
    outcome = parse_reply('{"name": "edit_file", "arguments": {"path": "a.py", "text": "x"}}', [], EDITING)
    assert outcome.calls == []
    (message,) = outcome.errors
    assert "argument 'text' that could be old_text or new_text" in message
    assert SHAPE_LEAD in message
