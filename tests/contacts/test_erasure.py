"""Erasure at a person's request: their data goes everywhere, a hash stays, imports skip it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from commhub.contacts.erasure import email_hash
from commhub.delivery.outbox import OutboxBackend
from commhub.render.tokens import message_tokens
from commhub.store.models import Contact, Event, Exposure, Message, Suppression
from commhub.web import create_app
from commhub.wiring import OUTBOX_DIR
from tests.builders import World
from tests.cli.test_cli import Commhub


def test_an_erased_contact_leaves_only_a_hash_and_stays_suppressed(
    world: World, tmp_path: Path
) -> None:
    settings = world.runtime.settings
    outbox = OutboxBackend(settings.data_dir / OUTBOX_DIR)
    world.series(audiences=["sales"])
    world.item("deal-reg", ["sales"], key_message="Deal registration pays")
    world.contact("Ana@P.example", ["sales"])
    world.contact("ben@p.example", ["sales"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, outbox)
    ana = world.messages(edition_id)["Ana@P.example"]
    world.clock.current += timedelta(hours=1)
    web = create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock))
    web.test_client().get(f"/t/o/{message_tokens(settings.secret_keys).sign(ana.id)}.gif")
    assert outbox.path_for(edition_id, ana.id).exists()

    commhub = Commhub(settings.data_dir)
    env = {"COMMHUB_DATABASE_URL": settings.database_url, "COMMHUB_SECRET_KEY": settings.secret_key}
    refused = commhub("contacts", "erase", "ana@p.example", input="n\n", **env)
    assert refused.exit_code == 1  # asked, and not confirmed: nothing done
    erased = commhub("contacts", "erase", "ana@p.example", "--yes", **env)
    assert erased.exit_code == 0, erased.output
    assert "erased ana@p.example: 1 messages and 1 events" in erased.stdout

    with world.session() as session:
        assert (
            session.scalar(select(Contact.id).where(Contact.email_key == "ana@p.example")) is None
        )
        for table in (Message, Event, Exposure):
            assert session.scalar(select(func.count()).select_from(table).where(
                table.contact_id == ana.contact_id
            )) == 0  # fmt: skip
        [kept] = session.scalars(select(Suppression)).all()
        assert kept.email_hash == email_hash("ana@p.example")
        assert "@" not in kept.email_hash
        assert session.scalar(select(func.count()).select_from(Contact)) == 1  # Ben stays
    assert not outbox.path_for(edition_id, ana.id).exists()
    exported = commhub("events", "export", **env)
    assert "ana@p.example" not in exported.stdout.lower()

    again = tmp_path / "again.csv"
    again.write_text(
        "email,first_name,last_name,partner,roles,timezone\n"
        "ANA@p.example,Ana,Back,Acme Partners,sales,Europe/London\n"
        "cleo@p.example,Cleo,New,Acme Partners,sales,Europe/London\n"
    )
    imported = commhub("contacts", "import", str(again), **env)
    assert imported.exit_code == 0, imported.output
    assert "1 created" in imported.stdout
    assert "1 skipped (erased at their request)" in imported.stdout
    with world.session() as session:
        emails = set(session.scalars(select(Contact.email_key)))
    assert emails == {"ben@p.example", "cleo@p.example"}
