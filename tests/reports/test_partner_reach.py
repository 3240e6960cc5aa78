"""The heat maps read the kept cells (partner_reach), which the real recording functions keep
exact, and every partner comes in three orders."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from commhub.contacts import PARTNER_AGGREGATES
from commhub.reports import Thresholds, check_aggregates, every_partner, heat_map
from commhub.reports.partner_detail import partner_heat_map
from commhub.store import Contact, KeyMessage, Partner, PartnerReach
from commhub.tracking.exposures import record_exposures
from tests.builders import NOW, World


def exposed(world: World) -> World:
    """Acme: two sales (one saw email), one technical; Globex: one technical who saw video
    and email; Initech: one sales who saw nothing."""
    world.contact("ana@acme.example", ["sales"], partner="Acme")
    world.contact("ben@acme.example", ["sales", "technical"], partner="Acme")
    world.contact("cleo@globex.example", ["technical"], partner="Globex")
    world.contact("dora@initech.example", ["sales"], partner="Initech")
    with world.session() as session:
        key = KeyMessage(text="Deal registration pays")
        session.add(key)
        session.flush()
        ids = {c.email: c.id for c in session.scalars(select(Contact))}
        record_exposures(session, ids["ana@acme.example"], [key.id], "email", "message", 1, NOW)
        record_exposures(session, ids["ana@acme.example"], [key.id], "email", "message", 2, NOW)
        for fmt, source in (("video", 3), ("email", 4)):
            record_exposures(
                session, ids["cleo@globex.example"], [key.id], fmt, "post", source, NOW
            )
    return world


def test_the_recording_functions_keep_the_cells_the_heat_map_reads(world: World) -> None:
    with exposed(world).session() as session:
        assert [c.mismatches for c in check_aggregates(session, PARTNER_AGGREGATES)] == [[], []]
        _roles, grids = heat_map(session)
        assert [(g.partner, g.contacts, g.reached) for g in grids] == [
            ("Acme", {"sales": 2, "technical": 1}, {("sales", "email"): 1}),
            ("Globex", {"technical": 1}, {("technical", "video"): 1, ("technical", "email"): 1}),
            ("Initech", {"sales": 1}, {}),
        ]
        globex = session.scalar(select(Partner.id).where(Partner.name == "Globex"))
        assert globex is not None
        assert partner_heat_map(session, globex)[1].reached == grids[1].reached
        # Read from the kept cells alone: without them there is nothing to show.
        session.execute(delete(PartnerReach))
        assert heat_map(session)[1] == []
        assert partner_heat_map(session, globex)[1].contacts == {}


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("name", ["Acme", "Globex", "Initech"]),
        ("contacts", ["Acme", "Globex", "Initech"]),  # 2, 1, 1: ties by name
        ("coldness", ["Initech", "Acme", "Globex"]),  # 20, 19 and 18 red cells of 20
    ],
)
def test_every_partner_comes_in_three_orders(world: World, sort: str, order: list[str]) -> None:
    with exposed(world).session() as session:
        found = every_partner(session, Thresholds(), sort)
    assert [p.partner for p in found] == order
    by_name = {p.partner: p for p in found}
    assert [by_name[n].red for n in ("Acme", "Globex", "Initech")] == [19, 18, 20]
    assert (by_name["Acme"].contacts, by_name["Initech"].reached_anyone) == (2, False)
    assert "Executive: no contact" in by_name["Globex"].gaps


def test_an_unknown_order_is_refused(world: World) -> None:
    with world.session() as session, pytest.raises(ValueError, match="unknown order"):
        every_partner(session, Thresholds(), "loudness")
