"""Early-stop detectors: repeated calls, repeated answers, greeting regression."""

from __future__ import annotations

from agent_core.planning.early_stop import EarlyStop, StopReason
from agent_core.planning.plan import Plan


def test_same_call_three_times_warns_then_stops() -> None:
    early = EarlyStop(task="fix it")
    args = {"pattern": "TODO"}
    assert early.observe_call("search", args) is None
    assert early.observe_call("search", {"pattern": "TODO"}) is None
    third = early.observe_call("search", dict(args))
    assert third is not None and not isinstance(third, StopReason)
    assert "same call 3 times" in third and "search" in third
    assert not isinstance(early.observe_call("search", args), StopReason)
    stop = early.observe_call("search", args)
    assert isinstance(stop, StopReason) and "repeated the same tool call (search)" in stop


def test_a_repeated_read_points_at_the_file_instead_of_stopping() -> None:
    early = EarlyStop(task="fix it")
    assert early.observe_call("read_file", {"path": "a.py"}) is None
    for _ in range(3):  # re-reads get "you have it above; now change it", not a stop
        advice = early.observe_call("read_file", {"path": "a.py"})
        assert advice is not None and not isinstance(advice, StopReason)
        assert "already have a.py above" in advice and "change it" in advice
    # A model that keeps at it is still stopped in the end.
    outcomes = [early.observe_call("read_file", {"path": "a.py"}) for _ in range(4)]
    assert any(isinstance(o, StopReason) for o in outcomes)


def test_argument_order_does_not_hide_a_loop() -> None:
    early = EarlyStop()
    early.observe_call("search", {"pattern": "x", "path": "src"})
    early.observe_call("search", {"path": "src", "pattern": "x"})
    assert early.observe_call("search", {"pattern": "x", "path": "src"}) is not None


def test_an_edit_in_between_makes_repeats_legitimate() -> None:
    early = EarlyStop()
    for n in range(4):
        assert early.observe_call("read_file", {"path": "a.py"}) is None
        assert early.observe_call("bash", {"command": "pytest"}) is None
        assert (
            early.observe_call("patch", {"path": "a.py", "search": f"v{n}", "replace": f"v{n + 1}"}) is None
        )


def test_the_same_edit_repeated_is_a_loop() -> None:
    early = EarlyStop()
    edit = {"path": "a.py", "content": "x = 1\n"}
    assert early.observe_call("write_file", edit) is None
    assert early.observe_call("write_file", edit) is None
    assert early.observe_call("write_file", edit) is not None


def test_different_calls_never_warn() -> None:
    early = EarlyStop()
    assert all(early.observe_call("read_file", {"path": f"f{n}.py"}) is None for n in range(20))


def test_same_answer_twice_in_a_row() -> None:
    early = EarlyStop(task="add a test")
    assert early.observe_answer("I added the test.") is None
    again = early.observe_answer("I added  the test.\n")
    assert again is not None and "same answer" in again and not isinstance(again, StopReason)
    assert early.observe_answer("Something else.") is None
    early.observe_answer("x")
    early.observe_answer("x")
    assert isinstance(early.observe_answer("x"), StopReason)


def test_greeting_regression_reinjects_task_and_plan() -> None:
    plan = Plan.from_specs(["Create calc.py", "Write tests"], task="calc")
    early = EarlyStop(task="Create calc.py with add(), then tests", plan_text=plan.render_for_prompt)
    early.observe_call("read_file", {"path": "calc.py"})
    message = early.observe_answer("Hello! How can I help you today?")
    assert message is not None and not isinstance(message, StopReason)
    assert "The task is:\nCreate calc.py with add(), then tests" in message
    assert "CURRENT STEP 1. Create calc.py" in message
    for text in ("Hi there! What can I help you with?", "How can I assist you today?"):
        assert early.observe_answer(text) is not None
    assert isinstance(early.observe_answer("Hello! How may I help?"), StopReason)


def test_greetings_are_fine_for_small_talk_and_real_answers_are_not_greetings() -> None:
    assert EarlyStop(task="hi").observe_answer("Hello! How can I help you today?") is None
    early = EarlyStop(task="fix the bug")
    assert (
        early.observe_answer("Hello is printed twice because the loop runs once too often; I fixed it.")
        is None
    )
    assert early.observe_answer("Done: the bug in parse() is fixed.") is None
    assert early.observe_answer("Hi, I've fixed the bug. Let me know if you need more help.") is None
    assert early.observe_answer("Hello! I'm your coding assistant. What can I do for you?") is not None
