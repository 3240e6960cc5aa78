"""The trends: the rule of seven week by week per key message, and one partner month by month,
counted from exposures and events at their times, in a bounded number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from commhub.contacts.partner_months import record_engaged
from commhub.delivery.outbox import OutboxBackend
from commhub.errors import NotFound
from commhub.reports import (
    REACH_TREND_COLUMNS,
    month_starts,
    partner_over_time,
    reach_over_time,
    reach_report,
    week_ends,
)
from commhub.store import Contact, Event, KeyMessage, Partner
from commhub.tracking import record_exposures
from commhub.tracking.reach_figures import record_targeted
from commhub.wiring import Runtime
from tests.builders import World

DEALS = "Deal registration"
# NOW is Monday 23 Nov 2026, 09:00 UTC; asked on Tuesday 16 Feb 2027, the twelve week ends
# run from Monday 30 Nov 2026 to Monday 15 Feb 2027.
ASKED = datetime(2027, 2, 16, 14, 0, tzinfo=UTC)
WEEK_0 = datetime(2026, 11, 30, tzinfo=UTC)


def week(n: int, days: float = 0.5) -> datetime:
    """A time in the week that ends at week end n (days after the week end before it)."""
    return WEEK_0 + timedelta(weeks=n - 1, days=days)


def contact_id(world: World, email: str) -> int:
    with world.session() as session:
        found = session.scalar(select(Contact.id).where(Contact.email == email))
    assert found is not None
    return found


def key_id(world: World, text: str = DEALS) -> int:
    with world.session() as session:
        found = session.scalar(select(KeyMessage.id).where(KeyMessage.text == text))
    assert found is not None
    return found


class Exposures:
    """Records exposures for a world, each through a source of its own."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.sources = 0

    def __call__(self, email: str, fmt: str, *times: datetime, key: str = DEALS) -> None:
        person, key_message = contact_id(self.world, email), key_id(self.world, key)
        with self.world.session() as session:
            for when in times:
                self.sources += 1
                kind = {"email": "message", "rss": "feed_item"}.get(fmt, "post")
                record_exposures(session, person, [key_message], fmt, kind, self.sources, when)


@pytest.fixture
def sent(world: World, tmp_path: Path) -> Exposures:
    """Deal registration sent by email to ana and ben (sales) at NOW, before week end 0; a
    second key message never sent; cleo (technical) not sent it."""
    world.series(audiences=["sales"])
    world.item("deal-reg", ["sales"], key_message=DEALS)
    world.item("roadmap", ["technical"], key_message="Roadmap")
    world.contact("ana@acme.example", ["sales"])
    world.contact("ben@acme.example", ["sales"])
    world.contact("cleo@acme.example", ["technical"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    with world.session() as session:
        sent_ids = [message.id for message in world.messages(edition_id).values()]
        record_targeted(session, sent_ids, world.clock.now())
    return Exposures(world)


def test_week_ends_are_the_last_mondays_at_midnight_utc() -> None:
    ends = week_ends(ASKED)
    assert len(ends) == 12
    assert (ends[0], ends[-1]) == (WEEK_0, datetime(2027, 2, 15, tzinfo=UTC))
    assert all(end.weekday() == 0 and end.hour == 0 for end in ends)
    # A Monday at midnight is its own week end; a second later, still the same one.
    assert week_ends(WEEK_0, 2) == (WEEK_0 - timedelta(weeks=1), WEEK_0)
    assert week_ends(WEEK_0 + timedelta(seconds=1), 1) == (WEEK_0,)
    with pytest.raises(ValueError, match="weeks"):
        week_ends(ASKED, 0)


def test_the_share_at_seven_across_three_week_by_week(world: World, sent: Exposures) -> None:
    # ana: five emails in week 0, two videos in week 1 (seven, but in two formats), a social
    # post in week 3 (the third format): at seven across three from week 3.
    sent("ana@acme.example", "email", *(week(0, d) for d in (0.5, 1, 2, 3, 4)))
    sent("ana@acme.example", "video", week(1, 1), week(1, 2))
    sent("ana@acme.example", "social", week(3, 2))
    # ben: three formats early, but five exposures in all: never there.
    sent("ben@acme.example", "email", week(0), week(2), week(6))
    sent("ben@acme.example", "video", week(0, 2))
    sent("ben@acme.example", "social", week(1))
    # cleo was never sent it, but met it in a feed in week 5: targeted from then on.
    sent("cleo@acme.example", "rss", week(5))
    with world.session() as session:
        trend = reach_over_time(session, now=ASKED)
    assert trend.week_ends == week_ends(ASKED)
    assert [line.key_message for line in trend.key_messages] == [DEALS, "Roadmap"]
    deals, roadmap = trend.key_messages
    assert deals.targeted == (2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3)
    assert deals.reached == (0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1)
    assert deals.shares == (0, 0, 0, 0.5, 0.5, *[pytest.approx(1 / 3)] * 7)
    # Never sent: no share at all, rather than 0 %, and no line on the chart.
    assert roadmap.targeted == (0,) * 12
    assert roadmap.shares == (None,) * 12
    assert trend.sent == [deals]


def test_the_last_week_agrees_with_the_rule_of_seven_report(world: World, sent: Exposures) -> None:
    sent("ana@acme.example", "email", *(week(1, d) for d in (0.5, 1, 2, 3)))
    sent("ana@acme.example", "video", week(2), week(3))
    sent("ana@acme.example", "rss", week(4))
    sent("ben@acme.example", "email", week(2))
    sent("cleo@acme.example", "social", week(3))
    with world.session() as session:
        deals = reach_over_time(session, now=ASKED).key_messages[0]
        [reach] = [r for r in reach_report(session) if r.key_message == DEALS]
    assert (deals.targeted[-1], deals.reached[-1]) == (reach.targeted, reach.seven_across_three)
    assert (reach.targeted, reach.seven_across_three) == (3, 1)


def test_an_exposure_at_a_week_end_counts_from_the_next_one(world: World, sent: Exposures) -> None:
    sent("ana@acme.example", "email", *(week(0, d) for d in (1, 2, 3, 4, 5)))
    sent("ana@acme.example", "video", week(0, 6))
    sent("ana@acme.example", "social", WEEK_0 + timedelta(weeks=2))  # Monday 00:00 exactly
    with world.session() as session:
        deals = reach_over_time(session, 4, now=WEEK_0 + timedelta(weeks=3)).key_messages[0]
    assert deals.reached == (0, 0, 0, 1)


def test_seven_and_three_may_be_asked_for(world: World, sent: Exposures) -> None:
    sent("ana@acme.example", "email", week(0), week(2))
    sent("ben@acme.example", "email", week(1))
    sent("ben@acme.example", "video", week(3))
    then = WEEK_0 + timedelta(weeks=3)  # week ends 0 to 3
    with world.session() as session:
        twice = reach_over_time(session, 4, now=then, seven=2, three=1).key_messages[0]
        formats = reach_over_time(session, 4, now=then, seven=1, three=2).key_messages[0]
        later = reach_over_time(session, 4, now=ASKED, seven=2, three=1).key_messages[0]
    # Twice in any format: ana by week end 2, ben by week end 3; two formats: ben alone.
    assert twice.reached == (0, 0, 1, 2)
    assert formats.reached == (0, 0, 0, 1)
    # Asked in week 11 for four weeks: all of it happened by the first of them.
    assert later.reached == (2, 2, 2, 2)
    with world.session() as session, pytest.raises(ValueError, match="1 or more"):
        reach_over_time(session, now=ASKED, seven=0)


def test_the_rows_for_the_download(world: World, sent: Exposures) -> None:
    sent("ana@acme.example", "email", week(0))
    with world.session() as session:
        rows = reach_over_time(session, 2, now=ASKED).rows()
    assert [list(row) for row in rows] == [REACH_TREND_COLUMNS] * 4
    assert rows[:2] == [
        {"key_message": DEALS, "week_end": "2027-02-08", "targeted": 2,
         "seven_across_three": 0, "share": 0.0},
        {"key_message": DEALS, "week_end": "2027-02-15", "targeted": 2,
         "seven_across_three": 0, "share": 0.0},
    ]  # fmt: skip
    assert rows[2]["key_message"] == "Roadmap"
    assert rows[2]["share"] is None


@contextmanager
def counting(runtime: Runtime) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)


def test_a_bounded_number_of_queries_however_many_weeks_and_key_messages(
    world: World, sent: Exposures
) -> None:
    sent("ana@acme.example", "email", week(0))
    with world.session() as session, counting(world.runtime) as few:
        reach_over_time(session, 2, now=ASKED)
    for n in range(5):
        world.item(f"more-{n}", ["sales"], key_message=f"Message {n}")
        sent("ben@acme.example", "video", week(n), key=f"Message {n}")
    with world.session() as session, counting(world.runtime) as many:
        assert len(reach_over_time(session, 26, now=ASKED).key_messages) == 7
    assert len(few) == len(many) <= 3


# -- One partner, month by month -----------------------------------------------------------


def partner_id(world: World, name: str) -> int:
    with world.session() as session:
        found = session.scalar(select(Partner.id).where(Partner.name == name))
    assert found is not None
    return found


def acted(world: World, email: str, kind: str, when: datetime, **data: object) -> None:
    """An open or click event of the contact's, as tracking records it (a person's bumps
    the partner's months)."""
    person = contact_id(world, email)
    with world.session() as session:
        session.add(
            Event(
                kind=kind, contact_id=person, format="email", occurred_at=when, data=dict(data),
            )
        )  # fmt: skip
        if kind in ("open", "click") and not any(data.values()):
            record_engaged(session, [(person, when)])


@pytest.fixture
def partners(world: World) -> Exposures:
    world.item("deal-reg", ["sales"], key_message=DEALS)
    world.contact("ana@acme.example", ["sales"])
    world.contact("ben@acme.example", ["sales"])
    world.contact("cleo@globex.example", ["sales"], partner="Globex")
    return Exposures(world)


def test_month_starts_are_calendar_months_in_the_zone() -> None:
    assert month_starts(ASKED, 3) == [
        datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC),
    ]  # fmt: skip
    tokyo = ZoneInfo("Asia/Tokyo")
    # 31 Jan, 20:00 UTC is already February in Tokyo.
    starts = month_starts(datetime(2027, 1, 31, 20, tzinfo=UTC), 1, tokyo)
    assert starts == [datetime(2027, 2, 1, tzinfo=tokyo), datetime(2027, 3, 1, tzinfo=tokyo)]
    with pytest.raises(ValueError, match="months"):
        month_starts(ASKED, 0)


def test_a_partners_contacts_reached_per_format_and_month(
    world: World, partners: Exposures
) -> None:
    nov, dec, feb = (datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC),
                     datetime(2027, 2, 2, tzinfo=UTC))  # fmt: skip
    partners("ana@acme.example", "email", nov, nov + timedelta(days=5))  # once in November
    partners("ben@acme.example", "email", nov)
    partners("ana@acme.example", "video", dec)
    partners("ben@acme.example", "rss", feb, feb + timedelta(days=1))
    partners("ana@acme.example", "email", datetime(2026, 8, 31, tzinfo=UTC))  # too long ago
    partners("cleo@globex.example", "email", nov)  # another partner's
    acted(world, "ana@acme.example", "open", nov)
    acted(world, "ana@acme.example", "click", nov + timedelta(hours=1))  # the same person
    acted(world, "ben@acme.example", "open", nov, machine=True)  # a mail scanner's
    acted(world, "ben@acme.example", "open", dec, sg_machine_open=True)  # the provider's flag
    acted(world, "ben@acme.example", "click", feb)
    acted(world, "ben@acme.example", "vote", feb)  # not an open or a click
    acted(world, "cleo@globex.example", "open", dec)
    acme = partner_id(world, "Acme Partners")
    with world.session() as session:
        trend = partner_over_time(session, acme, now=ASKED)
    assert (trend.partner, trend.contacts, trend.anything) == ("Acme Partners", 2, True)
    assert [m.start for m in trend.months] == month_starts(ASKED)[:-1]
    assert [m.start.strftime("%b") for m in trend.months] == [
        "Sep", "Oct", "Nov", "Dec", "Jan", "Feb",
    ]  # fmt: skip
    by_month = [(m.reached, m.engaged) for m in trend.months]
    nothing = {"email": 0, "video": 0, "social": 0, "rss": 0}
    assert by_month == [
        (nothing, 0),
        (nothing, 0),
        (nothing | {"email": 2}, 1),
        (nothing | {"video": 1}, 0),
        (nothing, 0),
        (nothing | {"rss": 1}, 1),
    ]
    assert trend.months[2].in_format("email") == 2


def test_the_months_are_utc_months_the_zone_only_names_them(
    world: World, partners: Exposures
) -> None:
    late = datetime(2027, 1, 31, 20, 0, tzinfo=UTC)  # 1 February in Tokyo, January in UTC
    partners("ana@acme.example", "social", late)
    acme = partner_id(world, "Acme Partners")
    tokyo_zone, new_york = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
    with world.session() as session:
        utc = partner_over_time(session, acme, 2, now=ASKED)
        tokyo = partner_over_time(session, acme, 2, now=ASKED, zone=tokyo_zone)
        west = partner_over_time(session, acme, 2, now=ASKED, zone=new_york)
    for trend, zone in ((utc, UTC), (tokyo, tokyo_zone), (west, new_york)):
        assert [m.in_format("social") for m in trend.months] == [1, 0]
        assert [f"{m.start.astimezone(zone):%b %Y}" for m in trend.months] == [
            "Jan 2027", "Feb 2027",
        ]  # fmt: skip


def test_a_partner_with_nothing_yet_and_an_unknown_partner(
    world: World, partners: Exposures
) -> None:
    with world.session() as session:
        globex = partner_over_time(session, partner_id(world, "Globex"), now=ASKED)
        assert not globex.anything
        assert [m.engaged for m in globex.months] == [0] * 6
        with pytest.raises(NotFound):
            partner_over_time(session, 987654, now=ASKED)


def test_a_partners_trend_in_a_bounded_number_of_queries(world: World, partners: Exposures) -> None:
    acme = partner_id(world, "Acme Partners")
    with world.session() as session, counting(world.runtime) as few:
        partner_over_time(session, acme, 2, now=ASKED)
    for n in range(6):
        when = datetime(2026, 9 + n // 4, 1 + n, tzinfo=UTC)
        partners("ana@acme.example", ("email", "video", "social", "rss")[n % 4], when)
        acted(world, "ben@acme.example", "click", when)
    with world.session() as session, counting(world.runtime) as many:
        assert partner_over_time(session, acme, 12, now=ASKED).anything
    assert len(few) == len(many) <= 3
