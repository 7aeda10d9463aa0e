"""The cascade stage by stage, and its refusals (the message is what the model reads)."""

from __future__ import annotations

import pytest

from agent_core.patch import PatchError, apply_edit, apply_search_replace

CLASS = """class Cache:
    def get(self, key):
        value = self._data.get(key)
        if value is None:
            return None
        return value

    def put(self, key, value):
        self._data[key] = value
        return None
"""


def test_exact_match_is_plain_replacement() -> None:
    out = apply_edit(
        CLASS,
        "        self._data[key] = value\n",
        "        self._data[key] = value\n        self.size += 1\n",
    )
    assert out.stage == "exact"
    assert out.text == CLASS.replace(
        "value\n        return None\n", "value\n        self.size += 1\n        return None\n"
    )
    assert (out.first_line, out.last_line) == (9, 9)


def test_partial_line_search_prefers_the_whole_line_match() -> None:
    text = "x = 1\nx = 10\n"
    assert apply_search_replace(text, "x = 1", "x = 2") == "x = 2\nx = 10\n"


def test_search_newline_mismatch_does_not_join_lines() -> None:
    text = "a()\nb()\nc()\n"
    assert apply_search_replace(text, "b()\n", "B()") == "a()\nB()\nc()\n"
    assert apply_search_replace(text, "b()", "B()\n") == "a()\nB()\nc()\n"


def test_dedented_search_is_reindented_by_the_same_shift() -> None:
    out = apply_edit(
        CLASS, "if value is None:\n    return None\n", "if value is None:\n    raise KeyError(key)\n"
    )
    assert out.stage == "indentation"
    assert "        if value is None:\n            raise KeyError(key)\n" in out.text


def test_over_indented_replace_line_that_cannot_be_placed_is_refused() -> None:
    text = "def f():\n    return 1\n"
    with pytest.raises(PatchError) as err:
        apply_search_replace(
            text, "    def f():\n        return 1\n", "def g():\n    def f():\n        return 1\n"
        )
    assert err.value.reason == "invalid"


def test_blank_lines_missing_inside_search_are_kept() -> None:
    search = "        return value\n    def put(self, key, value):\n"
    replace = "        return value\n    def put(self, key, value) -> None:\n"
    out = apply_edit(CLASS, search, replace)
    assert out.stage == "blank lines"
    assert "        return value\n\n    def put(self, key, value) -> None:\n" in out.text


def test_elision_keeps_the_elided_lines() -> None:
    search = "    def get(self, key):\n        ...\n        return value\n"
    replace = "    def get(self, key, default=None):\n        ...\n        return value\n"
    out = apply_edit(CLASS, search, replace)
    assert out.stage == "elision"
    assert out.text == CLASS.replace("def get(self, key):", "def get(self, key, default=None):")


def test_elision_needs_the_same_markers_in_replace() -> None:
    with pytest.raises(PatchError) as err:
        apply_search_replace(
            CLASS, "    def get(self, key):\n        ...\n        return value\n", "    def get(self):\n"
        )
    assert err.value.reason == "invalid"
    assert "`...`" in str(err.value)


def test_elision_never_crosses_into_the_next_function() -> None:
    # `return None` of put() is not in get(): a `...` from get() must not reach it.
    with pytest.raises(PatchError):
        apply_search_replace(
            CLASS, "    def get(self, key):\n        ...\n        self._data[key] = value\n", "x\n...\ny\n"
        )


def test_anchored_match_keeps_the_files_version_of_a_misremembered_line() -> None:
    search = "    def get(self, key):\n        value = self.data.get(key)\n        if value is None:\n            return None\n"
    replace = "    def get(self, key):\n        value = self.data.get(key)\n        if value is None:\n            return self.default\n"
    out = apply_edit(CLASS, search, replace)
    assert out.stage == "anchored"
    assert (
        "        value = self._data.get(key)\n        if value is None:\n            return self.default\n"
        in out.text
    )


def test_anchored_refuses_to_change_a_line_it_cannot_pair() -> None:
    search = "    def get(self, key):\n        completely = different(thing)\n        if value is None:\n            return None\n"
    with pytest.raises(PatchError):
        apply_search_replace(CLASS, search, search.replace("completely", "c"))


def test_ambiguous_search_lists_every_place() -> None:
    with pytest.raises(PatchError) as err:
        apply_search_replace(CLASS, "return None\n", "return 0\n")
    assert err.value.reason == "ambiguous"
    assert err.value.lines == (5, 10)
    assert "2 places" in str(err.value) and "5, 10" in str(err.value)


def test_ambiguous_after_ignoring_indentation() -> None:
    text = "def a():\n    x = 1\n\nx = 1\n"
    with pytest.raises(PatchError) as err:
        apply_search_replace(text, "  x = 1\n", "  x = 2\n")
    assert err.value.reason == "ambiguous"
    assert "ignoring indentation" in str(err.value)


def test_not_found_shows_the_closest_lines_with_numbers() -> None:
    with pytest.raises(PatchError) as err:
        apply_search_replace(CLASS, "    def put(self, key, val):\n        self.data[key] = val\n", "x\n")
    msg = str(err.value)
    assert err.value.reason == "not_found"
    assert "Did you mean" in msg and "8|     def put(self, key, value):" in msg
    assert err.value.lines == (8,)


def test_empty_and_identical_edits_are_refused() -> None:
    for search, replace in (("", "x"), ("  \n", "x"), ("return value\n", "return value\n")):
        with pytest.raises(PatchError) as err:
            apply_search_replace(CLASS, search, replace)
        assert err.value.reason == "invalid"


def test_bom_line_endings_and_final_newline_are_kept() -> None:
    text = "\ufeffimport os\r\n\r\ndef f():\r\n    return os.sep"
    out = apply_search_replace(
        text, "def f():\n    return os.sep\n", "def f():\n    return os.sep + os.sep\n"
    )
    assert out == "\ufeffimport os\r\n\r\ndef f():\r\n    return os.sep + os.sep"
    dedented = apply_search_replace(text, "return os.sep", "return '/'")
    assert dedented == "\ufeffimport os\r\n\r\ndef f():\r\n    return '/'"
    grown = apply_search_replace(text, "    return os.sep\n", "    return os.sep\n\nX = 1\n")
    assert grown == "\ufeffimport os\r\n\r\ndef f():\r\n    return os.sep\r\n\r\nX = 1"


def test_untouched_lines_keep_their_trailing_whitespace_and_endings() -> None:
    text = "a = 1   \r\nb = 2\nc = 3\t\n"
    out = apply_search_replace(text, "a = 1\nb = 2\nc = 3\n", "a = 1\nb = 20\nc = 3\n")
    assert out == "a = 1   \r\nb = 20\r\nc = 3\t\n"


def test_one_line_file_keeps_the_replacements_line_endings() -> None:
    """Found by the inverse property: a file with no line ending says nothing about its style."""
    from agent_core.patch import apply_search_replace as apply

    assert apply("only", "only", "x\r\nx") == "x\r\nx"
    assert apply("only", "only", "x\nx") == "x\nx"
