"""Relevance per audience over the last six months: the votes on what the editions started
each month (in UTC) carried to each audience, a message's last vote counting, read in one
query from the figures kept as the votes came in (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from commhub.delivery.outbox import OutboxBackend
from commhub.reports import RELEVANCE_TREND_COLUMNS, relevance_over_time
from commhub.tracking import record_vote
from tests.builders import NOW, World
from tests.sql_statements import statements

ANA, BEN, CY = "ana@p.example", "ben@p.example", "cy@p.example"
MAY = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)  # before the six months up to NOW
JULY_END = datetime(2026, 7, 31, 23, 30, tzinfo=UTC)  # July in UTC (August further east)
SEPTEMBER = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)


def send_at(world: World, tmp_path: Path, when: datetime, *items: tuple[str, list[str]]) -> int:
    """An edition of "news" started at `when`, carrying these new items (slug, audiences)."""
    world.clock.current = when
    for slug, audiences in items:
        world.item(slug, audiences, published=when.replace(day=1, hour=0, minute=0))
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    return edition_id


def vote(world: World, edition_id: int, email: str, item: str, answer: str, at: datetime) -> None:
    """A vote through the item's link in the contact's message, as the vote route records it."""
    with world.session() as session:
        owner, link_id, link = world.item_link(session, edition_id, email, item)
        record_vote(session, owner, link_id, link, answer, at)


def test_votes_count_per_audience_in_the_month_their_edition_started(
    world: World, tmp_path: Path
) -> None:
    world.series(audiences=["sales", "marketing"])
    world.contact(ANA, ["sales"])
    world.contact(BEN, ["marketing"])
    world.contact(CY, ["sales", "marketing"])
    may = send_at(world, tmp_path, MAY, ("may-news", ["sales"]))
    vote(world, may, ANA, "may-news", "yes", MAY)  # before the six months: left out
    july = send_at(
        world, tmp_path, JULY_END, ("july-deals", ["sales"]), ("july-both", ["sales", "marketing"])
    )
    vote(world, july, ANA, "july-deals", "yes", JULY_END)
    vote(world, july, ANA, "july-both", "no", JULY_END)
    # Cy's message carried july-both to both of Cy's audiences: the vote counts for each.
    vote(world, july, CY, "july-both", "yes", JULY_END)
    vote(world, july, BEN, "july-both", "yes", JULY_END)
    september = send_at(world, tmp_path, SEPTEMBER, ("sept-promo", ["sales"]))
    vote(world, september, ANA, "sept-promo", "yes", SEPTEMBER)
    vote(world, september, CY, "sept-promo", "yes", SEPTEMBER)
    # Ana changes her mind on July's deals in September: the last vote counts, in July.
    vote(world, july, ANA, "july-deals", "no", SEPTEMBER)

    with world.session() as session, statements(world.runtime.engine) as run:
        trend = relevance_over_time(session, now=NOW)
    assert len(run) == 1

    assert trend.months == tuple(datetime(2026, m, 1, tzinfo=UTC) for m in range(6, 12))
    marketing, sales = trend.audiences  # by name
    assert (marketing.slug, marketing.name, sales.slug, sales.name) == (
        "marketing", "Marketing", "sales", "Sales",
    )  # fmt: skip
    assert sales.yes == (0, 1, 0, 2, 0, 0)
    assert sales.no == (0, 2, 0, 0, 0, 0)
    assert sales.relevance == (None, 1 / 3, None, 1.0, None, None)
    assert marketing.yes == (0, 2, 0, 0, 0, 0)
    assert marketing.relevance == (None, 1.0, None, None, None, None)

    rows = trend.rows()
    assert all(list(row) == RELEVANCE_TREND_COLUMNS for row in rows)
    assert {"audience": "sales", "month": "2026-07", "yes": 1, "no": 2, "relevance": 0.3333} in rows
    assert {"audience": "sales", "month": "2026-08", "yes": 0, "no": 0, "relevance": None} in rows
    assert len(rows) == 12

    # A month later, July has gone out of the six and September is still in.
    with world.session() as session:
        later = relevance_over_time(session, now=datetime(2027, 1, 2, tzinfo=UTC))
    (sales_later,) = later.audiences
    assert later.months[0] == datetime(2026, 8, 1, tzinfo=UTC)
    assert sales_later.yes == (0, 2, 0, 0, 0, 0)


def test_with_no_votes_there_is_no_audience_and_still_six_months(
    world: World, tmp_path: Path
) -> None:
    world.series(audiences=["sales"])
    world.contact(ANA, ["sales"])
    send_at(world, tmp_path, SEPTEMBER, ("sept-promo", ["sales"]))
    with world.session() as session:
        trend = relevance_over_time(session, now=NOW)
    assert trend.audiences == []
    assert trend.rows() == []
    assert len(trend.months) == 6
