"""Adaptive temperature (SMALLCODE_TEMP_ADAPT): a retry after a failed edit samples a little hotter.

At the base temperature a small model tends to produce the same failing edit again; raising it on retries
makes a different attempt likely. The schedule is deterministic so runs and tests are reproducible:
base, base+0.3, base+0.6, then stays there; capped at 1.0 (or at the base, if the user set it higher).
"""

from __future__ import annotations

from agent_core.config import Settings

STEPS = (0.0, 0.3, 0.6)
"""Added to the base temperature on the first try, the first retry, and every later retry."""
CAP = 1.0


def retry_temperature(base: float, failures: int, enabled: bool = True) -> float:
    """The temperature for a try after `failures` failed edits in a row (0 = first try)."""
    if not enabled or failures <= 0:
        return base
    offset = STEPS[min(failures, len(STEPS) - 1)]
    return round(min(base + offset, max(CAP, base)), 3)


class TemperatureSchedule:
    """Counts consecutive failed edits and gives the temperature for the next request."""

    def __init__(self, settings: Settings) -> None:
        self.base = settings.temperature
        self.enabled = settings.temp_adapt
        self.failures = 0
        self._hot_once = False

    def resample(self) -> None:
        """The next request is a new sample of an earlier prompt: drawn at the hottest retry step whatever the
        count (after progress the count is 0, and at the base temperature the sample would repeat the answer)."""
        self._hot_once = True

    def hot(self) -> float:
        """The temperature a resample is drawn at, without using up anything (samples asked beside a greedy
        answer in one request)."""
        return retry_temperature(self.base, len(STEPS) - 1, self.enabled)

    def edit_failed(self) -> None:
        self.failures += 1

    def edit_succeeded(self) -> None:
        self.failures = 0

    def current(self) -> float:
        """The temperature for the next request (a resample's floor is used up by asking)."""
        if self._hot_once:
            self._hot_once = False
            return self.hot()
        return retry_temperature(self.base, self.failures, self.enabled)
