from __future__ import annotations

from agent_core.patch import EditBlock, apply_edit_blocks

A = "def a():\n    return 1\n"
B = "def b():\n    return 2\n\ndef c():\n    return 3\n"


def test_all_blocks_apply_in_order_with_diffs() -> None:
    blocks = [
        EditBlock("a.py", "    return 1\n", "    return 10\n"),
        EditBlock("b.py", "    return 2\n", "    return 20\n"),
        EditBlock("b.py", "    return 20\n", "    return 200\n"),  # sees the previous block's result
        EditBlock("new.py", "", "X = 1\n"),
    ]
    result = apply_edit_blocks(blocks, {"a.py": A, "b.py": B, "new.py": None})
    assert result.ok and result.applied == [0, 1, 2, 3]
    assert result.texts["b.py"] == B.replace("return 2\n", "return 200\n")
    assert result.created == ["new.py"]
    assert "+    return 200" in result.diffs["b.py"] and "--- /dev/null" in result.diffs["new.py"]


def test_one_failing_block_holds_back_its_whole_file_only() -> None:
    blocks = [
        EditBlock("a.py", "    return 1\n", "    return 10\n"),
        EditBlock("b.py", "    return 2\n", "    return 20\n"),
        EditBlock("b.py", "    return 99\n", "    return 0\n"),
    ]
    files = {"a.py": A, "b.py": B}
    result = apply_edit_blocks(blocks, files)
    assert not result.ok
    assert result.applied == [0] and result.skipped == [1] and list(result.failed) == [2]
    assert set(result.texts) == {"a.py"}  # b.py untouched: all or nothing per file
    assert files["b.py"] == B
    msg = result.message
    assert "Block 3 (b.py) failed" in msg
    assert "Block 2 (b.py) would apply but were NOT applied" in msg
    assert "Block 1 (a.py) were applied; don't re-send them." in msg


def test_missing_file_empty_search_and_no_path_are_explained() -> None:
    blocks = [
        EditBlock("gone.py", "x = 1\n", "x = 2\n"),
        EditBlock("a.py", "", "more\n"),
        EditBlock("", "x\n", "y\n"),
    ]
    result = apply_edit_blocks(blocks, {"a.py": A})
    assert not result.texts and result.applied == []
    assert "gone.py does not exist" in result.message
    assert "SEARCH part is empty but a.py already exists" in result.message
    assert "no file name" in result.message
    assert "No block was applied." in result.message
