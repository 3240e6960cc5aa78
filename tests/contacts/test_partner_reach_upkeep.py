"""partner_reach and contact_formats: kept exact through imports, role and partner changes,
exposures and erasure, and always equal to what the contacts and exposures say."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commhub.contacts import PARTNER_AGGREGATES, record_formats_seen
from commhub.contacts.directory import import_contacts_file
from commhub.contacts.erasure import erase_contact
from commhub.contacts.partner_reach import ContactFormatsAggregate, PartnerReachAggregate
from commhub.reports import check_aggregates, rebuild_aggregates
from commhub.store import (
    Audience,
    Contact,
    ContactFormat,
    Exposure,
    KeyMessage,
    Partner,
    PartnerReach,
)
from commhub.tracking import Aggregate, forget_contact
from tests.builders import NOW, World

HEADER = "email,first_name,last_name,partner,roles,timezone\n"
Reach = dict[tuple[str, str], tuple[int, ...]]  # (partner, role) -> contacts, email .. rss


def run_import(world: World, rows: str) -> None:
    with world.session() as session:
        import_contacts_file(session, io.StringIO(HEADER + rows), "in.csv", NOW)


def expose(world: World, address: str, fmt: str, source_id: int, later: int = 0) -> None:
    """An exposure as the recording functions leave it: its row, and its format noted."""
    with world.session() as session:
        key = session.scalar(select(KeyMessage.id)) or _key_message(session)
        contact_id = session.scalar(select(Contact.id).where(Contact.email_key == address))
        assert contact_id is not None
        at = NOW + timedelta(minutes=later)
        exposure = Exposure(
            contact_id=contact_id, key_message_id=key, format=fmt, source_kind="message",
            source_id=source_id, occurred_at=at,
        )  # fmt: skip
        session.add(exposure)
        session.flush()
        record_formats_seen(session, [(contact_id, fmt)], at)


def _key_message(session: Session) -> int:
    key = KeyMessage(text="Deal registration pays")
    session.add(key)
    session.flush()
    return key.id


def reach(world: World) -> Reach:
    with world.session() as session:
        return {
            (partner, role): tuple(figures)
            for partner, role, *figures in session.execute(
                select(Partner.name, Audience.slug, PartnerReach.contacts, PartnerReach.email,
                       PartnerReach.video, PartnerReach.social, PartnerReach.rss)
                .join(Partner, Partner.id == PartnerReach.partner_id)
                .join(Audience, Audience.id == PartnerReach.audience_id)
            )
        }  # fmt: skip


def assert_exact(world: World) -> None:
    """Held equals recomputed, for both aggregates."""
    with world.session() as session:
        for aggregate in PARTNER_AGGREGATES:
            held, worked_out = aggregate.held(session), aggregate.recomputed(session)
            assert held == {k: v for k, v in worked_out.items() if any(v)}, aggregate.name
        assert [c.mismatches for c in check_aggregates(session, PARTNER_AGGREGATES)] == [[], []]


def test_imports_exposures_moves_and_erasure_keep_the_cells_exact(world: World) -> None:
    run_import(
        world,
        "ana@acme.example,Ana,A,Acme,sales,\n"
        "ben@acme.example,Ben,B,Acme,sales;technical,\n"
        "cleo@globex.example,Cleo,C,Globex,technical,\n",
    )
    assert reach(world) == {
        ("Acme", "sales"): (2, 0, 0, 0, 0),
        ("Acme", "technical"): (1, 0, 0, 0, 0),
        ("Globex", "technical"): (1, 0, 0, 0, 0),
    }
    expose(world, "ana@acme.example", "email", 1)
    expose(world, "ana@acme.example", "email", 2, later=5)  # a second email: counts once
    expose(world, "ben@acme.example", "video", 3)
    expose(world, "cleo@globex.example", "email", 4)
    assert reach(world) == {
        ("Acme", "sales"): (2, 1, 1, 0, 0),
        ("Acme", "technical"): (1, 0, 1, 0, 0),
        ("Globex", "technical"): (1, 1, 0, 0, 0),
    }
    assert_exact(world)

    # Ben moves to Globex as technical only; Ana takes marketing as well; Dan arrives.
    run_import(
        world,
        "ana@acme.example,Ana,A,Acme,sales;marketing,\n"
        "ben@acme.example,Ben,B,Globex,technical,\n"
        "dan@acme.example,Dan,D,Acme,sales,\n",
    )
    assert reach(world) == {
        ("Acme", "sales"): (2, 1, 0, 0, 0),
        ("Acme", "marketing"): (1, 1, 0, 0, 0),
        ("Globex", "technical"): (2, 1, 1, 0, 0),
    }
    assert_exact(world)

    with world.session() as session:
        erase_contact(session, "cleo@globex.example", NOW, forget_contact)
    assert reach(world)[("Globex", "technical")] == (1, 0, 1, 0, 0)
    with world.session() as session:
        erase_contact(session, "ben@acme.example", NOW, forget_contact)
    assert ("Globex", "technical") not in reach(world)  # no row of zeros is kept
    assert_exact(world)


def test_only_a_contacts_first_exposure_in_a_format_bumps_the_cells(world: World) -> None:
    run_import(world, "ana@acme.example,Ana,A,Acme,sales;technical,\n")
    with world.session() as session:
        ana = session.scalar(select(Contact.id))
        assert ana is not None
        _key_message(session)
        record_formats_seen(session, [(ana, "social"), (ana, "social"), (ana, "rss")], NOW)
        record_formats_seen(session, [(ana, "social")], NOW + timedelta(days=1))
        first = session.scalar(
            select(ContactFormat.first_at).where(ContactFormat.format == "social")
        )
    assert reach(world) == {
        ("Acme", "sales"): (1, 0, 0, 1, 1),
        ("Acme", "technical"): (1, 0, 0, 1, 1),
    }
    assert first == NOW
    with world.session() as session, pytest.raises(ValueError, match="unknown format 'fax'"):
        record_formats_seen(session, [(1, "fax")], NOW)


def test_contacts_written_one_by_one_move_their_cells_too(world: World) -> None:
    world.contact("ana@acme.example", ["sales"])
    world.contact("ben@acme.example", ["sales", "technical"], partner="Globex")
    expose(world, "ben@acme.example", "rss", 1)
    assert reach(world) == {
        ("Acme Partners", "sales"): (1, 0, 0, 0, 0),
        ("Globex", "sales"): (1, 0, 0, 0, 1),
        ("Globex", "technical"): (1, 0, 0, 0, 1),
    }
    with world.session() as session:
        ben = session.scalar(select(Contact).where(Contact.email_key == "ben@acme.example"))
        assert ben is not None
        ben.partner = session.scalar(select(Partner).where(Partner.name == "Acme Partners"))
        ben.roles = [a for a in ben.roles if a.slug == "technical"]
    assert reach(world) == {
        ("Acme Partners", "sales"): (1, 0, 0, 0, 0),
        ("Acme Partners", "technical"): (1, 0, 0, 0, 1),
    }
    assert_exact(world)


def test_a_rebuild_puts_back_what_the_contacts_and_exposures_say(world: World) -> None:
    run_import(world, "ana@acme.example,Ana,A,Acme,sales,\nben@acme.example,Ben,B,Acme,sales,\n")
    expose(world, "ana@acme.example", "video", 1, later=3)
    expected = reach(world)
    with world.session() as session:
        session.execute(delete(ContactFormat))
        session.execute(delete(PartnerReach))
    with world.session() as session:
        found = check_aggregates(session, PARTNER_AGGREGATES)
        assert [len(check.mismatches) for check in found] == [1, 1]
        rebuild_aggregates(session, PARTNER_AGGREGATES)
    assert reach(world) == expected == {("Acme", "sales"): (2, 0, 1, 0, 0)}
    with world.session() as session:
        first = session.scalar(select(ContactFormat.first_at))
    assert first == NOW + timedelta(minutes=3)  # the first exposure's time
    assert_exact(world)


def test_both_are_aggregates() -> None:
    kept: list[Aggregate] = [ContactFormatsAggregate(), PartnerReachAggregate()]
    assert [a.name for a in kept] == [a.name for a in PARTNER_AGGREGATES]
    assert PARTNER_AGGREGATES[1].columns == ("contacts", "email", "video", "social", "rss")
