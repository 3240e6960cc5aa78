"""Complaint rates: an alert at 0.1 % over 7 days, and new editions held at 0.3 %."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sender import installation_id
from commhub.editions.lifecycle import release_edition
from commhub.store.models import Alert, EditionState
from commhub.tracking.complaints import COMPLAINT_ALERT, edition_rates, recent_rate
from commhub.tracking.provider_events import record_events
from tests.builders import NOW, World
from tests.cli.test_cli import Commhub


def sent_to(world: World, tmp_path: Path, contacts: int) -> tuple[int, list[int]]:
    world.series(audiences=["sales"])
    world.item("deal-reg", ["sales"])
    world.many_contacts(contacts, ["sales"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    return edition_id, [m.id for m in world.messages(edition_id).values()]


def complain(world: World, message_ids: list[int]) -> None:
    installation = installation_id(world.runtime.settings.secret_key)
    events = [
        {
            "event": "spamreport",
            "timestamp": int(NOW.timestamp()),
            "sg_event_id": f"s{m}",
            "commhub_message_id": str(m),
            "commhub_installation": installation,
        }
        for m in message_ids
    ]
    with world.session() as session:
        record_events(session, events, installation, world.clock.now())


def alerts(world: World) -> list[Alert]:
    with world.session() as session:
        return list(session.scalars(select(Alert).where(Alert.kind == COMPLAINT_ALERT)))


@pytest.mark.parametrize(
    ("contacts", "complaints", "alerted", "held"),
    [(1000, 0, False, False), (1000, 2, True, False), (1000, 3, True, True)],
)
def test_complaints_alert_at_a_tenth_and_hold_new_editions_at_three_tenths_of_a_percent(
    world: World, tmp_path: Path, contacts: int, complaints: int, alerted: bool, held: bool
) -> None:
    edition_id, message_ids = sent_to(world, tmp_path, contacts)
    complain(world, message_ids[:complaints])
    with world.session() as session:
        assert recent_rate(session, world.clock.now()).complaints == complaints
        assert edition_rates(session, [edition_id])[edition_id].complaints == complaints
    assert bool(alerts(world)) is alerted

    world.item("roadmap", ["sales"], published=NOW)
    world.clock.current += timedelta(days=1)
    next_edition = world.prepare().edition
    assert (next_edition.state is EditionState.HELD) is held
    if held:
        assert "complaint rate 0.30% (3 complaints in 1,000 sent)" in str(next_edition.state_reason)
        with world.session() as session:
            released = release_edition(session, next_edition.id, world.clock.now())
            assert released.state is EditionState.SENDING


def test_the_complaints_report(world: World, tmp_path: Path) -> None:
    edition_id, message_ids = sent_to(world, tmp_path, 500)
    complain(world, message_ids[:1])
    settings = world.runtime.settings
    commhub = Commhub(settings.data_dir)
    env = {"COMMHUB_DATABASE_URL": settings.database_url, "COMMHUB_SECRET_KEY": settings.secret_key}
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        shown = commhub("report", "complaints", **env)
    assert shown.exit_code == 0, shown.output
    assert "last 7 days: 0.20% (1 complaint in 500 sent): alert" in shown.stdout
    assert f"edition {edition_id:>6}: 0.20%" in shown.stdout
