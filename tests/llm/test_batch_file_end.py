"""`until_file_written`, the batch extension that ends each sample once it has written its file whole."""

from __future__ import annotations

import pytest

from agent_core.llm.batch_samples import BadRequest, file_written

CURRENT = "def greet(name):\n    return name\n\n\ndef part(name):\n    return name[:1]\n"


def test_a_sample_is_complete_once_its_block_holds_the_whole_changed_file() -> None:
    complete = file_written({"path": "greet.py", "files": ["greet.py", "test_greet.py"], "current": CURRENT})
    assert complete is not None
    whole = CURRENT.replace("return name\n", "return 'Hello, ' + name\n", 1)
    reply = f"Add the greeting.\n\ngreet.py\n```python\n{whole}```\n"
    assert complete(reply)
    assert not complete(reply[: reply.rfind("```")])  # the block is still open
    snippet = "The fix:\n```python\ndef greet(name):\n    return 'Hello, ' + name\n```\n"
    assert not complete(snippet)  # one function of two: the whole file may follow
    assert not complete(f"greet.py\n```python\n{CURRENT}```\n")  # the file unchanged


def test_a_new_file_is_complete_once_written() -> None:
    complete = file_written({"path": "new.py", "files": [], "current": None})
    assert complete is not None and complete("new.py\n```python\nX = 1\n```\n")


def test_not_asked_is_no_test_and_a_malformed_value_is_refused() -> None:
    assert file_written(None) is None
    for bad in ("greet.py", {"path": "greet.py"}, {"path": 1, "files": [], "current": None}):
        with pytest.raises(BadRequest, match="until_file_written must be"):
            file_written(bad)
