"""Hunks a reviewer accepts or rejects one by one: split as unified diff does, applied in any subset."""

from __future__ import annotations

import difflib
import re

from hypothesis import given
from hypothesis import strategies as st

from agent_core.patch.diff import unified_diff
from agent_core.patch.hunks import apply_hunks, split_hunks

OLD = "".join(f"line {n}\n" for n in range(1, 21))
NEW = OLD.replace("line 2\n", "line two\n").replace("line 18\n", "line 18\nline 18b\n")


def test_far_apart_changes_are_separate_hunks_with_git_headers() -> None:
    hunks = split_hunks(OLD, NEW)
    assert [h.header for h in hunks] == re.findall(r"^@@ .* @@$", unified_diff("f", OLD, NEW), re.M)
    assert [h.header for h in hunks] == ["@@ -1,5 +1,5 @@", "@@ -16,5 +16,6 @@"]
    assert hunks[0].lines[:3] == [" line 1", "-line 2", "+line two"]
    assert hunks[1].as_dict()["lines"][-3:] == ["+line 18b", " line 19", " line 20"]


def test_each_subset_of_hunks_applies_alone() -> None:
    assert apply_hunks(OLD, NEW, {0, 1}) == NEW
    assert apply_hunks(OLD, NEW, set()) == OLD
    first_only = apply_hunks(OLD, NEW, {0})
    assert "line two\n" in first_only and "line 18b" not in first_only
    second_only = apply_hunks(OLD, NEW, {1})
    assert "line 2\n" in second_only and "line 18b\n" in second_only


def test_a_new_file_and_a_missing_final_newline() -> None:
    (created,) = split_hunks("", "a\nb")
    assert created.header == "@@ -0,0 +1,2 @@" and created.lines == ["+a", "+b"]
    assert apply_hunks("x\ny", "x\ny\n", {0}) == "x\ny\n"
    assert apply_hunks("x\ny", "x\ny\n", set()) == "x\ny"


lines = st.lists(st.sampled_from(["a", "b", "c", "", "def f():", "    return 1"]), max_size=30)


@given(lines, lines, st.data())
def test_any_subset_rebuilds_consistently(
    old_lines: list[str], new_lines: list[str], data: st.DataObject
) -> None:
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    hunks = split_hunks(old, new)
    ids = {h.id for h in hunks}
    assert apply_hunks(old, new, ids) == new
    assert apply_hunks(old, new, set()) == old
    subset = data.draw(st.sets(st.sampled_from(sorted(ids)))) if ids else set()
    partial = apply_hunks(old, new, subset)
    # accepting the rest of the hunks afterwards gives the whole change
    rest = {h.id for h in split_hunks(partial, new)}
    assert apply_hunks(partial, new, rest) == new
    assert len(hunks) == sum(
        1
        for line in difflib.unified_diff(old.split("\n"), new.split("\n"), lineterm="")
        if line.startswith("@@")
    )
