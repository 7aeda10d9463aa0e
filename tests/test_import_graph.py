"""The layers hold (issue 17): no import cycle in agent_core or lsp_server, in-function imports included;
agent_core never imports lsp_server; the language server's features never import the server module, and the
server module imports no feature (the composition root, lsp_server/app.py, wires them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import import_graph
from tests.import_graph import Edge

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("agent_core", "lsp_server", "acp_server")


@pytest.fixture(scope="module")
def graph() -> list[Edge]:
    return import_graph.edges(ROOT, PACKAGES)


def test_no_import_cycles(graph: list[Edge]) -> None:
    runtime = [edge for edge in graph if not edge.type_only]
    loops = import_graph.cycles(runtime)
    assert not loops, "modules that import each other:\n" + "\n".join(map(import_graph.describe, loops))


def test_agent_core_never_imports_the_front_ends(graph: list[Edge]) -> None:
    bad = [
        str(edge)
        for edge in graph
        if edge.source.split(".")[0] == "agent_core" and edge.target.split(".")[0] == "lsp_server"
    ]
    assert not bad, "agent_core is a library; it must not know the language server:\n" + "\n".join(bad)


def test_features_and_server_module_do_not_know_each_other(graph: list[Edge]) -> None:
    bad = [
        str(edge)
        for edge in graph
        if (edge.source.startswith("lsp_server.features") and edge.target == "lsp_server.server")
        or (edge.source == "lsp_server.server" and edge.target.startswith("lsp_server.features"))
    ]
    assert not bad, "features get what they need from lsp_server/app.py, not from the server:\n" + "\n".join(
        bad
    )


# the reader itself, on a small package written for the purpose ------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_a_loop_hidden_in_a_function_is_found_with_its_path(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/server.py": "def build():\n    from pkg.features import ask\n",
            "pkg/features/__init__.py": "",
            "pkg/features/ask.py": "from pkg import helpers\n",
            "pkg/helpers.py": "from .server import build\n",
        },
    )
    loops = import_graph.cycles(import_graph.edges(root, ["pkg"]))
    assert len(loops) == 1
    text = import_graph.describe(loops[0])
    assert text.splitlines()[0] == "pkg.features.ask -> pkg.helpers -> pkg.server -> pkg.features.ask"
    assert "pkg.server:2 imports pkg.features.ask" in text


def test_type_only_imports_are_kept_apart(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import X\nelse:\n    import os\n"
            ),
        },
    )
    graph = import_graph.edges(root, ["pkg"])
    assert sorted((e.source, e.target, e.type_only) for e in graph) == [
        ("pkg.a", "pkg.b", False),
        ("pkg.b", "pkg.a", True),
    ]
    assert import_graph.cycles([e for e in graph if not e.type_only]) == []
