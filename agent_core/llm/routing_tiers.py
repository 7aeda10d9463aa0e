"""Adaptive routing across model tiers: the primary model (SMALLCODE_MODEL), SMALLCODE_MODEL_MEDIUM and
SMALLCODE_MODEL_STRONG (on the primary's endpoint unless SMALLCODE_BASE_URL_MEDIUM / _STRONG say otherwise).

What decides is the failure rate of the last steps served for the primary model, by whichever tier served them
(the "ladder", kept across runs in .smallcode/reliability.json): with at least MIN_CALLS steps, above 0.3 the next
requests go to the medium model, above 0.6 to the strong one (to the medium one when no strong model is set).
The stronger model's successes bring the rate down, and the requests come back down a tier as it falls below
each threshold, so the primary model gets the work again once the hard part is over. Each model's own rate is
kept too (`model:NAME`), for /model and /stats. A tier whose server fails is left out for the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent_core.config import Settings
from agent_core.observe.reliability import Reliability, rate_text

MEDIUM_ABOVE = 0.3
STRONG_ABOVE = 0.6
ORDER = ("primary", "medium", "strong")


@dataclass(frozen=True)
class Tier:
    name: str
    """primary, medium or strong."""
    model: str | None
    base_url: str | None
    """None: the primary model's endpoint."""


@dataclass(frozen=True)
class Switch:
    """A change of tier: what the user is told and the trace records."""

    before: Tier
    after: Tier
    rate: float | None
    failed: int
    recent: int
    unavailable: str | None = None
    """Why the tier before is out (its server failed), when that is the reason."""

    @property
    def text(self) -> str:
        rate = rate_text(self.rate, self.failed, self.recent)
        if self.unavailable:
            why = f"the {self.before.name} model failed ({self.unavailable})"
        elif ORDER.index(self.after.name) > ORDER.index(self.before.name):
            why = f"failure rate {rate} is above {STRONG_ABOVE if self.after.name == 'strong' else MEDIUM_ABOVE}"
        else:
            why = f"failure rate recovered to {rate}"
        return f"routing: {why}; {self.after.model} ({self.after.name}) answers from now, not {self.before.model}"

    def payload(self) -> dict[str, Any]:
        return {
            "from": self.before.model,
            "to": self.after.model,
            "from_tier": self.before.name,
            "tier": self.after.name,
            "failure_rate": None if self.rate is None else round(self.rate, 3),
            "text": self.text,
        }


class TierRouter:
    """Which model answers the next request. One per agent (session); the rates persist in the workspace."""

    def __init__(self, reliability: Reliability) -> None:
        self.reliability = reliability
        self.current = "primary"
        self.unavailable: dict[str, str] = {}
        """Tiers left out for this session, with why (their server failed)."""

    @staticmethod
    def tiers(settings: Settings) -> dict[str, Tier]:
        """The configured tiers: the primary always, medium and strong when set to another model or server."""
        primary = Tier("primary", settings.model, None)
        found = {"primary": primary}
        for name, model, url in (
            ("medium", settings.model_medium, settings.base_url_medium),
            ("strong", settings.model_strong, settings.base_url_strong),
        ):
            if model and (model != settings.model or (url and url != settings.base_url)):
                found[name] = Tier(name, model, url if url and url != settings.base_url else None)
        return found

    @staticmethod
    def ladder(settings: Settings) -> str:
        return f"ladder:{settings.model or '(server default)'}"

    def wanted(self, settings: Settings) -> str:
        """The tier the ladder's failure rate asks for, among those configured and available."""
        usable = [n for n in self.tiers(settings) if n not in self.unavailable]
        rate = self.reliability.failure_rate(self.ladder(settings))
        if rate is None:
            return "primary"
        if rate > STRONG_ABOVE:
            for name in ("strong", "medium"):
                if name in usable:
                    return name
        if rate > MEDIUM_ABOVE and "medium" in usable:
            return "medium"
        return "primary"

    def choose(self, settings: Settings) -> tuple[Tier, Switch | None]:
        """The tier for the next request, and the switch when it differs from the last one's."""
        tiers = self.tiers(settings)
        before = tiers.get(self.current) or Tier(self.current, None, None)
        name = self.wanted(settings)
        self.current = name
        if name == before.name:
            return tiers[name], None
        recent = self.reliability.recent(self.ladder(settings))
        rate = self.reliability.failure_rate(self.ladder(settings))
        switch = Switch(
            before, tiers[name], rate, recent.count(False), len(recent), self.unavailable.get(before.name)
        )
        return tiers[name], switch

    def top(self, settings: Settings) -> str:
        """The strongest local tier available: cloud escalation waits until that one fails too."""
        usable = [n for n in self.tiers(settings) if n not in self.unavailable]
        return max(usable, key=ORDER.index)

    def record(self, settings: Settings, model: str, ok: bool, *, local: bool = True) -> None:
        outcomes = {f"model:{model}": ok}
        if local:  # a cloud step is not the ladder's: it says nothing about the local models
            outcomes[self.ladder(settings)] = ok
        self.reliability.record(outcomes)

    def drop(self, name: str, why: str) -> None:
        """Leave a tier out for this session (its server failed); the primary is never dropped."""
        if name != "primary":
            self.unavailable[name] = why

    def report(self, settings: Settings) -> dict[str, Any]:
        """For /model and /stats: the tiers, the current one, the ladder's and each model's failure rate."""
        ladder = self.reliability.summary("ladder").get(self.ladder(settings).split(":", 1)[1])
        return {
            "tier": self.current,
            "model": (self.tiers(settings).get(self.current) or Tier("primary", settings.model, None)).model,
            "tiers": {
                n: {
                    "model": t.model,
                    "base_url": t.base_url or settings.base_url,
                    "unavailable": self.unavailable.get(n),
                }
                for n, t in self.tiers(settings).items()
            },
            "routing_rate": ladder,
            "models": self.reliability.summary("model"),
        }


def report_lines(report: dict[str, Any]) -> list[str]:
    """The routing part of /model and /stats, for people."""
    lines = []
    tiers = report["tiers"]
    if len(tiers) > 1:
        shown = ", ".join(
            f"{n} {t['model']}" + (" (unavailable)" if t.get("unavailable") else "") for n, t in tiers.items()
        )
        ladder = report.get("routing_rate") or {}
        rate = rate_text(ladder.get("rate"), ladder.get("failed", 0), ladder.get("recent", 0))
        lines.append(
            f"tier: {report['tier']} ({report['model']}); tiers: {shown}; routing failure rate {rate}"
        )
    for name, entry in sorted(report["models"].items()):
        lines.append(f"  {name}: failure rate {rate_text(entry['rate'], entry['failed'], entry['recent'])}")
    return lines
