"""Trace → regression test (`smallcode trace test ID`, `/trace test ID`).

A trace holds what a replay needs: the files at the run's start (observe/files.py), every model reply, the
settings and the context window in force, and what the run did (its tool calls, the final contents of the
files it changed). `case_from_trace` turns that into a case; `write_test` writes a pytest file carrying the
case; the test calls `replay`, which serves the replies from the scripted model server to a real agent
working on a copy of the files, and compares what it did with what the traced run did.
"""

from __future__ import annotations

import pprint
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_core.observe.files import final_files


class ReplayError(Exception):
    """The trace cannot become a test; the message says why, in one line."""


def case_from_trace(trace_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    start = next((e for e in entries if e.get("type") == "run_start"), None)
    end = next((e for e in reversed(entries) if e.get("type") == "run_end"), None)
    if start is None or end is None:
        raise ReplayError(f"trace {trace_id} has no complete run (it was cut off); record the run again")
    snapshot = start.get("files")
    if not isinstance(snapshot, dict) or "settings" not in end:
        raise ReplayError(
            f"trace {trace_id} was recorded by an older SmallCode that did not keep the starting files; "
            "record the run again"
        )
    files: dict[str, str | None] = dict(snapshot.get("files", {}))
    for entry in entries:  # files outside a partial snapshot, as the run first saw them
        if entry.get("type") == "file" and entry.get("path") not in files:
            files[entry["path"]] = entry.get("content") if entry.get("existed") else None
    unknown = [p for p, text in files.items() if text is None and _existed(entries, p)]
    if unknown:
        raise ReplayError(
            f"trace {trace_id}: the run used {', '.join(unknown[:3])}, too big or not text to keep in a trace"
        )
    replies = [_reply(e) for e in entries if e.get("type") == "turn"]
    result = end.get("result", {})
    return {
        "trace": trace_id,
        "task": start.get("task", ""),
        "model": end["settings"].get("model") or start.get("model") or "scripted-model",
        "settings": end["settings"],
        "context_window": end.get("context_window"),
        "files": {p: t for p, t in files.items() if t is not None},
        "replies": replies,
        "expect": {
            "tool_calls": [
                {"name": c.get("name"), "args": c.get("args"), "ok": c.get("ok")}
                for c in result.get("tool_calls", [])
            ],
            "files": end.get("files", {}),
            "success": result.get("success"),
        },
    }


def _existed(entries: list[dict[str, Any]], path: str) -> bool:
    return any(e.get("type") == "file" and e.get("path") == path and e.get("existed") for e in entries)


def _reply(turn: dict[str, Any]) -> dict[str, Any]:
    reply = turn.get("reply", {})
    usage = turn.get("usage") or {}
    return {
        "content": reply.get("content") or "",
        "reasoning": reply.get("reasoning") or "",
        "tool_calls": [
            {"id": c.get("id") or f"call_{i}", "name": c.get("name"), "arguments": c.get("arguments", "")}
            for i, c in enumerate(reply.get("native_tool_calls") or [])
        ],
        "usage": {
            "prompt_tokens": usage.get("prompt_tokens", 10),
            "completion_tokens": usage.get("completion_tokens", 1),
        },
        "finish_reason": turn.get("finish_reason"),
    }


TEMPLATE = '''"""Regression test written by `smallcode trace test {trace_id}` from the traced run:
    {task}
It replays that run's {turns} model replies (model {model}) through the scripted model server against the
files as they were when the run started, and checks that SmallCode does what it did then: the same tool
calls (names, arguments, outcome) and the same final contents of the files it changed."""

from agent_core.observe.replay import replay

CASE = {case}


def test_replay_{name}(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the run's checkpoints stay in tmp_path
    outcome = replay(CASE, tmp_path / "workspace")
    assert outcome.tool_calls == CASE["expect"]["tool_calls"], outcome.report()
    assert outcome.files == {{p: f["content"] for p, f in CASE["expect"]["files"].items()}}, outcome.report()
    too_big = {{p: f["sha256"] for p, f in CASE["expect"]["files"].items() if f["content"] is None}}
    assert {{p: outcome.hashes[p] for p in too_big}} == too_big, outcome.report()
    assert outcome.success == CASE["expect"]["success"], outcome.report()
'''


def render_test(case: dict[str, Any]) -> str:
    name = re.sub(r"\W", "_", case["trace"])
    return TEMPLATE.format(
        trace_id=case["trace"],
        task=" ".join(str(case["task"]).split())[:200],
        turns=len(case["replies"]),
        model=case["model"],
        case=pprint.pformat(case, width=110, sort_dicts=False),
        name=name,
    )


def default_test_path(root: Path, trace_id: str) -> Path:
    name = re.sub(r"\W", "_", trace_id)
    return root / ".smallcode" / "tests" / f"test_trace_{name}.py"


def write_test(case: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_test(case), encoding="utf-8")
    return out


@dataclass
class Outcome:
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str | None] = field(default_factory=dict)
    hashes: dict[str, str | None] = field(default_factory=dict)
    success: bool | None = None
    response: str = ""
    requests: int = 0

    def report(self) -> str:
        calls = "\n".join(f"  {c['name']} {c['args']} ok={c['ok']}" for c in self.tool_calls) or "  (none)"
        return (
            f"the replayed run made {self.requests} model requests and these tool calls:\n{calls}\n"
            f"success={self.success}; response: {self.response[:300]}"
        )


def replay(case: dict[str, Any], root: Path) -> Outcome:
    """Run the case's task with a real agent on a copy of its files, the model's replies served in order."""
    from agent_core.agent import SmallCode
    from agent_core.config import Settings
    from agent_core.testing.scripted_server import ScriptedModelServer

    root.mkdir(parents=True, exist_ok=True)
    for rel, text in case["files"].items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    with ScriptedModelServer(list(case["replies"]), models=[case["model"]]) as server:
        # the recorded replies are served in order by one local model: no tier, cloud step or thinking cut
        # may ask for a reply of its own
        updates: dict[str, Any] = {"base_url": server.base_url, "model": case["model"], "cloud_max_calls": 0}
        updates.update(thinking_budget=0, model_medium=None, model_strong=None)
        if case.get("context_window"):
            updates["context"] = case["context_window"]
        settings = Settings.model_validate({**case["settings"], **updates})
        result = SmallCode(cwd=root, settings=settings).run_sync(case["task"])
        requests = len(server.requests)
    end = final_files(root, list(case["expect"]["files"]))
    return Outcome(
        tool_calls=[{"name": c.name, "args": c.args, "ok": c.ok} for c in result.tool_calls],
        files={rel: f["content"] for rel, f in end.items()},
        hashes={rel: f["sha256"] for rel, f in end.items()},
        success=result.success,
        response=result.response,
        requests=requests,
    )
