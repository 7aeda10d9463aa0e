from __future__ import annotations

from agent_core.patch import diff_stats, unified_diff


def test_unified_diff_round_trips_through_unidiff() -> None:
    old = "a\nb\nc\n"
    new = "a\nB\nc\nd"
    diff = unified_diff("pkg/x.py", old, new)
    assert diff.startswith("--- a/pkg/x.py\n+++ b/pkg/x.py\n")
    assert diff.endswith("+d\n\\ No newline at end of file\n")
    assert diff_stats(diff) == (2, 1)
    assert unified_diff("x", old, old) == "" and diff_stats("") == (0, 0)
