"""The figures kept per group of messages as signals come in: once per message, a person's
opens only, the last vote, sent counted in and out, provider events, and a contact erased;
at every step exactly what the events say (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sender import installation_id
from commhub.editions.history import engagement_of
from commhub.reports import item_report, series_history
from commhub.store import Contact, GroupFigures, GroupItemFigures
from commhub.tracking import (
    MESSAGE_AGGREGATES,
    forget_contact_figures,
    mismatches,
    record_click,
    record_open,
    record_vote,
    unsubscribe,
)
from commhub.tracking.complaints import edition_rates
from commhub.tracking.message_figures import GROUP_COLUMNS
from commhub.tracking.provider_events import record_events
from tests.builders import NOW, World

ANA, BO, CY = "ana@acme.example", "bo@acme.example", "cy@acme.example"


def _sent(world: World, tmp_path: Path) -> int:
    edition_id = world.newsletter_to(ANA, BO, CY)
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    world.clock.current += timedelta(minutes=5)  # opens from now on are a person's
    return edition_id


def _signal(world: World, edition_id: int, email: str, what: str, answer: str = "") -> None:
    """As the tracking routes record it, on the price-update item's link."""
    with world.session() as session:
        owner, link_id, link = world.item_link(session, edition_id, email, "price-update")
        now = world.clock.now()
        if what == "open":
            record_open(session, owner, now, "198.51.100.7", "Mozilla/5.0")
        elif what == "proxy open":
            record_open(session, owner, now, "17.1.2.3", "Mozilla/5.0")
        elif what == "click":
            record_click(session, owner, link_id, link, now)
        elif what == "vote":
            record_vote(session, owner, link_id, link, answer, now)
        else:
            unsubscribe(session, owner, now, "link")
    world.clock.current += timedelta(minutes=1)


def _provider(world: World, edition_id: int, email: str, kind: str, n: int, **data: object) -> None:
    installation = installation_id(world.runtime.settings.secret_key)
    message_id = world.messages(edition_id)[email].id
    event = {
        "event": kind,
        "timestamp": int(NOW.timestamp()) + n,
        "sg_event_id": f"{kind}-{message_id}-{n}",
        "commhub_message_id": str(message_id),
        "commhub_installation": installation,
        **data,
    }
    with world.session() as session:
        record_events(session, [event], installation, world.clock.now())


def _exact(world: World) -> None:
    with world.session() as session:
        for aggregate in MESSAGE_AGGREGATES:
            held, worked_out = aggregate.held(session), aggregate.recomputed(session)
            assert mismatches(aggregate.name, held, worked_out) == [], aggregate.name


def _group(world: World, edition_id: int) -> dict[str, int]:
    with world.session() as session:
        row = session.execute(
            select(GroupFigures).where(GroupFigures.edition_id == edition_id)
        ).scalar_one()
        return {name: getattr(row, name) for name in GROUP_COLUMNS}


def test_each_message_counts_once_per_signal_and_the_last_vote_counts(
    world: World, tmp_path: Path
) -> None:
    edition_id = _sent(world, tmp_path)
    assert _group(world, edition_id)["sent"] == 3
    _signal(world, edition_id, ANA, "open")
    _signal(world, edition_id, ANA, "open")  # the same message: once
    _signal(world, edition_id, BO, "proxy open")  # a machine's: none
    _signal(world, edition_id, ANA, "click")
    _signal(world, edition_id, ANA, "click")
    _signal(world, edition_id, ANA, "vote", "no")
    _signal(world, edition_id, ANA, "vote", "yes")  # a changed mind: the last counts
    _signal(world, edition_id, BO, "vote", "yes")
    _signal(world, edition_id, CY, "vote", "no")
    for n in (1, 2):  # SendGrid's delivered, twice for Ana's message (two event ids)
        _provider(world, edition_id, ANA, "delivered", n)
    _provider(world, edition_id, BO, "delivered", 3)
    _provider(world, edition_id, CY, "open", 4, sg_machine_open=True)  # Apple's, not a person
    _provider(world, edition_id, CY, "bounce", 5, type="bounce", reason="no such user")
    _provider(world, edition_id, BO, "spamreport", 6)
    _provider(world, edition_id, BO, "open", 7)  # SendGrid's open of a person
    _signal(world, edition_id, ANA, "unsubscribe")
    _exact(world)

    assert _group(world, edition_id) == {
        "sent": 2,  # Cy's bounced: no longer sent
        "human_opens": 2,
        "clicks": 1,
        "delivered": 2,
        "bounces": 1,
        "unsubscribes": 1,
        "complaints": 1,
    }
    with world.session() as session:
        votes = session.execute(
            select(GroupItemFigures.clicks, GroupItemFigures.yes, GroupItemFigures.no).where(
                GroupItemFigures.edition_id == edition_id
            )
        ).one()
        assert tuple(votes) == (1, 2, 1)
        (reach,) = item_report(session)
        assert (reach.delivered, reach.human_opens, reach.clicks, reach.yes, reach.no) == (
            2, 2, 1, 2, 1,
        )  # fmt: skip
        (figures,) = series_history(session)
        assert (figures.delivered, figures.delivered_from) == (2, "delivered events")
        assert (figures.human_opens, figures.votes, figures.complaints) == (2, 3, 1)
        engagement = engagement_of(session, [edition_id])[edition_id]
        assert (engagement.opens, engagement.clicks, engagement.yes, engagement.no) == (2, 1, 2, 1)
        rate = edition_rates(session, [edition_id])[edition_id]
        assert (rate.complaints, rate.sent) == (1, 2)


def test_a_vote_recorded_late_does_not_overturn_a_later_one(world: World, tmp_path: Path) -> None:
    edition_id = _sent(world, tmp_path)
    _signal(world, edition_id, ANA, "vote", "yes")
    world.clock.current -= timedelta(minutes=30)  # a retried request, from before
    _signal(world, edition_id, ANA, "vote", "no")
    _exact(world)
    with world.session() as session:
        (reach,) = item_report(session)
        assert (reach.yes, reach.no) == (1, 0)


def test_an_erased_contact_leaves_the_figures_as_if_never_sent(
    world: World, tmp_path: Path
) -> None:
    edition_id = _sent(world, tmp_path)
    for email in (ANA, BO):
        _signal(world, edition_id, email, "open")
        _signal(world, edition_id, email, "click")
        _signal(world, edition_id, email, "vote", "yes")
    _provider(world, edition_id, ANA, "delivered", 1)
    with world.session() as session:
        ana = session.scalar(select(Contact.id).where(Contact.email == ANA))
        assert ana is not None
        forget_contact_figures(session, ana)
        session.execute(delete(Contact).where(Contact.id == ana))
    _exact(world)
    group = _group(world, edition_id)
    assert (group["sent"], group["human_opens"], group["clicks"], group["delivered"]) == (
        2,
        1,
        1,
        0,
    )
