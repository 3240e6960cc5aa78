"""Bounce rate per edition: bounced over sent and bounced, from the figures kept as the
provider's events came in (a bounced message no longer counts as sent), for the latest
editions that sent email, oldest first, against the warn and alarm lines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sender import installation_id
from commhub.reports import BOUNCE_ALARM, BOUNCE_COLUMNS, BOUNCE_WARN, edition_bounces
from commhub.tracking.provider_events import record_events
from tests.builders import World
from tests.sql_statements import statements


def send(world: World, tmp_path: Path, slug: str, audience: str) -> int:
    """The first edition of a new series for one audience, with one item, sent a day on."""
    world.clock.current += timedelta(days=1)
    world.series(slug, audiences=[audience], name=slug.title())
    world.item(f"{slug}-item", [audience])
    edition_id = world.prepare(slug).edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    return edition_id


def bounce(world: World, edition_id: int, email: str, n: int) -> None:
    """The provider's bounce of the contact's message, as the webhook records it."""
    installation = installation_id(world.runtime.settings.secret_key)
    message_id = world.messages(edition_id)[email].id
    found = {
        "event": "bounce",
        "type": "bounce",
        "reason": "550 no such user",
        "timestamp": int(world.clock.now().timestamp()) + n,
        "sg_event_id": f"bounce-{message_id}-{n}",
        "commhub_message_id": str(message_id),
        "commhub_installation": installation,
    }
    with world.session() as session:
        record_events(session, [found], installation, world.clock.now())


def test_each_edition_bounced_over_sent_and_bounced_against_its_lines(
    world: World, tmp_path: Path
) -> None:
    for name in ("ana", "ben", "cy", "dan"):
        world.contact(f"{name}@p.example", ["sales"])
    fifty = world.many_contacts(50, ["technical"])
    world.contact("eve@p.example", ["marketing"])
    news = send(world, tmp_path, "news", "sales")
    bounce(world, news, "cy@p.example", 1)
    bounce(world, news, "cy@p.example", 2)  # the same message again: once
    tech = send(world, tmp_path, "tech", "technical")
    bounce(world, tech, fifty[7], 3)
    quiet = send(world, tmp_path, "quiet", "marketing")
    # Started, with nothing sent yet: not an edition that sent email.
    world.clock.current += timedelta(days=1)
    world.series("later", audiences=["sales"], name="Later")
    world.item("later-item", ["sales"])
    world.prepare("later")

    with world.session() as session, statements(world.runtime.engine) as run:
        found = edition_bounces(session)
    assert len(run) == 1

    assert [(e.edition_id, e.series_name) for e in found] == [
        (news, "News"), (tech, "Tech"), (quiet, "Quiet"),
    ]  # fmt: skip
    first, second, third = found
    # Cy's bounced message moved out of sent: three sent, one bounced, of four tried.
    assert (first.sent, first.bounces, first.tried, first.rate) == (3, 1, 4, 0.25)
    assert first.state == "alarm"
    assert (second.sent, second.bounces, second.rate) == (49, 1, 0.02)
    assert second.state == "warn"  # at the line is over it
    assert (third.sent, third.bounces, third.rate, third.state) == (1, 0, 0.0, "ok")
    assert (BOUNCE_WARN, BOUNCE_ALARM) == (0.02, 0.05)

    row = first.as_row()
    assert list(row) == BOUNCE_COLUMNS
    assert row | {"started_at": ""} == {
        "edition_id": news, "series": "news", "series_name": "News", "started_at": "",
        "sent": 3, "bounces": 1, "bounce_rate": 0.25, "state": "alarm",
    }  # fmt: skip

    # The newest only, still oldest first.
    with world.session() as session:
        assert [e.edition_id for e in edition_bounces(session, limit=2)] == [tech, quiet]


def test_no_edition_sent_no_rows(world: World) -> None:
    with world.session() as session:
        assert edition_bounces(session) == []
