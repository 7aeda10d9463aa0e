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


def test_a_new_file_is_told_from_an_empty_one() -> None:
    created = unified_diff("n.py", None, "x = 1\n")
    assert created.startswith("--- /dev/null\n+++ b/n.py\n@@ -0,0 +1 @@\n+x = 1\n")
    filled = unified_diff("e.py", "", "x = 1\n")
    assert filled.startswith("--- a/e.py\n+++ b/e.py\n@@ -0,0 +1 @@\n")
    assert unified_diff("n.py", None, "") == "--- /dev/null\n+++ b/n.py\n"
    assert unified_diff("e.py", "", "") == ""
