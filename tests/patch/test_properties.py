"""Properties: an applied edit is undone byte for byte by its inverse; a refused edit changes nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from agent_core.patch import PatchError, apply_search_replace

# Real-looking lines (identifiers, calls, indentation), no trailing whitespace: drift stages normalise that.
WORDS = st.sampled_from(
    ["x", "value", "self.index", "return", "if", "None", "items", "+=", "(", ")", ":", "1"]
)
BODY = st.lists(WORDS, min_size=1, max_size=5).map(" ".join)
LINE = st.tuples(st.integers(0, 3), BODY).map(lambda t: "    " * t[0] + t[1]) | st.just("")
LINES = st.lists(LINE, min_size=1, max_size=30)
NEWLINE = st.sampled_from(["\n", "\r\n"])
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


def join(lines: list[str], newline: str, final: bool) -> str:
    return newline.join(lines) + (newline if final else "")


@SETTINGS
@given(LINES, st.data(), NEWLINE, st.booleans(), st.booleans())
def test_apply_then_inverse_is_identity(
    lines: list[str], data: st.DataObject, newline: str, final: bool, lf_search: bool
) -> None:
    text = join(lines, newline, final)
    a = data.draw(st.integers(0, len(lines) - 1))
    b = data.draw(st.integers(a + 1, len(lines)))
    old = lines[a:b]
    new = data.draw(st.lists(LINE, max_size=4)) + ["unique_marker_line()"]
    # The model may send LF where the file has CRLF: the line-endings stage must still round-trip.
    sep = "\n" if lf_search else newline
    ends = sep if b < len(lines) or final else ""  # the search is what the file holds there
    search = sep.join(old) + ends
    replace = sep.join(new) + ends
    assume(any(x.strip() for x in old))
    try:
        edited = apply_search_replace(text, search, replace)
    except PatchError:
        event("refused")
        return  # not unique: refusing is always allowed (refusals are checked by the tests below)
    event("applied")
    assert "unique_marker_line()" in edited
    # A file left with no line ending at all no longer says it was CRLF: an LF inverse can't know.
    assume("\n" in edited or sep == newline)
    assert apply_search_replace(edited, replace, search) == text


@SETTINGS
@given(LINES, st.data(), NEWLINE, st.sampled_from(["", "    ", "  "]))
def test_ambiguous_search_never_changes_text(
    lines: list[str], data: st.DataObject, newline: str, shift: str
) -> None:
    block = ["dup_" + x for x in data.draw(st.lists(BODY, min_size=1, max_size=4))]  # only in the two copies
    cut = data.draw(st.integers(0, len(lines)))
    text = join([*lines[:cut], *block, *lines[cut:], "", *block], newline, True)
    before = text
    search = "".join(shift + x + "\n" for x in block)
    try:
        apply_search_replace(text, search, "replaced()\n")
    except PatchError as exc:
        assert exc.reason == "ambiguous"
    else:
        raise AssertionError("a search that occurs twice must be refused")
    assert text == before


@SETTINGS
@given(LINES, st.lists(BODY, min_size=1, max_size=4), NEWLINE)
def test_missing_search_never_changes_text(lines: list[str], tail: list[str], newline: str) -> None:
    text = join(lines, newline, True)
    search = "\n".join(["absent_call_zq()", *tail]) + "\n"
    try:
        apply_search_replace(text, search, "replaced()\n")
    except PatchError as exc:
        assert exc.reason in ("not_found", "invalid")
    else:
        raise AssertionError("a search whose first line is not in the file must be refused")


@SETTINGS
@given(LINES, st.data(), st.sampled_from(["    ", "        "]), st.booleans())
def test_indentation_shift_round_trips(
    lines: list[str], data: st.DataObject, indent: str, dedent: bool
) -> None:
    """Search and replace copied with the wrong indentation: the edit lands re-indented, and undoes exactly."""
    base = [indent + x if x else x for x in lines]
    text = join(base, "\n", True)
    a = data.draw(st.integers(0, len(base) - 1))
    b = data.draw(st.integers(a + 1, len(base)))
    assume(any(x.strip() for x in base[a:b]))
    strip = len(indent) if dedent else 0
    model = [x[strip:] if x.strip() else "" for x in base[a:b]]
    search = "".join(x + "\n" for x in model)
    replace = search + "marker_zq()\n"
    try:
        edited = apply_search_replace(text, search, replace)
    except PatchError:
        return
    assert edited.count("marker_zq()") == 1
    inverse_search = "".join(x + "\n" for x in model) + "marker_zq()\n"
    assert apply_search_replace(edited, inverse_search, search) == text
