"""`smallcode` entry point: subcommands, or an interactive session when run alone."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Each subcommand lives in its own module (cmd_<name>.py) exposing `register(subparsers)`, which sets
# `func(args) -> int`.
SUBCOMMANDS = ["run", "parse_tools", "detect", "bench", "models", "trace", "eval", "scaffold", "acp"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _slash_help() -> str:
    from agent_core.commands import COMMANDS, NOT_YET

    rows = [f"  /{name:<10} {text}" for name, text in COMMANDS.items()]
    rows += [f"  /{name:<10} {text} (not available yet)" for name, text in NOT_YET.items()]
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smallcode",
        description=(
            "SmallCode: a coding agent that makes small local language models effective.\n"
            "Run alone in a project directory for an interactive session (type /help there)."
        ),
        epilog=(
            "Configuration: SMALLCODE_MODEL, SMALLCODE_BASE_URL and the other SMALLCODE_* settings come from\n"
            "flags, the environment, a .env file in the project, smallcode.toml, or your\n"
            "~/.config/smallcode/config.toml (in that order). The project's files may set the endpoint or weaken\n"
            "the sandbox only once you said yes to it on a terminal.\n"
            "With no SMALLCODE_BASE_URL an embedded local model is started.\n\n"
            "Interactive slash commands:\n" + _slash_help()
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cwd", default=".", help="project directory (workspace root); default: current")
    parser.add_argument("--model", help="model name (overrides SMALLCODE_MODEL)")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint (overrides SMALLCODE_BASE_URL)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"agent_core.cli.cmd_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"agent_core.cli.cmd_{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Warnings (e.g. "no sandbox for the shell") reach the user on stderr; stdout stays for results.
    logging.basicConfig(level=logging.WARNING, format="smallcode: %(message)s", stream=sys.stderr)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 for --help
        return int(exc.code or 0)
    if args.command is None:
        from agent_core.cli.interactive import run_interactive

        return run_interactive(args)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
