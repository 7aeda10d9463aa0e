"""web_fetch and web_search through the agent loop, against a real local HTTP server: pages become readable
text, a SearXNG-style endpoint answers searches, and the SSRF guard refuses loopback (unless allowed), cloud
metadata and link-local addresses, file: URLs and redirects to any of them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from agent_core import SmallCode
from agent_core.config import load_settings
from tests.support.scripted_server import ScriptedModelServer

PAGE = """<html><head><title>Widget docs</title><style>body{color:red}</style></head>
<body><nav>Home | About</nav><script>var secret = "SCRIPT_TEXT";</script>
<h1>Widgets</h1><p>A widget frobs the <code>gizmo</code>. See <a href="/more">more</a>.</p></body></html>"""


class _Site(BaseHTTPRequestHandler):
    hits: list[str] = []
    queries: list[dict[str, list[str]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.hits.append(self.path)
        url = urlsplit(self.path)
        if url.path == "/page":
            self._send(200, PAGE.encode(), "text/html; charset=utf-8")
        elif url.path == "/search":
            self.queries.append(parse_qs(url.query))
            results = [
                {
                    "title": "Widget  docs",
                    "url": "https://widgets.example/docs",
                    "content": "How widgets frob.",
                },
                {"title": "Gizmo", "url": "https://gizmo.example/", "content": "All about gizmos."},
            ]
            self._send(200, json.dumps({"query": "w", "results": results}).encode(), "application/json")
        elif url.path == "/to-metadata":
            self._send(302, b"", "text/plain", Location="http://169.254.169.254/latest/meta-data/")
        elif url.path == "/to-page":
            self._send(302, b"", "text/plain", Location="/page")
        else:
            self._send(404, b"no", "text/plain")


@pytest.fixture
def site() -> Iterator[str]:
    _Site.hits, _Site.queries = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def calls(*pairs: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"tool_calls": [{"id": f"c{i}", "name": n, "arguments": a}]} for i, (n, a) in enumerate(pairs)]


def tool_results(server: ScriptedModelServer) -> list[str]:
    last = server.requests[-1]["messages"]
    return [str(m["content"]) for m in last if m["role"] == "tool"]


async def run(server: ScriptedModelServer, root: Path, task: str, **settings: Any) -> Any:
    async with SmallCode(
        model="scripted-model", base_url=server.base_url, cwd=root, test_disable=True, **settings
    ) as agent:
        return await agent.run(task)


async def test_web_fetch_reads_a_page_as_text_when_local_addresses_are_allowed(
    model_server: ScriptedModelServer, tmp_path: Path, site: str
) -> None:
    model_server.extend([*calls(("web_fetch", {"url": f"{site}/to-page"})), {"content": "Done."}])
    result = await run(
        model_server, tmp_path, "read the widget docs", web_browse=True, web_allow_private=True
    )
    assert result.success and result.tool_calls[0].ok
    page = tool_results(model_server)[-1]
    assert "# Widgets" in page and "A widget frobs the `gizmo`" in page and "[more](/more)" in page
    assert "SCRIPT_TEXT" not in page and "color:red" not in page and "Home | About" not in page
    assert _Site.hits == ["/to-page", "/page"]


async def test_loopback_and_metadata_are_refused_by_default(
    model_server: ScriptedModelServer, tmp_path: Path, site: str
) -> None:
    model_server.extend(
        [
            *calls(
                ("web_fetch", {"url": f"{site}/page"}),
                ("web_fetch", {"url": "http://169.254.169.254/latest/meta-data/"}),
                ("web_fetch", {"url": "file:///etc/passwd"}),
            ),
            {"content": "Done."},
        ]
    )
    result = await run(model_server, tmp_path, "fetch these pages", web_browse=True)
    assert [c.ok for c in result.tool_calls] == [False, False, False]
    loopback, metadata, file_url = tool_results(model_server)
    assert "is a loopback address" in loopback
    assert "is a metadata address" in metadata
    assert "only http and https" in file_url
    assert _Site.hits == []  # nothing reached the local server


async def test_a_redirect_to_cloud_metadata_is_refused_even_when_local_is_allowed(
    model_server: ScriptedModelServer, tmp_path: Path, site: str
) -> None:
    model_server.extend([*calls(("web_fetch", {"url": f"{site}/to-metadata"})), {"content": "Done."}])
    result = await run(model_server, tmp_path, "fetch it", web_browse=True, web_allow_private=True)
    assert not result.tool_calls[0].ok
    assert (
        "169.254.169.254" in tool_results(model_server)[-1] and "metadata" in tool_results(model_server)[-1]
    )


async def test_web_search_asks_the_configured_endpoint(
    model_server: ScriptedModelServer, tmp_path: Path, site: str
) -> None:
    model_server.extend([*calls(("web_search", {"query": "frob a widget"})), {"content": "Done."}])
    result = await run(
        model_server, tmp_path, "search the web for widgets", web_browse=True, web_search_url=f"{site}/search"
    )
    assert result.tool_calls[0].ok
    assert _Site.queries == [{"q": ["frob a widget"], "format": ["json"]}]
    text = tool_results(model_server)[-1]
    assert "- Widget docs\n  https://widgets.example/docs\n  How widgets frob." in text


async def test_web_search_without_an_endpoint_says_what_to_set(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([*calls(("web_search", {"query": "x"})), {"content": "Done."}])
    await run(model_server, tmp_path, "search", web_browse=True)
    assert "SMALLCODE_WEB_SEARCH_URL" in tool_results(model_server)[-1]


async def test_web_tools_are_offered_only_when_enabled(
    model_server: ScriptedModelServer, tmp_path: Path
) -> None:
    model_server.extend([{"content": "ok"}, {"content": "ok"}])
    await run(model_server, tmp_path, "hello")
    await run(model_server, tmp_path, "hello", web_browse=True)
    offered = [{t["function"]["name"] for t in r["tools"]} for r in model_server.requests]
    assert not offered[0] & {"web_fetch", "web_search"}
    assert {"web_fetch", "web_search"} <= offered[1]


def test_a_project_cannot_turn_web_tools_on_or_open_local_addresses(tmp_path: Path) -> None:
    (tmp_path / "smallcode.toml").write_text(
        'web_browse = true\nweb_allow_private = true\nweb_search_url = "http://10.0.0.5/search"\n'
    )
    settings = load_settings(tmp_path)
    assert (settings.web_browse, settings.web_allow_private, settings.web_search_url) == (False, False, None)
