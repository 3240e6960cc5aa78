"""contact_months and partner_months: kept exact through exposures, a person's opens and
clicks (the tracking routes' and the provider's), partner moves and erasure, and always equal
to what the exposures, events and contacts say (on SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from commhub.contacts.directory import import_contacts_file
from commhub.contacts.erasure import erase_contact
from commhub.contacts.partner_months import (
    PARTNER_MONTH_AGGREGATES,
    ContactMonthsAggregate,
    PartnerMonthsAggregate,
    record_months,
)
from commhub.store import Contact, ContactMonth, KeyMessage, Partner, PartnerMonthCount
from commhub.tracking import Aggregate, forget_contact, mismatches, record_exposures
from tests.builders import NOW, World
from tests.tracking.test_message_figures import ANA, BO, CY, _provider, _sent, _signal

NOV, JAN = datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
ACME = "Acme Partners"
Months = dict[tuple[str, datetime, str], int]  # (partner, month, what) -> contacts


def expose(world: World, email: str, fmt: str, when: datetime, source: int) -> None:
    """As the recording functions leave an exposure (a key message of its own)."""
    with world.session() as session:
        key = session.scalar(select(KeyMessage.id))
        if key is None:
            found = KeyMessage(text="Deal registration pays")
            session.add(found)
            session.flush()
            key = found.id
        contact = session.scalar(select(Contact.id).where(Contact.email_key == email))
        assert contact is not None
        record_exposures(session, contact, [key], fmt, "post", source, when)


def months(world: World) -> Months:
    with world.session() as session:
        return {
            (str(partner), month, str(what)): int(contacts)
            for partner, month, what, contacts in session.execute(
                select(Partner.name, PartnerMonthCount.month, PartnerMonthCount.what,
                       PartnerMonthCount.contacts)
                .join(Partner, Partner.id == PartnerMonthCount.partner_id)
            )
        }  # fmt: skip


def assert_exact(world: World) -> None:
    """Held equals recomputed, for both aggregates."""
    with world.session() as session:
        for aggregate in PARTNER_MONTH_AGGREGATES:
            held, worked_out = aggregate.held(session), aggregate.recomputed(session)
            assert mismatches(aggregate.name, held, worked_out) == [], aggregate.name
            assert held, aggregate.name  # something to compare


def a_month_of_signals(world: World, tmp_path: Path) -> int:
    """ana, bo and cy sent a newsletter (Acme Partners) in November 2026, dee at Globex: ana
    exposed by video in November and January and opened and clicked; bo exposed twice in a
    feed in November, his opens a proxy's and a provider-flagged machine's; cy clicked
    through the provider. Returns the edition's id."""
    world.contact("dee@globex.example", ["sales"], partner="Globex")
    edition_id = _sent(world, tmp_path)
    expose(world, ANA, "video", NOW + timedelta(minutes=5), 1)
    expose(world, ANA, "video", NOW + timedelta(days=40), 2)  # 2 January 2027
    expose(world, BO, "rss", NOW + timedelta(minutes=6), 3)
    expose(world, BO, "rss", NOW + timedelta(days=3), 4)  # the same month: counts once
    _signal(world, edition_id, ANA, "open")
    _signal(world, edition_id, ANA, "click")  # the same person, the same month
    _signal(world, edition_id, BO, "proxy open")
    _provider(world, edition_id, BO, "open", 1, sg_machine_open=True)
    _provider(world, edition_id, CY, "click", 2, url="https://example.com/x")
    _provider(world, edition_id, CY, "click", 2, url="https://example.com/x")  # resent
    return edition_id


def test_marks_follow_signals_moves_and_erasure(world: World, tmp_path: Path) -> None:
    a_month_of_signals(world, tmp_path)
    assert months(world) == {
        (ACME, NOV, "video"): 1,
        (ACME, JAN, "video"): 1,
        (ACME, NOV, "rss"): 1,
        (ACME, NOV, "engaged"): 2,  # ana and cy; bo's opens were machines'
    }
    assert_exact(world)

    # Ana moves to Globex one by one: her marks go with her.
    with world.session() as session:
        ana = session.scalar(select(Contact).where(Contact.email_key == ANA))
        assert ana is not None
        ana.partner = session.scalar(select(Partner).where(Partner.name == "Globex"))
    assert months(world) == {
        ("Globex", NOV, "video"): 1,
        ("Globex", JAN, "video"): 1,
        ("Globex", NOV, "engaged"): 1,
        (ACME, NOV, "rss"): 1,
        (ACME, NOV, "engaged"): 1,
    }
    assert_exact(world)

    # Bo moves to Globex through an import.
    with world.session() as session:
        import_contacts_file(
            session,
            io.StringIO(
                f"email,first_name,last_name,partner,roles,timezone\n{BO},Bo,B,Globex,sales,\n"
            ),
            "in.csv",
            NOW,
        )
    assert months(world)[("Globex", NOV, "rss")] == 1
    assert (ACME, NOV, "rss") not in months(world)  # no row of zeros is kept
    assert_exact(world)

    with world.session() as session:
        erase_contact(session, CY, NOW, forget_contact)
    assert not [key for key in months(world) if key[0] == ACME]
    with world.session() as session:
        erase_contact(session, ANA, NOW, forget_contact)
        assert session.scalar(select(ContactMonth.what).where(ContactMonth.what == "video")) is None
    assert months(world) == {("Globex", NOV, "rss"): 1}
    assert_exact(world)


def test_only_a_new_mark_bumps_and_a_contact_without_partner_counts_nowhere(world: World) -> None:
    world.contact("ana@acme.example", ["sales"])
    world.contact("eve@acme.example", ["sales"])
    with world.session() as session:
        ana, eve = session.scalars(select(Contact.id).order_by(Contact.email_key)).all()
        session.execute(Contact.__table__.update().where(Contact.id == eve).values(partner_id=None))
        late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
        record_months(session, [(ana, "social", late), (ana, "social", NOW), (eve, "social", NOW)])
        record_months(session, [(ana, "social", NOW + timedelta(days=2)), (ana, "engaged", late)])
        record_months(session, [(ana, "social", late + timedelta(hours=1))])  # December
        with pytest.raises(ValueError, match="unknown mark 'fax'"):
            record_months(session, [(ana, "fax", NOW)])
    dec = datetime(2026, 12, 1, tzinfo=UTC)
    assert months(world) == {
        (ACME, NOV, "social"): 1,
        (ACME, NOV, "engaged"): 1,
        (ACME, dec, "social"): 1,
    }


def test_both_are_aggregates() -> None:
    kept: list[Aggregate] = [ContactMonthsAggregate(), PartnerMonthsAggregate()]
    assert [a.name for a in kept] == [a.name for a in PARTNER_MONTH_AGGREGATES]
    assert PARTNER_MONTH_AGGREGATES[1].columns == ("contacts",)
