"""Cadences in words, as the series pages show them."""

from __future__ import annotations

import pytest

from commhub.scheduling.cadence_words import cadence_in_words, ordinal


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("monthly on day 15 at 09:00", "monthly on the 15th at 09:00"),
        ("monthly on day 1 at 9:00", "monthly on the 1st at 09:00"),
        ("monthly on the second tuesday at 09:00", "monthly on the second Tuesday at 09:00"),
        ("Monthly on the LAST friday at 16:30", "monthly on the last Friday at 16:30"),
        ("monthly on the last day at 17:00", "monthly on the last day at 17:00"),
        (
            "monthly on day 31 at 09:00",
            "monthly on the 31st (the last day in shorter months) at 09:00",
        ),
        ("weekly on monday at 08:30", "every Monday at 08:30"),
        ("weekly on monday, thursday at 08:30", "every Monday and Thursday at 08:30"),
        ("weekly on monday, wednesday and friday at 08:30",
         "every Monday, Wednesday and Friday at 08:30"),
        ("every 1 week on friday at 16:00", "every Friday at 16:00"),
        ("every 2 weeks on friday at 16:00", "every other Friday at 16:00"),
        ("every 3 weeks on tuesday at 10:00", "every 3 weeks on Tuesday at 10:00"),
        (
            "quarterly on the first monday at 10:00",
            "quarterly (January, April, July, October) on the first Monday at 10:00",
        ),
        ("quarterly on day 10 at 10:00",
         "quarterly (January, April, July, October) on the 10th at 10:00"),
    ],
)  # fmt: skip
def test_the_cadence_grammar_reads_as_words(text: str, words: str) -> None:
    assert cadence_in_words(text) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("cron: 0 9 * * 2#1", "monthly on the first Tuesday at 09:00"),
        ("cron: 0 9 * * 5#5", "monthly on the fifth Friday at 09:00"),
        ("cron: 30 8 * * 1-5", "every weekday (Monday to Friday) at 08:30"),
        ("cron: 0 9 * * 1,4", "every Monday and Thursday at 09:00"),
        ("cron: 0 9 * * 0", "every Sunday at 09:00"),
        ("cron: 0 9 * * 7", "every Sunday at 09:00"),
        ("cron: 0 9 1,15 * *", "monthly on the 1st and 15th at 09:00"),
        ("cron: 0 9 1 * 1", "monthly on the 1st or every Monday at 09:00"),
        ("cron: 0 9 1 1,7 *", "monthly on the 1st in January and July at 09:00"),
        ("cron: 15 9,17 * * *", "every day at 09:15 and 17:15"),
        ("cron: 0 */2 * * *", "every day every 2 hours at :00"),
        ("cron: 0 * * * 1", "every Monday every hour at :00"),
    ],
)
def test_cron_reads_as_words(text: str, words: str) -> None:
    assert cadence_in_words(text) == words


@pytest.mark.parametrize(
    "text", ["", "now and then", "monthly on day 32 at 09:00", "cron: * * * * *"]
)
def test_a_text_that_is_no_cadence_comes_back_as_it_is(text: str) -> None:
    assert cadence_in_words(text) == text


@pytest.mark.parametrize(
    ("number", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (22, "22nd"), (23, "23rd"), (31, "31st")],
)  # fmt: skip
def test_ordinals(number: int, text: str) -> None:
    assert ordinal(number) == text
