from __future__ import annotations

import pytest

from agent_core.patch import PatchError
from agent_core.patch.textfile import check_editable, conform, decode, patch_bytes


def test_patch_bytes_keeps_bom_crlf_and_missing_final_newline(tmp_path) -> None:
    path = tmp_path / "mod.py"
    path.write_bytes(b"\xef\xbb\xbfimport os\r\n\r\nX = 1")
    result = patch_bytes(path.read_bytes(), "X = 1", "X = 2\nY = 3", "mod.py")
    path.write_bytes(result.data)
    assert path.read_bytes() == b"\xef\xbb\xbfimport os\r\n\r\nX = 2\r\nY = 3"
    assert "+Y = 3" in result.diff and "\\ No newline at end of file" in result.diff


def test_latin1_file_is_written_back_as_latin1() -> None:
    data = "# caf\xe9\nname = 'x'\n".encode("latin-1")
    result = patch_bytes(data, "name = 'x'\n", "name = 'y'\n", "old.py")
    assert result.data == "# caf\xe9\nname = 'y'\n".encode("latin-1")


def test_binary_and_oversized_files_are_refused_with_a_message() -> None:
    with pytest.raises(PatchError) as err:
        check_editable(b"\x89PNG\x00\x00", "logo.png")
    assert err.value.reason == "binary" and "logo.png" in str(err.value)
    with pytest.raises(PatchError) as err:
        decode(b"x" * 101, "big.txt", max_bytes=100)
    assert err.value.reason == "too_large" and "100" in str(err.value)


def test_conform_gives_a_rewrite_the_files_style() -> None:
    assert conform("\ufeffa\r\nb\r\n", "a\nb\nc") == "\ufeffa\r\nb\r\nc\r\n"
    assert conform("a\nb", "a\nb\nc\n") == "a\nb\nc"
    assert conform("", "new\n") == "new\n"
