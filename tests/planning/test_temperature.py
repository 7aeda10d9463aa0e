"""The adaptive temperature schedule for retries after failed edits."""

from __future__ import annotations

import pytest

from agent_core.config import Settings
from agent_core.planning.temperature import TemperatureSchedule, retry_temperature


@pytest.mark.parametrize(
    ("base", "failures", "expected"),
    [
        (0.2, 0, 0.2),
        (0.2, 1, 0.5),
        (0.2, 2, 0.8),
        (0.2, 7, 0.8),
        (0.6, 2, 1.0),
        (0.0, 1, 0.3),
        (1.3, 2, 1.3),  # a user's high base is never lowered
    ],
)
def test_schedule(base: float, failures: int, expected: float) -> None:
    assert retry_temperature(base, failures) == expected


def test_disabled_keeps_the_base() -> None:
    assert retry_temperature(0.2, 3, enabled=False) == 0.2


def test_schedule_follows_failures_and_resets_on_success() -> None:
    schedule = TemperatureSchedule(Settings(temperature=0.1))
    seen = [schedule.current()]
    for _ in range(3):
        schedule.edit_failed()
        seen.append(schedule.current())
    assert seen == [0.1, 0.4, 0.7, 0.7]
    schedule.edit_succeeded()
    assert schedule.current() == 0.1
    off = TemperatureSchedule(Settings(temperature=0.1, temp_adapt=False))
    off.edit_failed()
    assert off.current() == 0.1
