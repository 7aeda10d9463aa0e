"""Web tools behind SMALLCODE_WEB_BROWSE: `web_fetch {url}` (a page as readable text) and `web_search {query}`
(a SearXNG-compatible JSON endpoint, SMALLCODE_WEB_SEARCH_URL).

Every request, each redirect hop included, goes through the SSRF guard (agent_core/safety/endpoints.py):
only http and https; cloud metadata, link-local and reserved addresses never; private and loopback addresses
only with SMALLCODE_WEB_ALLOW_PRIVATE (the search endpoint is the user's own choice, so it may be local).
Bodies are read up to MAX_BODY_BYTES; the registry caps the text like any tool result.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from bs4 import BeautifulSoup
from markdownify import markdownify
from pydantic import Field

from agent_core.safety.endpoints import EndpointError, guarded_client
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput

MAX_BODY_BYTES = 2_000_000
"""Bytes of one response read at most (a page bigger than this is cut, not streamed forever)."""
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
SEARCH_RESULTS = 8
_NOISE = ("script", "style", "noscript", "template", "svg", "iframe", "head", "nav", "footer", "form")
_HEADERS = {"User-Agent": "SmallCode web_fetch (+https://github.com/smallcode)", "Accept": "*/*"}


class WebFetchArgs(ToolArgs):
    url: str = Field(description="http(s) URL of the page to read")


class WebSearchArgs(ToolArgs):
    query: str = Field(description="what to search the web for")


def html_to_text(html: str) -> str:
    """A page as markdown: headings, lists, code and links kept; scripts, styles and navigation dropped."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(list(_NOISE)):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    text = markdownify(str(soup), heading_style="ATX", strip=["img"])
    lines = [line.rstrip() for line in text.splitlines()]
    compact: list[str] = []
    for line in lines:  # runs of blank lines (layout divs) become one
        if line or (compact and compact[-1]):
            compact.append(line)
    body = "\n".join(compact).strip()
    return f"# {title}\n\n{body}" if title and title not in body[:200] else body


async def _get(client: httpx.AsyncClient, url: str, params: dict[str, str] | None = None) -> httpx.Response:
    """GET with the body read up to MAX_BODY_BYTES; refusals and network failures become ToolErrors."""
    try:
        async with client.stream("GET", url, params=params, headers=_HEADERS) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_BODY_BYTES:
                    break
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                content=b"".join(chunks)[:MAX_BODY_BYTES],
                request=response.request,
            )
    except EndpointError as exc:
        raise ToolError(f"{exc}. Use a public web address.") from None
    except httpx.TooManyRedirects:
        raise ToolError(f"{url}: too many redirects") from None
    except httpx.HTTPError as exc:
        raise ToolError(f"{url}: could not fetch it ({type(exc).__name__}: {exc})") from None


def _decoded(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    text = response.content.decode(response.encoding or "utf-8", errors="replace")
    if kind in ("text/html", "application/xhtml+xml") or (not kind and "<html" in text[:500].lower()):
        return html_to_text(text)
    if kind.startswith("text/") or kind.endswith(("json", "xml", "javascript")) or not kind:
        return text
    raise ToolError(f"{response.request.url} is {kind}, not text; web_fetch only reads text and HTML pages")


class WebFetchTool(Tool):
    name = "web_fetch"
    description = "Read a web page (http/https) as text: its headings, text, code and links."
    Args = WebFetchArgs

    async def run(self, args: WebFetchArgs, ctx: ToolContext) -> ToolOutput:
        url = args.url.strip()
        if "://" not in url:
            url = "https://" + url
        allow = ctx.settings.web_allow_private
        async with guarded_client(allow, allow_loopback=allow, timeout=TIMEOUT) as client:
            response = await _get(client, url)
        if response.status_code >= 400:
            raise ToolError(f"{url}: the server answered HTTP {response.status_code}")
        text = _decoded(response).strip() or "(the page has no text)"
        final = str(response.request.url)
        return ToolOutput(text=(f"[{final}]\n" if final != url else "") + text)


class WebSearchTool(Tool):
    name = "web_search"
    description = "Search the web; answers titles, URLs and snippets (read a result with web_fetch)."
    Args = WebSearchArgs

    async def run(self, args: WebSearchArgs, ctx: ToolContext) -> ToolOutput:
        endpoint = ctx.settings.web_search_url
        if not endpoint:
            raise ToolError(
                "web_search has no search endpoint (the user sets SMALLCODE_WEB_SEARCH_URL to a SearXNG "
                "instance); use web_fetch on a URL you know instead"
            )
        # The endpoint is the user's own choice (a local SearXNG is common): loopback and LAN are fine.
        async with guarded_client(True, allow_loopback=True, timeout=TIMEOUT) as client:
            response = await _get(client, endpoint, {"q": args.query, "format": "json"})
        if response.status_code >= 400:
            raise ToolError(
                f"the search endpoint answered HTTP {response.status_code} (SearXNG needs `json` in "
                "search.formats of its settings.yml)"
            )
        try:
            data: Any = json.loads(response.content)
        except ValueError:
            raise ToolError(
                "the search endpoint did not answer JSON (is it a SearXNG /search URL?)"
            ) from None
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise ToolError("the search endpoint's answer has no `results` list")
        lines = []
        for item in results[:SEARCH_RESULTS]:
            if not isinstance(item, dict):
                continue
            title = " ".join(str(item.get("title") or "").split())
            snippet = " ".join(str(item.get("content") or "").split())[:300]
            lines.append(f"- {title}\n  {item.get('url', '')}\n  {snippet}".rstrip())
        return ToolOutput(text="\n".join(lines) or f"no results for {args.query!r}")


def web_tools() -> list[Tool]:
    return [WebFetchTool(), WebSearchTool()]
