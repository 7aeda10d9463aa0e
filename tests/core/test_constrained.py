"""Constrained decoding (SMALLCODE_CONSTRAINED_DECODING): small models on llama.cpp servers get a grammar that
closes every fence and ends a one-file reply at its block; other servers, bigger models and `off` get none.
That llama.cpp parses the grammar and a real model follows it: tests/e2e/test_embedded_model.py (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_core import SmallCode
from agent_core.llm.grammar import reply_grammar
from tests.support.scripted_server import ScriptedModelServer

SMALL = "qwen2.5-coder-1.5b"
FIX = "calc.py\n```python\ndef add(a, b):\n    return a + b\n```"


def project(root: Path) -> None:
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )


async def run(server: ScriptedModelServer, root: Path, model: str = SMALL, **settings: object) -> bool:
    async with SmallCode(model=model, base_url=server.base_url, cwd=root, **settings) as agent:
        result = await agent.run("Fix add in calc.py.")
    return result.success


@pytest.mark.parametrize("tokenize", ["llama.cpp", "llama-cpp-python"])
async def test_auto_sends_a_one_block_grammar_to_llama_cpp_servers(tmp_path: Path, tokenize: str) -> None:
    project(tmp_path)
    with ScriptedModelServer(models=[SMALL], tokenize=tokenize) as server:
        server.extend([{"content": FIX}])
        assert await run(server, tmp_path, constrained_decoding="auto")
    grammar = server.requests[0]["grammar"]
    assert grammar == reply_grammar(1) and grammar.startswith("root ::= text fence?\n")


async def test_auto_sends_none_to_other_servers_and_off_sends_none(tmp_path: Path) -> None:
    project(tmp_path)
    with ScriptedModelServer(models=[SMALL]) as server:  # no llama.cpp tokenize endpoint: e.g. Ollama
        server.extend([{"content": FIX}])
        assert await run(server, tmp_path, constrained_decoding="auto")
    assert "grammar" not in server.requests[0]
    project(tmp_path)
    with ScriptedModelServer(models=[SMALL], tokenize=True) as server:
        server.extend([{"content": FIX}])
        assert await run(server, tmp_path, constrained_decoding="off")
    assert "grammar" not in server.requests[0]


async def test_bigger_models_are_not_constrained(tmp_path: Path) -> None:
    project(tmp_path)
    with ScriptedModelServer(models=["qwen2.5-coder-32b"], tokenize=True) as server:
        server.extend([{"content": "Done."}])
        await run(server, tmp_path, model="qwen2.5-coder-32b", constrained_decoding="on")
    assert "grammar" not in server.requests[0]


async def test_a_server_that_refuses_the_grammar_is_asked_again_without_it(tmp_path: Path) -> None:
    project(tmp_path)
    with ScriptedModelServer(models=[SMALL]) as server:
        server.extend(
            [
                {"status": 400, "body": '{"error": {"message": "Unrecognized request argument: grammar"}}'},
                {"content": FIX},
            ]
        )
        assert await run(server, tmp_path, constrained_decoding="on")
    assert "grammar" in server.requests[0] and "grammar" not in server.requests[1]


def test_the_grammar_allows_one_block_per_file_in_play() -> None:
    assert reply_grammar(2).startswith("root ::= text (fence text (fence text)?)?\n")
    assert reply_grammar(3).count("fence text") == 3
