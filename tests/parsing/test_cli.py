"""`smallcode parse-tools` as a user runs it: a real subprocess, a tools file, a reply on stdin or in a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent_core.bench import tools_suite

CLI = [sys.executable, "-c", "import sys; from agent_core.cli.main import main; sys.exit(main())"]


def _tools_file(tmp_path: Path) -> Path:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(tools_suite.load_tool_sets()["default"]), encoding="utf-8")
    return path


def _run(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(CLI + args, input=stdin, capture_output=True, text=True, timeout=60, check=False)


def test_reply_from_stdin(tmp_path: Path) -> None:
    reply = (
        'I\'ll read it.\n<tool_call>\n{"name": "read_file", "arguments": {"filepath": "a.py"}}\n</tool_call>'
    )
    proc = _run(["parse-tools", "--tools", str(_tools_file(tmp_path))], stdin=reply)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [{"name": "read_file", "arguments": {"path": "a.py"}}]


def test_reply_from_file_with_several_formats(tmp_path: Path) -> None:
    reply = tmp_path / "reply.txt"
    reply.write_text(
        "<function=bash><parameter=command>\nls\n</parameter></function>\n"
        '[TOOL_CALLS]write_file[ARGS]{"path": "b.txt", "content": "é"}',
        encoding="utf-8",
    )
    proc = _run(["parse-tools", "--tools", str(_tools_file(tmp_path)), str(reply)])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [
        {"name": "bash", "arguments": {"command": "ls"}},
        {"name": "write_file", "arguments": {"path": "b.txt", "content": "é"}},
    ]


def test_prose_gives_an_empty_list(tmp_path: Path) -> None:
    proc = _run(["parse-tools", "--tools", str(_tools_file(tmp_path))], stdin='For example: {"name": "bash"}')
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == []


def test_missing_tools_file_is_a_one_line_usage_error(tmp_path: Path) -> None:
    proc = _run(["parse-tools", "--tools", str(tmp_path / "nope.json")], stdin="x")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
