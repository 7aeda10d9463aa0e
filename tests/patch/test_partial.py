"""A partial "whole file" from a small model is spliced into the file, never allowed to truncate it."""

from __future__ import annotations

from agent_core.patch.partial import splice_partial

ORIGINAL = '''"""Intervals."""

import math


def merge(intervals):
    """Merge them."""
    return intervals


@cached
def length(intervals):
    return sum(e - s for s, e in merge(intervals))


class Span:
    pass
'''


def test_a_block_with_one_function_replaces_only_that_function() -> None:
    block = "def merge(intervals):\n    return sorted(intervals)\n"
    spliced = splice_partial(ORIGINAL, block)
    assert spliced is not None and spliced.replaced == ["merge"] and spliced.added == []
    assert "return sorted(intervals)" in spliced.text and "Merge them" not in spliced.text
    assert "@cached\ndef length(intervals):" in spliced.text and "class Span:" in spliced.text
    assert spliced.text.startswith('"""Intervals."""\n\nimport math\n')


def test_a_function_the_block_defines_twice_is_its_last_version_spliced_once() -> None:
    # deep_merge, 1.5B: a draft of the function, then the final one, in one block ("deep_merge, deep_merge").
    block = "def merge(intervals):\n    return intervals[:1]\n\n\ndef merge(intervals):\n    return sorted(intervals)\n"
    spliced = splice_partial(ORIGINAL, block)
    assert spliced is not None and spliced.replaced == ["merge"] and spliced.added == []
    assert spliced.text == ORIGINAL.replace(
        '    """Merge them."""\n    return intervals\n', "    return sorted(intervals)\n"
    )


def test_decorated_definitions_keep_one_decorator_and_new_things_are_added() -> None:
    block = (
        "import itertools\n\n@cached\ndef length(intervals):\n    return 0\n\n\ndef extra():\n    return 1\n"
    )
    spliced = splice_partial(ORIGINAL, block)
    assert spliced is not None and spliced.replaced == ["length"] and spliced.added == ["extra"]
    assert spliced.text.count("@cached") == 1 and "return 0" in spliced.text
    assert spliced.text.index("import itertools") < spliced.text.index("def merge")
    assert spliced.text.rstrip().endswith("def extra():\n    return 1")


def test_whole_files_and_non_python_are_left_alone() -> None:
    assert splice_partial(ORIGINAL, ORIGINAL.replace("return intervals", "return []")) is None
    assert splice_partial(ORIGINAL, "def unrelated():\n    pass\n") is None  # shares nothing: not a part
    assert splice_partial(ORIGINAL, "this is not python (") is None
    assert splice_partial("x = 1\n", "def f():\n    pass\n") is None
