"""A small MCP server written with the official SDK, for tests: stdio by default, streamable HTTP with
`--http PORT` (prints `PORT <n>` on stdout once listening is about to start).

Tools: echo {text}, environment {} (the names of its environment variables, and its pid), big {size}. With
PID_FILE in its environment it writes its pid there when it starts.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from mcp.server.fastmcp import FastMCP

server = FastMCP("echo", log_level="WARNING")


@server.tool()
def echo(text: str) -> str:
    """Say the text back, with a marker."""
    return f"echo says: {text}"


@server.tool()
def environment() -> str:
    """This server's environment variables (names and values), process id and working directory."""
    env = {"names": sorted(os.environ), "values": sorted(os.environ.values())}
    return json.dumps({"pid": os.getpid(), "cwd": os.getcwd(), **env})


@server.tool()
def big(size: int = 20000) -> str:
    """A long result."""
    return "x" * size


def main() -> None:
    if os.environ.get("PID_FILE"):  # lets a test see that the server is stopped
        with open(os.environ["PID_FILE"], "w") as out:
            out.write(str(os.getpid()))
    if len(sys.argv) > 2 and sys.argv[1] == "--http":
        port = int(sys.argv[2])
        if port == 0:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        server.settings.host = "127.0.0.1"
        server.settings.port = port
        print(f"PORT {port}", flush=True)
        server.run("streamable-http")
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
