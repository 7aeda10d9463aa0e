"""Edits keep a file's encoding, BOM, line endings and final newline byte for byte outside the changed lines:
through write_file, patch, edit blocks and the agent's whole-file and partial fenced edits, on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_core import SmallCode
from agent_core.patch import EditBlock
from agent_core.tools.base import ToolContext
from agent_core.tools.edit_blocks import apply_blocks
from tests.support.scripted_server import ScriptedModelServer
from tests.tools.helpers import call

FILES = {
    "latin-1": b"# caf\xe9 cr\xe8me\nname = 'x'\nend = 1\n",
    "utf-8 bom": b"\xef\xbb\xbf# caf\xc3\xa9\nname = 'x'\nend = 1\n",
    "crlf": b"# top\r\nname = 'x'\r\nend = 1\r\n",
    "no final newline": b"# top\nname = 'x'\nend = 1",
    "mixed endings": b"# top\r\nname = 'x'\nend = 1\r\nlast = 2\n",
    "latin-1 crlf bom-less no final newline": b"# \xe9t\xe9\r\nname = 'x'\r\nend = 1",
}
CASES = list(FILES.items())
IDS = list(FILES)


def _expected(data: bytes) -> bytes:
    return data.replace(b"name = 'x'", b"name = 'y'")


def _model_text(data: bytes) -> str:
    """The file as a model sends it back: decoded, no BOM, LF endings, a final newline, the change made."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    body = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("name = 'x'", "name = 'y'")
    return body if body.endswith("\n") else body + "\n"


@pytest.mark.parametrize(("kind", "data"), CASES, ids=IDS)
async def test_patch_changes_only_the_patched_line(ctx: ToolContext, kind: str, data: bytes) -> None:
    path = ctx.root / "mod.py"
    path.write_bytes(data)
    out = await call(ctx, "patch", path="mod.py", search="name = 'x'\n", replace="name = 'y'\n")
    assert out.ok, out.text
    assert path.read_bytes() == _expected(data)


@pytest.mark.parametrize(("kind", "data"), CASES, ids=IDS)
async def test_write_file_keeps_the_files_style(ctx: ToolContext, kind: str, data: bytes) -> None:
    path = ctx.root / "mod.py"
    path.write_bytes(data)
    assert (await call(ctx, "read_file", path="mod.py")).ok
    out = await call(ctx, "write_file", path="mod.py", content=_model_text(data))
    assert out.ok, out.text
    assert path.read_bytes() == _expected(data)


@pytest.mark.parametrize(("kind", "data"), CASES, ids=IDS)
async def test_edit_blocks_keep_the_files_style(ctx: ToolContext, kind: str, data: bytes) -> None:
    path = ctx.root / "mod.py"
    path.write_bytes(data)
    out = await apply_blocks([EditBlock("mod.py", "name = 'x'\n", "name = 'y'\n")], ctx)
    assert out.ok, out.text
    assert path.read_bytes() == _expected(data)


async def test_write_file_unchanged_in_another_style_is_nothing_to_do(ctx: ToolContext) -> None:
    path = ctx.root / "mod.py"
    path.write_bytes(FILES["crlf"])
    await call(ctx, "read_file", path="mod.py")
    out = await call(ctx, "write_file", path="mod.py", content="# top\nname = 'x'\nend = 1\n")
    assert not out.ok and "already has exactly this content" in out.text
    assert path.read_bytes() == FILES["crlf"]


async def test_a_character_latin1_cannot_hold_is_refused_not_transcoded(ctx: ToolContext) -> None:
    path = ctx.root / "mod.py"
    path.write_bytes(FILES["latin-1"])
    out = await call(ctx, "patch", path="mod.py", search="name = 'x'", replace="name = '€'")
    assert not out.ok
    assert "Latin-1" in out.text and "'€'" in out.text and "line 2" in out.text
    assert path.read_bytes() == FILES["latin-1"]


async def test_new_files_are_written_as_given(ctx: ToolContext) -> None:
    out = await call(ctx, "write_file", path="new.py", content="x = 'é'\r\ny = 1")
    assert out.ok, out.text
    assert (ctx.root / "new.py").read_bytes() == "x = 'é'\r\ny = 1".encode()


@pytest.mark.parametrize(("kind", "data"), CASES, ids=IDS)
async def test_whole_file_fenced_edit_keeps_the_files_style(
    model_server: ScriptedModelServer, tmp_path: Path, kind: str, data: bytes
) -> None:
    (tmp_path / "mod.py").write_bytes(data)
    block = _model_text(data)
    model_server.extend([{"content": f"mod.py\n```python\n{block}```\n"}, {"content": "Done."}])
    async with SmallCode(model="scripted-model", base_url=model_server.base_url, cwd=tmp_path) as agent:
        result = await agent.run("In mod.py set name to 'y'.")
    assert result.files_edited == ["mod.py"], result
    assert (tmp_path / "mod.py").read_bytes() == _expected(data)


async def test_partial_block_is_spliced_into_a_bom_crlf_file(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    data = (
        b"\xef\xbb\xbfimport os\r\n\r\n\r\ndef a():\r\n    return 1\r\n\r\n\r\ndef b():\r\n    return 2\r\n"
    )
    (tmp_path / "mod.py").write_bytes(data)
    model_server.extend(
        [{"content": "mod.py\n```python\ndef a():\n    return 3\n```\n"}, {"content": "Done."}]
    )
    async with SmallCode(model="scripted-model", base_url=model_server.base_url, cwd=tmp_path) as agent:
        await agent.run("In mod.py make a() return 3.")
    assert (tmp_path / "mod.py").read_bytes() == data.replace(b"return 1", b"return 3")
