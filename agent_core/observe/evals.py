"""Prompt evaluations (`smallcode eval`, `/eval`): how well each model, under each profile, picks tools and
keeps to the call format, measured on recorded replies with today's parser.

Sources:
- the recorded set: real replies of the embedded models with hand-reviewed expected calls (the `recorded`
  family of agent_core/bench/data/tool_corpus/, plus the workspace's .smallcode/tool_corpus/*.json);
- the workspace's traces: every model reply of past runs (no expected calls: format figures only).

Per reply: tool selection is right when every call parsed from it names a tool that is right at that point
of its task, or when it makes no call where a final answer is right (hand labels in
agent_core/bench/data/evals/tool_choice.json, or an `accept` list in a workspace case); a call attempt is parsed when it yields calls and no error
for the model; a repair was needed when the calls came out only thanks to the forgiving parser — a strict
reader (native calls, or ```json blocks / <tool_call> tags holding {"name", "arguments"} in plain JSON, with
the exact tool and argument names) gets something else. Groups: model × profile (the model's profile, its
tool-call format, and the tool set the model was offered).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from agent_core.llm.types import NativeToolCall
from agent_core.parsing import parse_reply

SOURCES: dict[str, tuple[str, ...]] = {
    "recorded": ("recorded",),
    "traces": ("traces",),
    "all": ("recorded", "traces"),
}
"""What `smallcode eval --source` and `/eval SOURCE` accept."""
_STRICT = re.compile(r"```json\s*\n(.*?)\n```|<tool_call>\s*(.*?)\s*</tool_call>", re.S)


@dataclass
class Sample:
    model: str
    tools_label: str
    tools: list[dict[str, Any]]
    reply: str
    native: list[dict[str, Any]]
    expected: list[dict[str, Any]] | None
    """The calls the parser should read from the reply (None: not known, as for traces)."""
    accept: list[str] | None
    """The right moves at that point: tool names, or "answer" (None: not labelled)."""
    source: str
    finish_reason: str | None = None
    reasoning: str = ""
    task: str | None = None


def recorded_samples(root: Path | None) -> list[Sample]:
    from agent_core.bench.tools_suite import load_cases, load_tool_sets

    tool_sets = load_tool_sets()
    labels = json.loads(
        (resources.files("agent_core.bench") / "data" / "evals" / "tool_choice.json").read_text()
    )
    extra = root / ".smallcode" / "tool_corpus" if root is not None else None
    out = []
    for case in load_cases(extra):
        if case.get("family") != "recorded" and not str(case.get("_file", "")).startswith(str(extra or "//")):
            continue
        words = str(case.get("source", "")).split()
        model = words[1] if len(words) > 1 and words[0] == "recorded" else (words[0] if words else "unknown")
        label = str(case.get("tools", "default"))
        out.append(
            Sample(
                model=model,
                tools_label=label,
                tools=tool_sets.get(label, tool_sets.get("default", [])),
                reply=str(case.get("reply", "")),
                native=list(case.get("native", [])),
                expected=list(case.get("expected", [])),
                accept=case.get("accept") or _label(labels, str(case.get("id", ""))),
                source=f"recorded:{case.get('id', Path(str(case.get('_file', '?'))).stem)}",
                finish_reason=case.get("finish_reason"),
                reasoning=str(case.get("reasoning", "")),
                task=case.get("task"),
            )
        )
    return out


def _label(labels: dict[str, Any], case_id: str) -> list[str] | None:
    if case_id in labels["by_case"]:
        return list(labels["by_case"][case_id])
    match = re.match(r"rec_[^_]+_(.+?)(?:_t\d+)?(?:_turn\d+)?$", case_id)
    return list(labels["by_task"][match.group(1)]) if match and match.group(1) in labels["by_task"] else None


def trace_samples(root: Path, limit: int = 200) -> list[Sample]:
    """Every model reply of the newest `limit` traces, parsed against the tools the agent has today."""
    from agent_core.observe.trace import read_trace, traces_dir
    from agent_core.tools import ToolRegistry, default_tools
    from agent_core.tools.plan_tools import plan_tools

    schemas = {s["function"]["name"]: s for s in ToolRegistry(default_tools() + plan_tools()).schemas()}
    out = []
    for path in sorted(traces_dir(root).glob("*.jsonl"), reverse=True)[:limit]:
        entries = read_trace(path)
        start = next((e for e in entries if e.get("type") == "run_start"), {})
        model = str(start.get("model") or "unknown")
        for e in entries:
            if e.get("type") != "turn":
                continue
            offered = [n for n in e.get("offered", []) if n in schemas]
            reply = e.get("reply") or {}
            out.append(
                Sample(
                    model=model,
                    tools_label=f"{len(offered)} tools" if offered else "all tools",
                    tools=[schemas[n] for n in offered] or list(schemas.values()),
                    reply=str(reply.get("content") or ""),
                    native=list(reply.get("native_tool_calls") or []),
                    expected=None,
                    accept=None,
                    source=f"trace:{path.stem}#{e.get('n')}",
                    finish_reason=e.get("finish_reason"),
                    reasoning=str(reply.get("reasoning") or ""),
                    task=start.get("task"),
                )
            )
    return out


def strict_calls(sample: Sample) -> list[dict[str, Any]]:
    """What a strict reader gets: native calls or plain-JSON envelopes, exact names, known arguments only."""
    specs = {t["function"]["name"]: t["function"].get("parameters", {}) for t in sample.tools}
    raw: list[tuple[Any, Any]] = []
    if sample.native:
        for n in sample.native:
            args = n.get("arguments", {})
            try:
                raw.append((n.get("name"), json.loads(args) if isinstance(args, str) else args))
            except ValueError:
                return []
    else:
        for match in _STRICT.finditer(sample.reply):
            try:
                obj = json.loads(match.group(1) or match.group(2))
            except ValueError:
                return []
            if not isinstance(obj, dict):
                return []
            raw.append((obj.get("name"), obj.get("arguments")))
    calls = []
    for name, args in raw:
        params = specs.get(name) if isinstance(name, str) else None
        if params is None or not isinstance(args, dict):
            return []
        known = set(params.get("properties", {}))
        if not set(args) <= known or not set(params.get("required", [])) <= set(args):
            return []
        calls.append({"name": name, "arguments": args})
    return calls


@dataclass
class Judged:
    sample: Sample
    calls: list[dict[str, Any]]
    errors: list[str]
    attempted: bool
    parsed: bool
    repaired: bool
    selection_right: bool | None


def judge(sample: Sample) -> Judged:
    native = [NativeToolCall.model_validate(n) for n in sample.native]
    outcome = parse_reply(
        sample.reply, native, sample.tools, reasoning=sample.reasoning,
        finish_reason=sample.finish_reason, task=sample.task,
    )  # fmt: skip
    calls = [{"name": c.name, "arguments": c.arguments} for c in outcome.calls]
    attempted = bool(calls or outcome.errors or sample.expected or sample.native)
    parsed = bool(calls) and not outcome.errors
    selection = None
    if sample.accept is not None:
        right = set(sample.accept) | {"choose_category"}  # routing: picking a category first is right
        selection = all(c["name"] in right for c in calls) if calls else "answer" in sample.accept
    return Judged(
        sample, calls, outcome.errors, attempted, parsed,
        repaired=bool(calls) and calls != strict_calls(sample), selection_right=selection,
    )  # fmt: skip


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def group_figures(rows: Iterable[Judged]) -> dict[str, Any]:
    rows = list(rows)
    labelled = [r for r in rows if r.selection_right is not None]
    tried = [r for r in rows if r.attempted]
    with_calls = [r for r in rows if r.calls]
    return {
        "replies": len(rows),
        "labelled": len(labelled),
        "tool_selection": _rate(sum(bool(r.selection_right) for r in labelled), len(labelled)),
        "attempts": len(tried),
        "parse_rate": _rate(sum(r.parsed for r in tried), len(tried)),
        "repairs": sum(r.repaired for r in with_calls),
        "repair_rate": _rate(sum(r.repaired for r in with_calls), len(with_calls)),
    }


def profile_label(model: str, tools_label: str, root: Path | None) -> str:
    from agent_core.llm.profiles import model_tier, profile_for

    profile = profile_for(model, root)
    return f"{profile.name}/{profile.tool_format}/{model_tier(model, profile)}, tools {tools_label}"


def evaluate(root: Path | None, sources: tuple[str, ...] = ("recorded", "traces")) -> dict[str, Any]:
    samples: list[Sample] = []
    if "recorded" in sources:
        samples += recorded_samples(root)
    if "traces" in sources and root is not None:
        samples += trace_samples(root)
    judged = [judge(s) for s in samples]
    groups: dict[tuple[str, str], list[Judged]] = {}
    for r in judged:
        key = (r.sample.model, profile_label(r.sample.model, r.sample.tools_label, root))
        groups.setdefault(key, []).append(r)
    rows = [
        {"model": model, "profile": profile, **group_figures(members)}
        for (model, profile), members in sorted(groups.items())
    ]
    misses = [
        {"source": r.sample.source, "model": r.sample.model, "right": r.sample.accept, "got": r.calls}
        for r in judged
        if r.selection_right is False
    ]
    return {
        "sources": list(sources),
        "total": {"model": "all", "profile": "", **group_figures(judged)},
        "groups": rows,
        "wrong_selections": misses,
    }


def save(result: dict[str, Any], root: Path) -> Path:
    path = root / ".smallcode" / "evals" / f"eval-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"saved_at": time.time(), **result}, indent=2), encoding="utf-8")
    return path


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def table(result: dict[str, Any]) -> str:
    head = f"{'model':<22} {'profile':<48} {'replies':>7} {'tool choice':>11} {'parsed':>7} {'repairs':>8}"
    lines = [head]
    for row in [*result["groups"], result["total"]]:
        repairs = f"{row['repairs']} ({_pct(row['repair_rate'])})" if row["repair_rate"] is not None else "–"
        choice = f"{_pct(row['tool_selection'])}" + (f" of {row['labelled']}" if row["labelled"] else "")
        lines.append(
            f"{row['model'][:22]:<22} {row['profile'][:48]:<48} {row['replies']:>7} {choice:>11} "
            f"{_pct(row['parse_rate']):>7} {repairs:>8}"
        )
    lines.append(
        "tool choice: replies that picked a right tool (or rightly answered), of the hand-labelled ones; "
        "parsed: call attempts that became calls without an error; repairs: replies whose calls only the "
        "forgiving parser recovered"
    )
    return "\n".join(lines)
