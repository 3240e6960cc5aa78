"""The rule of seven's kept figures (tallies with their times, reach_cells, reach_weeks)
equal what the exposures and messages say, after a realistic mix of sends and exposures
recorded in and out of time order, and after a contact is forgotten."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select, update

from commhub.delivery.outbox import OutboxBackend
from commhub.store import Contact, ExposureTally, KeyMessage, Message, ReachCell
from commhub.tracking.aggregate import mismatches
from commhub.tracking.exposures import Seen, record_seen
from commhub.tracking.reach_figures import forget_contact_reach, record_targeted, week_of
from commhub.tracking.reach_recount import REACH_AGGREGATES
from tests.builders import World

FORMATS = ("email", "video", "social", "rss")


def build(world: World, tmp_path: Path) -> tuple[list[int], list[int], list[int]]:
    """Two key messages to sales, one to technical; five contacts; one edition sent."""
    world.series(audiences=["sales", "technical"])
    world.item("deal-reg", ["sales"], key_message="Deals")
    world.item("security", ["sales", "technical"], key_message="Security")
    world.item("roadmap", ["technical"], key_message="Roadmap")
    for n in range(5):
        world.contact(f"c{n}@p.example", ["sales"] if n % 2 else ["technical", "sales"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    with world.session() as session:
        contacts = list(session.scalars(select(Contact.id).order_by(Contact.id)))
        keys = list(session.scalars(select(KeyMessage.id).order_by(KeyMessage.id)))
        messages = list(session.scalars(select(Message.id).where(Message.edition_id == edition_id)))
    return contacts, keys, messages


def assert_kept(world: World) -> None:
    with world.session() as session:
        for aggregate in REACH_AGGREGATES:
            held, worked_out = aggregate.held(session), aggregate.recomputed(session)
            assert mismatches(aggregate.name, held, worked_out) == []


def mix(world: World, contacts: list[int], keys: list[int], seed: int) -> None:
    """Batches of exposures at random times over six weeks, some of them late."""
    rng = random.Random(seed)
    start = world.clock.now()
    source = 1000 * seed
    for _batch in range(25):
        seen = []
        for _n in range(rng.randint(1, 8)):
            source += 1
            when = start + timedelta(days=rng.uniform(-3, 42), seconds=source)
            seen.append(
                Seen(
                    rng.choice(contacts[:-1]),  # the last one is never exposed
                    rng.choice(keys),
                    rng.choice(FORMATS),
                    "post",
                    source,
                    when,
                )
            )
        if rng.random() < 0.3:  # the same exposure again: counts once
            seen.append(seen[0])
        with world.session() as session:
            record_seen(session, seen, start + timedelta(days=42))


def test_the_kept_figures_equal_the_recount_and_forget_a_contact(
    world: World, tmp_path: Path
) -> None:
    contacts, keys, messages = build(world, tmp_path)
    with world.session() as session:
        # Half the messages are recorded as sent before the exposures, half after.
        record_targeted(session, messages[::2], world.clock.now())
    mix(world, contacts, keys, 1)
    with world.session() as session:
        record_targeted(session, messages[1::2], world.clock.now())
        record_targeted(session, messages, world.clock.now())  # again: nothing new
    mix(world, contacts, keys, 2)
    assert_kept(world)
    with world.session() as session:
        held = REACH_AGGREGATES[0].held(session)
    assert any(figures[-1] for figures in held.values())  # someone met seven across three
    assert any(not any(figures[:4]) for figures in held.values())  # targeted, never seen
    # A late send, earlier than what targeted its contacts: they move to its week.
    with world.session() as session:
        early = world.clock.now() - timedelta(weeks=3)
        session.execute(update(Message).where(Message.id == messages[0]).values(sent_at=early))
    with world.session() as session:
        record_targeted(session, [messages[0]], world.clock.now())
        first = session.scalar(
            select(ExposureTally.targeted_at).where(ExposureTally.targeted_at == early)
        )
    assert first is not None
    assert week_of(first) == week_of(early)
    assert_kept(world)
    with world.session() as session:
        forget_contact_reach(session, contacts[1])
        session.execute(delete(Contact).where(Contact.id == contacts[1]))
    assert_kept(world)


def test_the_rebuild_puts_back_what_the_exposures_say(world: World, tmp_path: Path) -> None:
    contacts, keys, messages = build(world, tmp_path)
    with world.session() as session:
        record_targeted(session, messages, world.clock.now())
    mix(world, contacts, keys, 3)
    with world.session() as session:
        worked_out = [aggregate.recomputed(session) for aggregate in REACH_AGGREGATES]
        session.execute(update(ReachCell).values(contacts=ReachCell.contacts + 5))
        session.execute(update(ExposureTally).values(met_at=None))
    with world.session() as session:
        assert any(
            mismatches(a.name, a.held(session), a.recomputed(session)) for a in REACH_AGGREGATES
        )
        for aggregate, rows in zip(REACH_AGGREGATES, worked_out, strict=True):
            aggregate.replace(session, rows)
    assert_kept(world)
