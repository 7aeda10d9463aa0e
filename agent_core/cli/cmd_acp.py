"""`smallcode acp`: SmallCode as an ACP agent (Agent Client Protocol, JSON-RPC over stdio) for editors' agent
panels (Zed, JetBrains IDEs, CodeCompanion, agent-shell). The server lives in the `acp_server` package; it is
loaded only when this command runs, so the agent library never depends on it."""

from __future__ import annotations

import argparse
import importlib


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "acp",
        help="serve the Agent Client Protocol on stdin/stdout (for Zed, JetBrains, CodeCompanion, agent-shell)",
        description="Run SmallCode as an ACP agent over stdio. The editor starts it and sends the project "
        "directory with each session; settings come from the environment and the project's .env as for "
        "`smallcode run`. Logs go to stderr.",
    )
    p.add_argument("--model", default=argparse.SUPPRESS, help="model name (overrides SMALLCODE_MODEL)")
    p.add_argument("--base-url", default=argparse.SUPPRESS, help="OpenAI-compatible endpoint URL")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    server = importlib.import_module("acp_server.main")
    code: int = server.main(overrides={"model": args.model, "base_url": args.base_url})
    return code
