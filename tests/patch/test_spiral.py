from __future__ import annotations

from agent_core.patch import PatchSpiralTracker


def test_second_failure_on_one_file_asks_for_a_rewrite() -> None:
    tracker = PatchSpiralTracker()
    assert tracker.record_failure("src/app.py") is None
    assert tracker.record_failure("src/other.py") is None
    note = tracker.record_failure("./src/app.py")  # same file, spelled differently
    assert note is not None and "write_file" in note and "src/app.py" in note
    assert tracker.failures("src/app.py") == 2 and tracker.failures("src/other.py") == 1


def test_a_patch_that_applies_or_a_whole_write_starts_the_count_over() -> None:
    tracker = PatchSpiralTracker()
    tracker.record_failure("a.py")
    tracker.record_success("a.py")
    assert tracker.record_failure("a.py") is None
    assert tracker.record_failure("a.py") is not None
    tracker.record_write("a.py")
    assert tracker.failures("a.py") == 0 and tracker.record_failure("a.py") is None
