"""The plan model: Markdown round trip, user edits, rendering, decomposition, and the needs_plan heuristic."""

from __future__ import annotations

import pytest

from agent_core.config import Settings
from agent_core.planning.markdown import plan_from_markdown, plan_to_markdown
from agent_core.planning.plan import Plan, PlanStep, decomposition_prompt, needs_plan


def sample() -> Plan:
    return Plan(
        task="Create calc.py with add(),\nthen tests, then make them pass",
        steps=[
            PlanStep(id="1", title="Create calc.py with add()", file="calc.py", line=3, status="done"),
            PlanStep(
                id="2",
                title="Write tests/test_calc.py",
                file="tests/test_calc.py",
                check="python -m pytest -q",
                status="running",
                attempts=2,
                note="test_add failed: expected 3, got 4",
            ),
            PlanStep(id="2.1", title="Fix the sign in add()", status="failed"),
            PlanStep(id="3", title="Make the tests pass", status="pending"),
            PlanStep(id="4", title="Update the README", status="skipped"),
        ],
    )


def test_markdown_round_trip_keeps_everything() -> None:
    plan = sample()
    text = plan_to_markdown(plan)
    assert "- [x] 1. Create calc.py with add()" in text
    assert "  - file: calc.py:3" in text
    assert "- [~] 2. Write tests/test_calc.py" in text
    assert "- [!] 2.1. Fix the sign in add()" in text
    assert "- [-] 4. Update the README" in text
    assert plan_from_markdown(text) == plan
    assert plan_from_markdown(plan_to_markdown(plan_from_markdown(text))) == plan


def test_a_users_edit_is_read_back() -> None:
    text = plan_to_markdown(sample())
    edited = (
        text.replace("- [ ] 3. Make the tests pass", "- [x] 3. Make all the tests pass").replace(
            "- [~] 2.", "* [X] 2."
        )
        + "- [ ] Add a docstring to add()\n"
        + "1. Publish the package\n"
        + "  just a remark the user added\n"
    )
    plan = plan_from_markdown(edited)
    by_id = {s.id: s for s in plan.steps}
    assert by_id["3"].title == "Make all the tests pass" and by_id["3"].status == "done"
    assert by_id["2"].status == "done"
    assert by_id["2"].note == "test_add failed: expected 3, got 4"
    assert by_id["5"].title == "Add a docstring to add()" and by_id["5"].status == "pending"
    assert by_id["6"].title == "Publish the package"
    assert by_id["6"].note == "just a remark the user added"
    assert [s.id for s in plan.steps] == ["1", "2", "2.1", "3", "4", "5", "6"]


def test_duplicate_and_missing_ids_get_fresh_numbers() -> None:
    plan = plan_from_markdown("# Plan\n- [ ] 1. a\n- [ ] 1. b\n- [ ] c\n")
    assert [(s.id, s.title) for s in plan.steps] == [("1", "a"), ("2", "b"), ("3", "c")]


def test_garbage_parses_to_an_empty_plan() -> None:
    plan = plan_from_markdown("hello\n\n```\ncode\n```\n")
    assert plan.steps == [] and plan.task == ""


def test_from_specs_accepts_strings_dicts_and_a_numbered_block() -> None:
    plan = Plan.from_specs(
        [
            "1. Create src/calc.py",
            {"step": "Write tests", "path": "tests/test_calc.py", "verify": "pytest"},
            "  ",
            "- [ ] Run the whole suite",
        ]
    )
    assert [(s.id, s.title, s.file, s.check) for s in plan.steps] == [
        ("1", "Create src/calc.py", "src/calc.py", None),
        ("2", "Write tests", "tests/test_calc.py", "pytest"),
        ("3", "Run the whole suite", None, None),
    ]
    block = Plan.from_specs("1. Create a.py\n2. Edit b.py and c.py\n\n3) Step 3: run tests\n")
    assert [(s.title, s.file) for s in block.steps] == [
        ("Create a.py", "a.py"),
        ("Edit b.py and c.py", None),  # two files named: no guess
        ("run tests", None),
    ]


def test_find_by_id_number_or_title() -> None:
    plan = sample()
    assert plan.find(2).id == "2"  # type: ignore[union-attr]
    assert plan.find("step 3").id == "3"  # type: ignore[union-attr]
    assert plan.find("#2.1").id == "2.1"  # type: ignore[union-attr]
    assert plan.find("readme").id == "4"  # type: ignore[union-attr]
    assert plan.find("calc") is None  # ambiguous
    assert plan.find(9) is None


def test_current_step_and_rendering() -> None:
    plan = sample()
    assert plan.current().id == "2"  # type: ignore[union-attr]
    text = plan.render_for_prompt()
    lines = text.splitlines()
    assert lines[0].startswith("PLAN (2/5 done).")
    assert "[~] 2. Write tests/test_calc.py" in lines
    assert (
        "CURRENT STEP 2. Write tests/test_calc.py (file tests/test_calc.py; check: python -m pytest -q)"
        in lines
    )
    assert "It failed 2 time(s) so far: test_add failed: expected 3, got 4." in lines
    assert len(lines) <= 10


def test_long_plans_fold_finished_steps_but_show_the_current_one() -> None:
    steps = [
        PlanStep(id=str(n), title=f"step {n}", status="done" if n < 20 else "pending") for n in range(1, 31)
    ]
    text = Plan(steps=steps).render_for_prompt(max_lines=10)
    assert "[x] 19 earlier steps finished" in text
    assert "[ ] 20. step 20" in text
    assert "CURRENT STEP 20. step 20" in text
    assert len(text.splitlines()) <= 13


def test_finished_plans_say_what_to_do_next() -> None:
    done = Plan(steps=[PlanStep(id="1", title="a", status="done")])
    assert done.succeeded() and "give your final answer" in done.render_for_prompt()
    failed = Plan(
        steps=[PlanStep(id="1", title="a", status="failed"), PlanStep(id="2", title="b", status="done")]
    )
    assert failed.is_finished() and not failed.succeeded()
    assert "step(s) 1 failed" in failed.render_for_prompt()


def test_decompose_marks_failed_and_inserts_substeps_after_it() -> None:
    plan = Plan.from_specs(
        ["Create calc.py", {"title": "Write tests", "file": "tests/t.py", "check": "pytest"}, "Docs"]
    )
    subs = plan.decompose("2", ["Test add()", {"title": "Test sub()", "file": "tests/t2.py"}])
    assert [(s.id, s.status) for s in plan.steps] == [
        ("1", "pending"),
        ("2", "failed"),
        ("2.1", "pending"),
        ("2.2", "pending"),
        ("3", "pending"),
    ]
    assert [(s.file, s.check) for s in subs] == [("tests/t.py", "pytest"), ("tests/t2.py", "pytest")]
    assert plan.find("2").note == "split into 2.1–2.2"  # type: ignore[union-attr]
    # Splitting again appends after the earlier sub-steps, with fresh ids.
    more = plan.decompose("2", ["Test mul()"])
    assert more[0].id == "2.3" and [s.id for s in plan.steps][4] == "2.3"
    for s in plan.steps:
        if s.id != "2":
            s.status = "done"
    assert plan.succeeded()
    with pytest.raises(KeyError):
        plan.decompose("9", ["x"])
    with pytest.raises(ValueError):
        plan.decompose("1", [])


def test_revise_keeps_progress_of_repeated_steps() -> None:
    plan = Plan.from_specs(["Create calc.py", "Write tests"], task="t")
    plan.steps[0].status = "done"
    revised = plan.revise(["Create calc.py", "Write tests for add", "Run tests"])
    assert [(s.id, s.title, s.status) for s in revised.steps] == [
        ("1", "Create calc.py", "done"),
        ("2", "Write tests for add", "pending"),
        ("3", "Run tests", "pending"),
    ]
    assert revised.task == "t" and revised.steps[0].file == "calc.py"


def test_plan_is_json_able() -> None:
    plan = sample()
    assert Plan.model_validate_json(plan.model_dump_json()) == plan


def test_decomposition_prompt_names_the_step_and_the_tool() -> None:
    step = PlanStep(id="3", title="Write tests", attempts=3, note="tests check failed")
    text = decomposition_prompt(step)
    assert "Step 3 (Write tests) has failed 3 times" in text and "split='3'" in text


@pytest.mark.parametrize(
    "task",
    [
        "Create calc.py with add() and sub(), then write tests in test_calc.py and make them pass",
        "1. add a --verbose flag\n2. document it in README.md\n3. add a test",
        "- rename Foo to Bar\n- update the imports",
        "Add type hints to utils.py and helpers.py",
        "Refactor the parser, add error handling and update the docs",
        "First fix the failing test, and then add a changelog entry",
    ],
)
def test_needs_plan_for_multi_step_tasks(task: str) -> None:
    assert needs_plan(task)


@pytest.mark.parametrize(
    "task",
    [
        "Fix the off-by-one error in utils.py",
        "Rename foo to bar",
        "What does parse_config do?",
        "Explain how the cache in cache.py and store.py works",
        "",
        "Add a docstring to main()",
    ],
)
def test_no_plan_for_single_steps_and_questions(task: str) -> None:
    assert not needs_plan(task)


def test_settings_plan_forces_planning() -> None:
    assert needs_plan("Rename foo to bar", Settings(plan=True))
    assert not needs_plan("Rename foo to bar", Settings(plan=False))


def test_find_accepts_the_shown_id_followed_by_the_title() -> None:
    """The 1.5B model sent todo(step="1. Fix mean() in stats.py")."""
    plan = Plan(steps=[PlanStep(id="1", title="Fix mean in stats"), PlanStep(id="2", title="Add median")])
    step = plan.find("1. Fix mean() in stats.py")
    assert step is not None and step.id == "1"
    assert plan.find("2) add the median function") is not None
    assert plan.find("7. nothing") is None
