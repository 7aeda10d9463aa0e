from __future__ import annotations

import pytest

from agent_core.patch import EditBlock, PatchError, parse_edit_blocks


def test_aider_style_blocks_with_file_names_in_several_places() -> None:
    reply = """Here you go.

src/app.py
```python
<<<<<<< SEARCH
def f():
    return 1
=======
def f():
    return 2
>>>>>>> REPLACE
```

**tests/test_app.py**
<<<<<<< SEARCH
=======
def test_f():
    assert f() == 2
>>>>>>> REPLACE

```
lib/util.py
<<<<<<< SEARCH
a = 1
=======
>>>>>>> REPLACE
<<<<<<< SEARCH
b = 1
=======
b = 2
>>>>>>> REPLACE
```
"""
    assert parse_edit_blocks(reply) == [
        EditBlock("src/app.py", "def f():\n    return 1\n", "def f():\n    return 2\n"),
        EditBlock("tests/test_app.py", "", "def test_f():\n    assert f() == 2\n"),
        EditBlock("lib/util.py", "a = 1\n", ""),
        EditBlock("lib/util.py", "b = 1\n", "b = 2\n"),  # same file as the block before it
    ]


def test_path_in_fence_info_and_crlf_reply() -> None:
    reply = (
        "```python:pkg/mod.py\r\n<<<<<<< SEARCH\r\nx = 1\r\n=======\r\nx = 2\r\n>>>>>>> REPLACE\r\n```\r\n"
    )
    assert parse_edit_blocks(reply) == [EditBlock("pkg/mod.py", "x = 1\n", "x = 2\n")]


def test_unified_diff_hunks_become_blocks() -> None:
    reply = """```diff
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -10,4 +10,4 @@ def g():
 def g():
-    return 1
+    return 2

@@ -30,2 +30,3 @@
 y = 1
+z = 2
```
"""
    assert parse_edit_blocks(reply) == [
        EditBlock("pkg/mod.py", "def g():\n    return 1\n\n", "def g():\n    return 2\n\n"),
        EditBlock("pkg/mod.py", "y = 1\n", "y = 1\nz = 2\n"),
    ]


def test_new_file_diff_has_empty_search() -> None:
    reply = "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,2 @@\n+A = 1\n+B = 2\n"
    assert parse_edit_blocks(reply) == [EditBlock("new.py", "", "A = 1\nB = 2\n")]


def test_no_blocks_and_malformed_blocks() -> None:
    assert parse_edit_blocks("Just prose, and a ``` fence ```.") == []
    with pytest.raises(PatchError) as err:
        parse_edit_blocks("a.py\n<<<<<<< SEARCH\nx = 1\n>>>>>>> REPLACE\n")
    assert err.value.reason == "invalid" and "=======" in str(err.value)
    with pytest.raises(PatchError) as err:
        parse_edit_blocks("a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n")
    assert ">>>>>>> REPLACE" in str(err.value)
