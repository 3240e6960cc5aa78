"""A cadence that would run away, or never come round, is refused when it is read."""

from __future__ import annotations

import pytest

from commhub.scheduling.cadence import CadenceError, parse_cadence


@pytest.mark.parametrize(
    "text",
    [
        "cron: * * * * *",  # 575,940 editions a year
        "cron: */5 9-17 * * 1-5",
        "cron: 0,30 9 * * 1",
        "cron: 0,1 9 1 * *",
    ],
)
def test_a_cadence_firing_more_often_than_hourly_is_refused(text: str) -> None:
    with pytest.raises(CadenceError, match="at most once an hour"):
        parse_cadence(text)


@pytest.mark.parametrize(
    "text",
    ["cron: 0 9 * 2 1#5", "cron: 0 9 29 2 *", "cron: 0 9 31 2 *", "cron: 0 9 30 2 *"],
)
def test_a_cadence_whose_dates_a_years_plan_can_miss_is_refused(text: str) -> None:
    with pytest.raises(CadenceError, match=r"a year's plan could hold no edition|never falls"):
        parse_cadence(text)


@pytest.mark.parametrize(
    "text",
    ["cron: 0 * * * *", "cron: 0 9 1 1 *", "cron: 0 9,10 * * *", "cron: 0 9 * * 2#1"],
)
def test_hourly_and_yearly_cadences_are_fine(text: str) -> None:
    assert parse_cadence(text).text == text
