from __future__ import annotations

from agent_core.patch import PatchSpiralTracker


def test_second_failure_on_one_file_in_a_turn_asks_for_a_rewrite() -> None:
    tracker = PatchSpiralTracker()
    tracker.new_turn()
    assert tracker.record_failure("src/app.py") is None
    assert tracker.record_failure("src/other.py") is None
    assert not tracker.should_rewrite("src/app.py")
    note = tracker.record_failure("./src/app.py")  # same file, spelled differently
    assert note is not None and "write_file" in note and "src/app.py" in note
    assert tracker.should_rewrite("src/app.py") and tracker.rewrite_allowed("src/app.py")
    assert not tracker.should_rewrite("src/other.py")


def test_counts_reset_per_turn_and_on_success_but_the_rewrite_allowance_lasts_until_written() -> None:
    tracker = PatchSpiralTracker()
    tracker.record_failure("a.py")
    tracker.new_turn()
    assert tracker.record_failure("a.py") is None  # a new turn starts over
    tracker.record_success("a.py")
    assert tracker.record_failure("a.py") is None
    assert tracker.record_failure("a.py") is not None
    tracker.new_turn()
    assert not tracker.should_rewrite("a.py") and tracker.rewrite_allowed("a.py")
    tracker.record_write("a.py")
    assert not tracker.rewrite_allowed("a.py")
