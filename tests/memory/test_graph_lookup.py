"""Answers from the code graph: symbol search by name and by phrase, explain with callers and callees within
a token cap, PageRank, and the repository map fitted to its budget."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_core.context.tokens import TokenCounter
from agent_core.memory.graph import lookup
from agent_core.memory.graph.index import CodeIndex
from agent_core.memory.graph.rank import pagerank
from agent_core.memory.graph.store import GraphStore, index_path

count = TokenCounter().estimate

FILES = {
    "net/client.py": '''from net.transport import Transport


class Client:
    """An HTTP client that keeps connections open."""

    def send(self, request):
        """Send a request and return the response."""
        return self.transport.handle(request)

    def get(self, url):
        return self.send(build_request("GET", url))


def build_request(method, url):
    """Make a request object from a method and a URL."""
    return (method, url)
''',
    "net/transport.py": '''class Transport:
    """Moves bytes over a socket."""

    def handle(self, request):
        return encode_body(request)


def encode_body(request):
    """Encode the request body as bytes."""
    return str(request).encode()
''',
    "net/cli.py": '''from net.client import Client


def main():
    """Fetch a page from the command line."""
    Client().get("http://example.com")
''',
    "tests/test_client.py": """from net.client import Client


def test_send():
    Client().send(1)
""",
    "web/app.ts": """export class Router {
  // Finds the handler for a path.
  route(path: string) { return lookupHandler(path); }
}
function lookupHandler(path: string) { return path; }
""",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GraphStore]:
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    CodeIndex(tmp_path).update_all()
    db = GraphStore(index_path(tmp_path))
    yield db
    db.close()


def top(store: GraphStore, query: str, n: int = 3) -> list[str]:
    return [f"{s.path}:{s.line} {s.qualname}" for _, s in lookup.search(store, query, n)]


def test_a_name_finds_its_definition_first(store: GraphStore) -> None:
    assert top(store, "send")[0] == "net/client.py:7 Client.send"
    assert top(store, "Client.send")[0] == "net/client.py:7 Client.send"
    assert top(store, "encode_body")[0] == "net/transport.py:8 encode_body"
    assert top(store, "net.client.build_request")[0] == "net/client.py:15 build_request"
    assert top(store, "lookupHandler")[0] == "web/app.ts:5 lookupHandler"


def test_a_phrase_finds_definitions_by_their_words_and_docstrings(store: GraphStore) -> None:
    assert top(store, "encoding request bodies as bytes")[0] == "net/transport.py:8 encode_body"
    assert top(store, "fetch a page from the command line")[0] == "net/cli.py:4 main"
    assert top(store, "handler for a path")[0] == "web/app.ts:5 lookupHandler"


def test_tests_rank_below_the_code_unless_asked_for(store: GraphStore) -> None:
    found = top(store, "sending", 5)
    assert found.index("net/client.py:7 Client.send") < found.index("tests/test_client.py:4 test_send")
    assert top(store, "test_send")[0] == "tests/test_client.py:4 test_send"


def test_search_renders_path_line_and_a_one_line_signature(store: GraphStore) -> None:
    text = lookup.render_search(store, "build request")
    assert text.splitlines()[0] == "net/client.py:15 function build_request — def build_request(method, url)"
    assert "No definitions match" in lookup.render_search(store, "zebra")


def test_explain_shows_doc_code_callers_and_callees(store: GraphStore, tmp_path: Path) -> None:
    text = lookup.explain(store, tmp_path, "Client.send", 400, count)
    lines = text.splitlines()
    assert lines[0] == "Client.send (method) net/client.py:7-9"
    assert "Doc: Send a request and return the response." in lines
    assert "    9 |         return self.transport.handle(request)" in lines
    assert "Callers (2): net/client.py:12 in Client.get; tests/test_client.py:5 in test_send." in lines
    assert "Calls: Transport.handle net/transport.py:4." in lines
    assert count(text) <= 400


def test_explain_stays_within_its_cap_by_cutting_the_code(store: GraphStore, tmp_path: Path) -> None:
    long = "def big():\n" + "".join(f"    x{i} = encode_body({i})\n" for i in range(300))
    (tmp_path / "net/big.py").write_text(long)
    CodeIndex(tmp_path).update_paths(["net/big.py"])
    text = lookup.explain(store, tmp_path, "big", 200, count)
    assert count(text) <= 200
    assert "more lines (read_file net/big.py start_line=" in text
    assert "Calls: encode_body net/transport.py:8." in text


def test_explain_an_unknown_name_points_at_the_closest(store: GraphStore, tmp_path: Path) -> None:
    text = lookup.explain(store, tmp_path, "encode", 300, count)
    assert text.startswith("No definition named 'encode'. Closest: encode_body (net/transport.py:8)")


def test_explain_path_and_name_picks_that_file(store: GraphStore, tmp_path: Path) -> None:
    (tmp_path / "net/other.py").write_text("def main():\n    pass\n")
    CodeIndex(tmp_path).update_paths(["net/other.py"])
    assert lookup.explain(store, tmp_path, "net/other.py:main", 300, count).startswith(
        "main (function) net/other.py:1-2"
    )


def test_pagerank_follows_the_edges() -> None:
    ranks = pagerank(["a", "b", "c"], {"a": {"c": 1.0}, "b": {"c": 1.0}})
    assert ranks["c"] > ranks["a"] == pytest.approx(ranks["b"])
    assert sum(ranks.values()) == pytest.approx(1.0)
    personal = pagerank(["a", "b", "c"], {"a": {"b": 1.0}, "b": {"c": 1.0}}, {"a": 1.0})
    assert personal["a"] > personal["c"]


def test_the_map_fits_its_budget_and_leans_towards_the_task(store: GraphStore) -> None:
    for budget in (60, 120, 400):
        text = lookup.repo_map(store, "speed up encoding", budget, count)
        assert text and count(text) <= budget
    small = lookup.repo_map(store, "Make Router.route faster", 60, count)
    assert "web/app.ts:" in small and "route(path: string)" in small
    full = lookup.repo_map(store, "anything", 2000, count, exclude={"net/cli.py"})
    assert "net/cli.py" not in full and "net/transport.py:" in full
    assert lookup.repo_map(store, "x", 10, count) == ""
