"""Endpoint checks: metadata, link-local and private addresses refused; each redirect hop checked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from agent_core.safety.endpoints import EndpointError, acheck_url, check_url, guarded_client

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.google.internal./x",
    "http://100.100.100.200/latest/meta-data",
    "http://2852039166/",  # 169.254.169.254 as one number
    "http://0xa9fea9fe/",  # … in hex
    "http://[::ffff:169.254.169.254]/",  # … inside IPv6
    "http://169.254.1.1/",
    "http://[fe80::1]/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.0.1:8080/",
    "http://100.64.0.1/",
    "http://[fd12:3456::1]/",
    "http://224.0.0.1/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/",
    "http:///nohost",
]


@pytest.mark.parametrize("url", REFUSED)
def test_refused(url: str) -> None:
    with pytest.raises(EndpointError) as err:
        check_url(url)
    assert "\n" not in str(err.value)


def test_private_allowed_when_asked_metadata_never() -> None:
    check_url("http://10.1.2.3/", allow_private=True)
    check_url("http://192.168.0.1/", allow_private=True)
    with pytest.raises(EndpointError, match="metadata"):
        check_url("http://169.254.169.254/", allow_private=True)


def test_loopback_is_allowed_for_model_endpoints_but_not_for_web_tools() -> None:
    for url in (
        "http://127.0.0.1:8080/v1",
        "http://localhost:11434",
        "http://[::1]:1234/v1",
        "http://0.0.0.0:8000",
    ):
        check_url(url)
        with pytest.raises(EndpointError, match="loopback"):
            check_url(url, allow_loopback=False)


async def test_async_check_resolves_without_blocking() -> None:
    await acheck_url("http://localhost:1/")
    with pytest.raises(EndpointError):
        await acheck_url("http://metadata.google.internal/")


class _Redirector(BaseHTTPRequestHandler):
    targets: dict[str, str] = {}

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        target = self.targets.get(self.path)
        if target:
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"final page"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def redirector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    _Redirector.targets = {
        "/to-metadata": "http://169.254.169.254/latest/meta-data/iam/",
        "/to-private": "http://10.0.0.1/admin",
        "/hop1": "/hop2",
        "/hop2": "/final",
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


async def test_each_redirect_hop_is_checked(redirector: str) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(str(request.url))

    async with guarded_client(allow_loopback=True, event_hooks={"request": [record]}, timeout=5) as client:
        response = await client.get(redirector + "/hop1")
        assert response.text == "final page"
        assert [u.rsplit("/", 1)[1] for u in seen] == ["hop1", "hop2", "final"]
        seen.clear()
        with pytest.raises(EndpointError, match="metadata"):
            await client.get(redirector + "/to-metadata")
        with pytest.raises(EndpointError, match="private"):
            await client.get(redirector + "/to-private")
    # The refused hop was never sent: only the first request went out each time.
    assert [u.rsplit("/", 1)[1] for u in seen] == ["to-metadata", "to-private"]


async def test_web_client_refuses_loopback_by_default(redirector: str) -> None:
    async with guarded_client(timeout=5) as client:
        with pytest.raises(EndpointError, match="loopback"):
            await client.get(redirector + "/final")
