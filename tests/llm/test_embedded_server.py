"""EmbeddedServer failures that need no model: a bad GGUF, a missing one; when the embedded server is wanted."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_core import SmallCode
from agent_core.config import Settings
from agent_core.llm.embedded import EmbeddedServer, engine_missing, wants_embedded
from agent_core.llm.models import ModelsError
from agent_core.llm.types import ModelError
from tests.support.scripted_server import ScriptedModelServer

needs_engine = pytest.mark.skipif(bool(engine_missing()), reason="llama-cpp-python[server] not installed")


@needs_engine
async def test_a_file_that_is_no_model_fails_with_the_servers_own_words(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"this is not a GGUF file at all")
    statuses: list[str] = []
    server = EmbeddedServer(Settings(gguf=str(bad)), on_status=statuses.append, startup_timeout=60)
    with pytest.raises(ModelError) as err:
        await server.start()
    message = str(err.value)
    assert message.startswith("the embedded model server exited (code ")
    assert "while loading broken.gguf" in message and "\n" not in message
    assert "invalid magic characters" in message and "Traceback" not in message
    assert server.log_path is not None and server.log_path.is_file()  # a failure keeps its log
    assert f"(log: {server.log_path})" in message
    assert statuses == ["loading broken.gguf…"]
    assert not server.running and server.pid is None


async def test_a_missing_gguf_is_refused_before_anything_starts(tmp_path: Path) -> None:
    server = EmbeddedServer(Settings(gguf=str(tmp_path / "nope.gguf")))
    with pytest.raises(ModelsError, match="SMALLCODE_GGUF points to .*nope.gguf, which is not a file"):
        await server.start()
    assert server.pid is None


async def test_an_unknown_embedded_model_is_refused(tmp_path: Path) -> None:
    if engine_missing():
        pytest.skip("llama-cpp-python[server] not installed")
    server = EmbeddedServer(Settings(embedded_model="gpt-5", models_dir=str(tmp_path)))
    with pytest.raises(ModelsError, match="unknown embedded model 'gpt-5'"):
        await server.start()


def test_when_the_embedded_server_is_wanted() -> None:
    assert wants_embedded(Settings())
    assert not wants_embedded(Settings(base_url="http://localhost:1234/v1"))
    assert not wants_embedded(Settings(embedded="never"))
    assert wants_embedded(Settings(base_url="http://localhost:1234/v1", embedded="always"))


async def test_embedded_always_starts_the_embedded_model_even_with_a_server_configured(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    # "always" used to be read only by a helper nobody called: the configured server got the request
    models = tmp_path / "models"
    async with SmallCode(
        base_url=model_server.base_url,
        cwd=tmp_path,
        embedded="always",
        embedded_model="gpt-5",
        models_dir=str(models),
    ) as agent:
        result = await agent.run("say hi")
    assert not result.success and "unknown embedded model 'gpt-5'" in result.response
    assert model_server.requests == []
