"""`smallcode trace list | show ID [--html [--out FILE]] | export ID | test ID [--out FILE]`: the traces of
past runs (.smallcode/traces/), as text, as a self-contained HTML page, as JSON, or as a regression test."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent_core.cli.common import error
from agent_core.observe.trace import TraceNotFound, find_trace, list_traces, read_trace, traces_dir

ACTIONS = ("list", "show", "export", "test")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "trace",
        help="list, show (--html), export or turn into a test (test ID) the traces of past runs",
        description=__doc__,
    )
    p.add_argument("action", choices=ACTIONS, help="what to do")
    p.add_argument("id", nargs="?", help="trace id (or its unique start); default: the newest trace")
    p.add_argument("--html", action="store_true", help="show: write a self-contained HTML page")
    p.add_argument(
        "--out", help="show --html: the page (default .smallcode/traces/ID.html); test: the test file "
        "(default .smallcode/tests/test_trace_ID.py)"
    )  # fmt: skip
    p.add_argument("--cwd", default=argparse.SUPPRESS, help="project directory (default: current)")
    p.set_defaults(func=run)


def _resolve(cwd: Path, trace_id: str | None) -> Path:
    if trace_id is None:
        newest = list_traces(cwd)[:1]
        if not newest:
            raise TraceNotFound(f"no traces yet in {traces_dir(cwd)}")
        trace_id = str(newest[0]["id"])
    return find_trace(cwd, trace_id)


def run(args: argparse.Namespace) -> int:
    cwd = Path(args.cwd)
    if args.action == "list":
        traces = list_traces(cwd)
        if not traces:
            print(f"no traces yet in {traces_dir(cwd)}")
        for t in traces:
            status = "unfinished" if t["success"] is None else ("ok" if t["success"] else "failed")
            print(f"{t['id']}  {t['turns']} turns  {status}  {' '.join(str(t['task'] or '').split())[:80]}")
        return 0
    if args.html and args.action != "show":
        error("--html belongs to `trace show`")
        return 2
    try:
        path = _resolve(cwd, args.id)
    except TraceNotFound as exc:
        error(str(exc))
        return 2
    entries = read_trace(path)
    if args.action == "export":
        sys.stdout.write(json.dumps({"id": path.stem, "entries": entries}, ensure_ascii=False) + "\n")
        return 0
    if args.action == "show":
        return _show(cwd, path, entries, args)
    return _test(cwd, path, entries, args.out)


def _show(cwd: Path, path: Path, entries: list[dict], args: argparse.Namespace) -> int:  # type: ignore[type-arg]
    if args.html:
        from agent_core.observe.html import render_html

        out = Path(args.out) if args.out else path.with_suffix(".html")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_html(path.stem, entries), encoding="utf-8")
        print(out)
        return 0
    for e in entries:
        kind = e.get("type")
        if kind == "turn":
            calls = ", ".join(str(c.get("name")) for c in e.get("calls", [])) or "answer"
            tokens = (e.get("usage") or {}).get("total_tokens")
            print(f"turn {e.get('n')}: {calls} ({e.get('ms')} ms, {tokens} tokens)")
        elif kind == "tool":
            print(f"  {e.get('name')} {'ok' if e.get('ok') else 'failed'} ({e.get('ms')} ms)")
        elif kind == "check":
            print(f"  check: {e.get('status')} {e.get('summary', '')}")
        elif kind == "run_end":
            print(f"end: {'success' if (e.get('result') or {}).get('success') else 'failure'}")
    return 0


def _test(cwd: Path, path: Path, entries: list[dict], out: str | None) -> int:  # type: ignore[type-arg]
    from agent_core.observe.replay import ReplayError, case_from_trace, default_test_path, write_test

    try:
        case = case_from_trace(path.stem, entries)
    except ReplayError as exc:
        error(str(exc))
        return 1
    target = Path(out) if out else default_test_path(cwd, path.stem)
    write_test(case, target)
    print(target)
    print(f"run it with: python -m pytest {target}", file=sys.stderr)
    return 0
