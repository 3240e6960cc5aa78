"""A partner's trend read from partner_months: the figures the recording functions keep, the
same after a move, and put back by a rebuild when the kept rows go wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select

from commhub.contacts.partner_months import PARTNER_MONTH_AGGREGATES
from commhub.reports import check_aggregates, partner_over_time, rebuild_aggregates
from commhub.store import Contact, ContactMonth, Partner, PartnerMonthCount
from tests.builders import World
from tests.contacts.test_partner_months import ANA, a_month_of_signals, assert_exact

ASKED = datetime(2027, 1, 20, 12, 0, tzinfo=UTC)  # the months: November, December, January
NOTHING = {"email": 0, "video": 0, "social": 0, "rss": 0}
Figures = list[tuple[dict[str, int], int]]


def figures(world: World, partner: str) -> Figures:
    with world.session() as session:
        found = session.scalar(select(Partner.id).where(Partner.name == partner))
        assert found is not None
        trend = partner_over_time(session, found, 3, now=ASKED)
    assert [m.start for m in trend.months] == [
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    ]  # fmt: skip
    return [(m.reached, m.engaged) for m in trend.months]


def test_the_trend_reads_the_kept_months_and_follows_a_move(world: World, tmp_path: Path) -> None:
    a_month_of_signals(world, tmp_path)
    assert figures(world, "Acme Partners") == [
        (NOTHING | {"video": 1, "rss": 1}, 2),
        (NOTHING, 0),
        (NOTHING | {"video": 1}, 0),
    ]
    assert figures(world, "Globex") == [(NOTHING, 0)] * 3
    with world.session() as session:
        ana = session.scalar(select(Contact).where(Contact.email_key == ANA))
        assert ana is not None
        ana.partner = session.scalar(select(Partner).where(Partner.name == "Globex"))
    assert figures(world, "Acme Partners") == [
        (NOTHING | {"rss": 1}, 1),
        (NOTHING, 0),
        (NOTHING, 0),
    ]
    assert figures(world, "Globex") == [
        (NOTHING | {"video": 1}, 1),
        (NOTHING, 0),
        (NOTHING | {"video": 1}, 0),
    ]


def test_a_rebuild_puts_back_what_the_exposures_and_events_say(
    world: World, tmp_path: Path
) -> None:
    a_month_of_signals(world, tmp_path)
    expected = figures(world, "Acme Partners")
    with world.session() as session:
        session.execute(delete(PartnerMonthCount))
        session.execute(delete(ContactMonth))
    assert figures(world, "Acme Partners") == [(NOTHING, 0)] * 3
    with world.session() as session:
        found = check_aggregates(session, PARTNER_MONTH_AGGREGATES)
        assert [len(check.mismatches) for check in found] == [5, 4]  # marks: ana's 3, bo's and cy's
        rebuild_aggregates(session, PARTNER_MONTH_AGGREGATES)
    assert figures(world, "Acme Partners") == expected
    assert_exact(world)
