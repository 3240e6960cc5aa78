"""Expected recipients on the calendar and the dashboard: counted for every series in one pass,
kept while no contact or partner changes, and always what the editions' own rule counts
one series at a time."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select, update

from commhub.scheduling.agenda import RecipientCounter, series_audience_slugs
from commhub.store import Channel, Contact, ContactStatus, Partner, Series
from tests.builders import NOW, World

ROLES = ("sales", "technical", "marketing", "development", "executive")


def _series(world: World) -> None:
    world.series("everyone")
    world.series("sellers", ["sales"])
    world.series("builders", ["technical", "development"])
    world.series("gold-execs", ["executive"], partner_filter={"tiers": ["gold"]})
    world.series("video", ["marketing", "sales"], channel=Channel.VIDEO_DIGEST)


def _contacts(world: World, rng: random.Random, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        world.contact(
            f"c{i}@p{i % 4}.example",
            rng.sample(ROLES, rng.randint(1, 3)),
            partner=f"Partner {i % 4}",
            tier="gold" if i % 4 < 2 else "silver",
            status=ContactStatus.ACTIVE if i % 7 else ContactStatus.UNSUBSCRIBED,
            consent=bool(i % 5),
            opted_out_channels=["video_digest"] if i % 3 == 0 else [],
            paused_until=(NOW + timedelta(days=3)).date() if i % 11 == 0 else None,
        )


def _counts(world: World, grouped: bool) -> dict[str, int]:
    with world.session() as session:
        series = list(session.scalars(select(Series).order_by(Series.slug)))
        audiences = series_audience_slugs(session, {one.id for one in series})
        counter = RecipientCounter(session, NOW, series if grouped else ())
        return {
            one.slug: counter.count(
                tuple(({} if one.all_audiences else audiences.get(one.id, {})).values()), one
            )
            for one in series
        }


def test_one_pass_counts_what_each_series_counted_alone_would(world: World) -> None:
    _series(world)
    _contacts(world, random.Random(7), 60)
    one_by_one = _counts(world, grouped=False)
    assert _counts(world, grouped=True) == one_by_one
    # Not vacuous: the rules (roles, status, consent, opt-outs, pauses, tiers) all bite.
    assert len(set(one_by_one.values())) == len(one_by_one)
    assert 0 < one_by_one["gold-execs"] < one_by_one["everyone"] < 60


def test_the_counts_follow_every_change_of_contacts_and_partners(world: World) -> None:
    _series(world)
    rng = random.Random(11)
    _contacts(world, rng, 30)
    assert _counts(world, grouped=True) == _counts(world, grouped=False)
    _contacts(world, rng, 5, start=30)  # imported
    assert _counts(world, grouped=True) == _counts(world, grouped=False)
    with world.session() as session:  # a contact unsubscribes; a partner moves tier
        first = session.scalars(select(Contact).order_by(Contact.id)).first()
        assert first is not None
        first.status = ContactStatus.UNSUBSCRIBED
        session.execute(update(Partner).where(Partner.name == "Partner 2").values(tier="gold"))
    assert _counts(world, grouped=True) == _counts(world, grouped=False)
    with world.session() as session:  # one goes altogether
        gone = session.scalars(select(Contact).order_by(Contact.id.desc())).first()
        session.delete(gone)
    assert _counts(world, grouped=True) == _counts(world, grouped=False)
