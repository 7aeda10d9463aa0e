"""`smallcode-lsp`: the SmallCode language server (stdio by default; `--tcp --port N` for TCP)."""

from __future__ import annotations

import argparse
import logging
import os
import sys


def _configure_logging(level: str) -> None:
    # stderr only: stdout carries the protocol. pygls' protocol logger would log every message: keep it quiet.
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in (
        "pygls",
        "pygls.protocol",
        "pygls.protocol.json_rpc",
        "pygls.server",
        "pygls.feature_manager",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def _protocol_stdout() -> object:
    """A private handle on fd 1 for the protocol; fd 1 itself then points at stderr, so nothing else (a stray
    print, a child process) can corrupt the protocol stream."""
    proto = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return proto


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smallcode-lsp", description=__doc__)
    parser.add_argument("--tcp", action="store_true", help="listen on TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument("--log-file", help="send the log (stderr) to this file instead")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("SMALLCODE_LSP_LOG", "INFO"),
        help="stderr log level (DEBUG, INFO, WARNING, ERROR)",
    )
    args = parser.parse_args(argv)
    if args.log_file:
        log = open(args.log_file, "ab", buffering=0)  # noqa: SIM115 - lives as long as the process
        os.dup2(log.fileno(), sys.stderr.fileno())
    _configure_logging(args.log_level)

    from lsp_server.app import create_server  # imported once logging goes to stderr only

    server = create_server()
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        server.start_io(sys.stdin.buffer, _protocol_stdout())  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
