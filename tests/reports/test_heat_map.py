"""The partner heat map: roles × formats, coloured by thresholds that are settings, gaps named."""

from __future__ import annotations

import json

from sqlalchemy import select

from commhub.reports.partners import Thresholds, heat_map
from commhub.store.models import Contact, KeyMessage
from commhub.tracking.exposures import record_exposures
from tests.builders import NOW, World
from tests.cli.test_cli import Commhub


def exposed_world(world: World) -> World:
    world.contact("ana@acme.example", ["sales"])
    world.contact("ben@acme.example", ["sales", "technical"])
    world.contact("cleo@globex.example", ["technical"], partner="Globex")
    with world.session() as session:
        key = KeyMessage(text="Deal registration pays")
        session.add(key)
        session.flush()
        ids = {c.email: c.id for c in session.scalars(select(Contact))}
        record_exposures(session, ids["ana@acme.example"], [key.id], "email", "message", 1, NOW)
        record_exposures(session, ids["ben@acme.example"], [key.id], "video", "message", 2, NOW)
    return world


def test_each_cell_is_the_share_of_a_role_that_saw_a_format(world: World) -> None:
    with exposed_world(world).session() as session:
        roles, grids = heat_map(session)
    acme, globex = grids
    assert (acme.partner, globex.partner) == ("Acme Partners", "Globex")
    assert acme.contacts == {"sales": 2, "technical": 1}
    assert (acme.share("sales", "email"), acme.share("sales", "video")) == (0.5, 0.5)
    assert (acme.share("technical", "video"), acme.share("technical", "email")) == (1.0, 0.0)
    colours = Thresholds()
    assert [colours.colour(acme.share("sales", f)) for f in ("email", "social")] == [
        "green", "red",
    ]  # fmt: skip
    assert acme.gaps(roles) == [
        "no development contact",
        "no executive contact",
        "no marketing contact",
        "sales contacts never saw social posts",
        "sales contacts never saw the feed",
        "technical contacts never saw the newsletter",
        "technical contacts never saw social posts",
        "technical contacts never saw the feed",
    ]
    assert "technical contacts never saw the video digest" in globex.gaps(roles)


def test_the_thresholds_are_settings(world: World) -> None:
    settings = exposed_world(world).runtime.settings
    commhub = Commhub(settings.data_dir)
    env = {"COMMHUB_DATABASE_URL": settings.database_url, "COMMHUB_SECRET_KEY": settings.secret_key}
    default = json.loads(commhub("report", "partners", "--format", "json", **env).stdout)
    stricter = commhub(
        "report", "partners", "--format", "json", COMMHUB_HEAT_MAP_GREEN="0.6", **env
    )
    assert stricter.exit_code == 0, stricter.output

    def sales_email(report: dict[str, list[dict[str, object]]]) -> object:
        [cell] = [
            c for c in report["cells"] if (c["partner"], c["role"]) == ("Acme Partners", "sales")
        ]
        return cell["email_colour"]

    assert (sales_email(default), sales_email(json.loads(stricter.stdout))) == ("green", "amber")
    table = commhub("report", "partners", **env).stdout
    assert "gap: no executive contact" in table
    refused = commhub("report", "partners", COMMHUB_HEAT_MAP_AMBER="lots", **env)
    assert refused.exit_code == 2
    assert "COMMHUB_HEAT_MAP_AMBER" in refused.stderr
    upside_down = commhub(
        "report", "partners", COMMHUB_HEAT_MAP_AMBER="0.7", COMMHUB_HEAT_MAP_GREEN="0.6", **env
    )
    assert upside_down.exit_code == 2
    assert "must not be above COMMHUB_HEAT_MAP_GREEN" in upside_down.stderr
