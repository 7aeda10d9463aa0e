from __future__ import annotations

import pytest

from agent_core.patch import apply_edit, unified_diff
from agent_core.patch.textfile import TextFile, TextFileError, conform


def test_a_patch_keeps_bom_crlf_and_missing_final_newline() -> None:
    data = b"\xef\xbb\xbfimport os\r\n\r\nX = 1"
    source = TextFile.decode(data, "mod.py")
    new = apply_edit(source.text, "X = 1", "X = 2\nY = 3").text
    assert source.encode(new, "mod.py") == b"\xef\xbb\xbfimport os\r\n\r\nX = 2\r\nY = 3"
    diff = unified_diff("mod.py", source.text, new)
    assert "+Y = 3" in diff and "\\ No newline at end of file" in diff


def test_latin1_file_is_written_back_as_latin1() -> None:
    data = "# caf\xe9\nname = 'x'\n".encode("latin-1")
    source = TextFile.decode(data, "old.py")
    assert source.encoding == "latin-1"
    assert source.encode("# caf\xe9\nname = 'y'\n", "old.py") == "# caf\xe9\nname = 'y'\n".encode("latin-1")


def test_binary_oversized_and_unencodable_are_refused_with_a_message() -> None:
    with pytest.raises(TextFileError) as err:
        TextFile.decode(b"\x89PNG\x00\x00", "logo.png")
    assert err.value.reason == "binary" and "logo.png" in str(err.value)
    with pytest.raises(TextFileError) as err:
        TextFile.decode(b"x" * 101, "big.txt", max_bytes=100)
    assert err.value.reason == "too_large" and "100" in str(err.value)
    with pytest.raises(TextFileError) as err:
        TextFile.decode(b"caf\xe9\n", "a.txt").encode("caf\xe9\n\u20ac\n", "a.txt")
    assert err.value.reason == "encoding" and "line 2" in str(err.value)


def test_conform_gives_a_rewrite_the_files_style() -> None:
    assert conform("\ufeffa\r\nb\r\n", "a\nb\nc") == "\ufeffa\r\nb\r\nc\r\n"
    assert conform("a\nb", "a\nb\nc\n") == "a\nb\nc"
    assert conform("", "new\n") == "new\n"
    assert conform("\ufeff", "x\n") == "\ufeffx\n"
    assert conform("a\n", "") == ""


def test_conform_keeps_each_unchanged_lines_own_ending() -> None:
    mixed = "a\r\nb\nc\r\nd"
    assert conform(mixed, "a\nB\nc\nd\ne\n") == "a\r\nB\nc\r\nd\r\ne"
    assert conform(mixed, "x\na\nb\nc\nd\n") == "x\r\na\r\nb\nc\r\nd"
    assert conform(mixed, mixed) == mixed
