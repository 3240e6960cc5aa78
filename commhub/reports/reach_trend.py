"""The rule of seven over time: per key message, at each of the last weeks' ends, the share
of the contacts it was meant for who had seen it seven times across three formats by then.

Read from reach_weeks, which tracking keeps as messages go out and exposures come in: per
key message and week, the contacts first targeted that week (the first message carrying the
key message to one of their roles, or their first exposure to it) and those who met seven
across three that week. The running totals are summed here: at the last week's end the
targeted are the contacts reach_report counts. Another rule than seven across three (asked
for by a caller) is counted from the exposures and their times, in one more query.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Select, Subquery, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from commhub.store import Exposure, ExposureTally, KeyMessage, ReachWeek
from commhub.tracking import FORMATS, SEVEN, THREE

WEEKS = 12
REACH_TREND_COLUMNS = ["key_message", "week_end", "targeted", "seven_across_three", "share"]


@dataclass(frozen=True)
class KeyMessageTrend:
    """One key message, week by week: the contacts targeted by each week's end, and those
    of them at seven exposures across three formats by then."""

    key_message: str
    targeted: tuple[int, ...]
    reached: tuple[int, ...]

    @property
    def shares(self) -> tuple[float | None, ...]:
        """The share at seven across three at each week's end; None before it was sent."""
        return tuple(r / t if t else None for r, t in zip(self.reached, self.targeted, strict=True))

    @property
    def sent(self) -> bool:
        """Whether anyone had been targeted by the last week's end."""
        return bool(self.targeted and self.targeted[-1])


@dataclass(frozen=True)
class ReachTrend:
    """The weeks' ends (Mondays 00:00 UTC, oldest first) and each key message's line."""

    week_ends: tuple[datetime, ...]
    key_messages: list[KeyMessageTrend]
    seven: int = SEVEN
    three: int = THREE

    @property
    def sent(self) -> list[KeyMessageTrend]:
        """The key messages sent to someone by the last week's end: the chart's lines."""
        return [line for line in self.key_messages if line.sent]

    def rows(self) -> list[dict[str, object]]:
        """One flat row per key message and week (REACH_TREND_COLUMNS); the share blank
        for a week before the key message was sent."""
        return [
            {
                "key_message": line.key_message,
                "week_end": end.date().isoformat(),
                "targeted": targeted,
                "seven_across_three": reached,
                "share": None if share is None else round(share, 4),
            }
            for line in self.key_messages
            for end, targeted, reached, share in zip(
                self.week_ends, line.targeted, line.reached, line.shares, strict=True
            )
        ]


def week_ends(now: datetime, weeks: int = WEEKS) -> tuple[datetime, ...]:
    """The last `weeks` Mondays at 00:00 UTC up to now (now itself if it is one), oldest
    first."""
    if weeks < 1:
        raise ValueError(f"weeks must be 1 or more, not {weeks}")
    day = now.astimezone(UTC).date()
    last = datetime.combine(day - timedelta(days=day.weekday()), time(), UTC)
    return tuple(last - timedelta(weeks=weeks - 1 - n) for n in range(weeks))


def reach_over_time(
    session: Session,
    weeks: int = WEEKS,
    *,
    now: datetime,
    seven: int = SEVEN,
    three: int = THREE,
) -> ReachTrend:
    """Per key message (by text), at each of the last `weeks` week ends: the contacts
    targeted by then and those who had seen it `seven` times across `three` formats by
    then (exposures before the week's end). Two queries (three for another rule)."""
    if seven < 1 or three < 1:
        raise ValueError("seven and three must be 1 or more")
    ends = week_ends(now, weeks)
    texts: dict[int, str] = dict(session.execute(select(KeyMessage.id, KeyMessage.text)).all())
    targeted: dict[int, Counter[int]] = {}
    reached: dict[int, Counter[int]] = {}
    for key_id, week_of, newly_targeted, newly_met in session.execute(
        select(ReachWeek.key_message_id, ReachWeek.week_of, ReachWeek.targeted, ReachWeek.met)
    ):
        # A week counts at the first week end after its start (weeks before the first end
        # count there); the week still going on counts at none.
        week = bisect_right(ends, week_of)
        if week < len(ends):
            targeted.setdefault(key_id, Counter())[week] += newly_targeted
            reached.setdefault(key_id, Counter())[week] += newly_met
    if (seven, three) != (SEVEN, THREE):
        reached = _per_week(session, _rule_met(ends[-1], seven, three), ends)
    lines = [
        KeyMessageTrend(
            text,
            _running(targeted.get(key_id, Counter()), weeks),
            _running(reached.get(key_id, Counter()), weeks),
        )
        for key_id, text in texts.items()
    ]
    return ReachTrend(ends, sorted(lines, key=lambda line: line.key_message), seven, three)


def _running(per_week: Counter[int], weeks: int) -> tuple[int, ...]:
    """Counts per week (0 = by the first week's end) as running totals."""
    total, found = 0, []
    for week in range(weeks):
        total += per_week[week]
        found.append(total)
    return tuple(found)


def _per_week(
    session: Session, firsts: Select[tuple[int, int, datetime]], ends: tuple[datetime, ...]
) -> dict[int, Counter[int]]:
    """Key message id -> week -> how many (key message, contact) rows of `firsts` have their
    time before that week's end and not before the previous one's."""
    timed = firsts.subquery()
    week = case(*((timed.c.at < end, n) for n, end in enumerate(ends)), else_=None)
    # Bucketed in a subquery and grouped outside: PostgreSQL would not match the CASE's bound
    # times in a GROUP BY with those in the SELECT.
    bucketed = select(timed.c.key_id, week.label("week")).subquery()
    found: dict[int, Counter[int]] = {}
    for key_id, n, count in session.execute(
        select(bucketed.c.key_id, bucketed.c.week, func.count())
        .where(bucketed.c.week.is_not(None))
        .group_by(bucketed.c.key_id, bucketed.c.week)
    ):
        found.setdefault(int(key_id), Counter())[int(n)] += int(count)
    return found


def _rule_met(before: datetime, seven: int, three: int) -> Select[tuple[int, int, datetime]]:
    """(key message, contact, when the rule was met): the later of the time of their
    `seven`th exposure and of their first exposure in a `three`th format, before `before`.

    Only the pairs whose tally meets the rule now can have met it before (exposures are only
    ever added), so only their exposures are ranked: most contacts never get that far."""
    tally = [getattr(ExposureTally, fmt) for fmt in FORMATS]
    total = sum(tally, start=literal(0))
    formats = sum((case((column > 0, 1), else_=0) for column in tally), start=literal(0))
    met_now = (
        select(ExposureTally.key_message_id, ExposureTally.contact_id)
        .where(total >= seven, formats >= three)
        .subquery()
    )
    pair = (Exposure.key_message_id, Exposure.contact_id)
    candidates = (
        select(*pair, Exposure.format, Exposure.occurred_at.label("at"), Exposure.id)
        .join(
            met_now,
            (met_now.c.key_message_id == Exposure.key_message_id)
            & (met_now.c.contact_id == Exposure.contact_id),
        )
        .where(Exposure.occurred_at < before)
        .cte("candidates")
    )
    c = candidates.c
    by_pair = (c.key_message_id, c.contact_id)
    nth = func.row_number().over(partition_by=by_pair, order_by=(c.at, c.id))
    seventh = _nth(select(*by_pair, c.at, nth.label("n")).subquery(), seven)
    firsts = select(*by_pair, func.min(c.at).label("at")).group_by(*by_pair, c.format).subquery()
    in_order = func.row_number().over(
        partition_by=(firsts.c.key_message_id, firsts.c.contact_id), order_by=firsts.c.at
    )
    third = _nth(select(firsts, in_order.label("n")).subquery(), three)
    both = union_all(seventh, third).subquery()
    return (
        select(both.c.key_id, both.c.contact_id, func.max(both.c.at).label("at"))
        .group_by(both.c.key_id, both.c.contact_id)
        .having(func.count() == 2)  # both: the seventh exposure and the third format
    )


def _nth(ranked: Subquery, n: int) -> Select[tuple[int, int, datetime]]:
    """The `n`th row of each (key message, contact) in `ranked`: its time."""
    c = ranked.c
    return select(c.key_message_id.label("key_id"), c.contact_id, c.at).where(c.n == n)
