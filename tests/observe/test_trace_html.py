"""`smallcode trace show ID --html` and `/trace html ID`: one self-contained page, the run's text escaped."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from agent_core import SmallCode
from agent_core.cli.main import main
from agent_core.commands import execute_command
from agent_core.observe.trace import traces_dir

EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


def write_trace(root: Path) -> str:
    trace_id = "20260101-120000-a1b2c3"
    entries = [
        {"type": "run_start", "task": f"fix it {EVIL}", "model": "m", "base_url": "http://x/v1", "files": {}},
        {
            "type": "turn", "n": 1, "ms": 812, "offered": ["read_file", "patch"],
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": EVIL}],
            "reply": {"content": f"I will read it {EVIL}", "reasoning": "", "native_tool_calls": []},
            "calls": [{"name": "read_file", "arguments": {"path": "a.py"}}], "parse_errors": [],
            "usage": {"prompt_tokens": 1234, "completion_tokens": 56, "total_tokens": 1290},
            "finish_reason": "stop",
        },
        {"type": "tool", "name": "read_file", "arguments": {"path": "a.py"}, "ok": False, "ms": 3,
         "output": f"no such file {EVIL}"},
        {"type": "check", "files": ["a.py"], "status": "failed", "summary": "1 failed, 2 passed"},
        {"type": "run_end", "result": {"success": False, "response": f"gave up {EVIL}",
                                       "usage": {"prompt_tokens": 1234, "completion_tokens": 56,
                                                 "total_tokens": 1290}}},
    ]  # fmt: skip
    path = traces_dir(root) / f"{trace_id}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return trace_id


def check_page(page: str) -> None:
    parser = Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert not any(a.startswith("on") for a in parser.attrs)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "src=" not in page.replace("src=x", "")  # no outside resources
    for shown in (
        "turn 1",
        "812 ms",
        "1234 prompt",
        "56",
        "read_file",
        "failed",
        "1 failed, 2 passed",
        "patch",
    ):
        assert shown in page


def test_trace_show_html_escapes_the_runs_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace_id = write_trace(tmp_path)
    assert main(["trace", "show", trace_id, "--html", "--cwd", str(tmp_path)]) == 0
    out = Path(capsys.readouterr().out.strip())
    assert out == traces_dir(tmp_path) / f"{trace_id}.html"
    check_page(out.read_text())


async def test_slash_trace_html_and_test(tmp_path: Path) -> None:
    trace_id = write_trace(tmp_path)
    async with SmallCode(model="m", base_url="http://127.0.0.1:9/v1", cwd=tmp_path) as agent:
        done = await execute_command(agent, "trace", f"html {trace_id}")
        assert done.ok
        check_page(Path(done.data["path"]).read_text())
        refused = await execute_command(agent, "trace", f"test {trace_id}")
    assert not refused.ok and "older SmallCode" in refused.text  # this hand-written trace kept no files


def test_html_with_an_unknown_trace_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "show", "missing", "--html", "--cwd", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no trace match" in err and len(err.strip().splitlines()) == 1
