"""What /cognition shows: the declared prompts (the agent's own, the project's in .smallcode/prompts/, and
any called this session) with their tier, cache and budget, and per prompt its calls, cache hits, failures
and tokens spent — all time (from .smallcode/cognition.db) and in this session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_core.cognition.runtime import Cognition
from agent_core.cognition.spec import PromptSpec, SpecError, load_spec

PACKAGE = Path(__file__).resolve().parents[1]


def declared_paths(root: Path) -> list[Path]:
    """The agent's own declared prompts (agent_core/*/prompts/*.toml), then the project's."""
    return sorted(PACKAGE.glob("*/prompts/*.toml")) + sorted((root / ".smallcode" / "prompts").glob("*.toml"))


def cognition_report(root: Path, runtime: Cognition | None = None) -> tuple[dict[str, Any], str]:
    specs: dict[str, PromptSpec] = {}
    broken: list[dict[str, str]] = []
    for path in declared_paths(root):
        try:
            spec = load_spec(path)
        except SpecError as exc:
            broken.append({"path": str(path), "error": str(exc)})
            continue
        specs.setdefault(spec.name, spec)
    for name, spec in (runtime.loaded if runtime is not None else {}).items():
        specs.setdefault(name, spec)
    stored = runtime.store.summary() if runtime is not None else {}
    session = runtime.stats if runtime is not None else {}
    prompts = []
    for name in sorted({*specs, *stored}):
        found = specs.get(name)
        totals = stored.get(name, {})
        mine = session.get(name)
        prompts.append(
            {
                "name": name,
                "path": str(found.path) if found else None,
                "description": found.description if found else "",
                "tier": found.tier if found else None,
                "cache_ttl": found.cache_ttl if found else None,
                "budget": {"call": found.budget_call, "session": found.budget_session} if found else None,
                "total": totals,
                "session": {
                    "calls": mine.calls,
                    "hits": mine.hits,
                    "failures": mine.failures,
                    "tokens": mine.usage.total_tokens,
                }
                if mine
                else None,
            }
        )
    data = {"prompts": prompts, "broken": broken, "store": str(runtime.store.path) if runtime else None}
    return data, _text(prompts, broken)


def _text(prompts: list[dict[str, Any]], broken: list[dict[str, str]]) -> str:
    if not prompts and not broken:
        return "no declared prompts (put one in .smallcode/prompts/NAME.toml)"
    lines = [f"declared prompts ({len(prompts)}):"]
    for p in prompts:
        t = p["total"] or {}
        tokens = t.get("prompt_tokens", 0) + t.get("completion_tokens", 0)
        budget = p["budget"] or {}
        limits = ", ".join(f"{v} per {k}" for k, v in budget.items() if v) or "no budget"
        cache = f"cache {p['cache_ttl']:g}s" if p["cache_ttl"] else "no cache"
        head = f"  {p['name']}: {p['tier'] or '?'} tier, {cache}, {limits}"
        lines.append(head + (f" — {p['description']}" if p["description"] else ""))
        lines.append(
            f"    {t.get('calls', 0)} calls, {t.get('hits', 0)} cache hits, {t.get('failures', 0)} failures, "
            f"{t.get('budget_stops', 0)} over budget, {t.get('repaired', 0)} repaired; spent {tokens} tokens"
            + (f"; this session {p['session']['tokens']}" if p["session"] else "")
        )
        if t.get("last_error"):
            lines.append(f"    last failure: {t['last_error']}")
    for b in broken:
        lines.append(f"  (not loaded) {b['error']}")
    return "\n".join(lines)
