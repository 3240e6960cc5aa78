"""The calendar of planned editions: the listing, its iCalendar feed behind a signed,
revocable URL, and the scheduler's date jobs built from the same rows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from commhub.delivery.outbox import OutboxBackend
from commhub.render.tokens import calendar_tokens, message_tokens
from commhub.scheduling.agenda import calendar
from commhub.scheduling.dispatch import EditionRunner
from commhub.scheduling.ical import create_feed, feed_path, revoke_feed
from commhub.scheduling.planning import plan_editions
from commhub.scheduling.scheduler import Scheduler
from commhub.store.models import CalendarFeed, ContactStatus, EditionState
from commhub.web import create_app
from tests.builders import NOW, World

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def planned_world(world: World) -> World:
    world.series(audiences=["sales"], name="Partner News")
    world.contact("ana@partner.example", ["sales"])
    world.contact("ben@partner.example", ["sales", "technical"])
    world.contact("gone@partner.example", ["sales"], status=ContactStatus.UNSUBSCRIBED)
    world.contact("tech@partner.example", ["technical"])
    with world.session() as session:
        plan_editions(session, NOW)
    return world


def test_the_calendar_lists_twelve_months_with_who_and_how_many(planned_world: World) -> None:
    with planned_world.session() as session:
        entries = calendar(session, NOW, months=12)
    assert [e.planned_at for e in entries] == [
        datetime(2026, 12, 1, 9, 0, tzinfo=LONDON),
        *(datetime(2027, month, 1, 9, 0, tzinfo=LONDON) for month in range(1, 12)),
    ]
    first = entries[0].as_json()
    assert first["planned_at"] == "2026-12-01T09:00:00+00:00"
    assert entries[5].as_json()["planned_at"] == "2027-05-01T09:00:00+01:00"
    assert {k: first[k] for k in ("series", "timezone", "audiences", "state")} == {
        "series": "news",
        "timezone": "Europe/London",
        "audiences": ["sales"],
        "state": "planned",
    }
    # ana and ben; not the unsubscribed contact, nor the technical one.
    assert first["expected_recipients"] == 2


def test_an_overdue_edition_still_waiting_stays_on_the_calendar(planned_world: World) -> None:
    with planned_world.session() as session:
        later = NOW + timedelta(days=40)
        entries = calendar(session, later, months=1)
    assert entries[0].planned_at == datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)
    assert entries[0].state is EditionState.PLANNED


def test_the_ics_feed_has_one_event_per_edition_in_the_series_zone(
    planned_world: World,
) -> None:
    client, url = ics_client(planned_world)
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    parsed = icalendar.Calendar.from_ical(response.data)
    events = list(parsed.walk("VEVENT"))
    assert len(events) == 12
    first = events[0]
    assert first["DTSTART"].dt == datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)
    assert first["DTSTART"].params["TZID"] == "Europe/London"
    assert str(first["SUMMARY"]) == "Partner News (planned)"
    assert "Expected recipients: 2" in str(first["DESCRIPTION"])
    assert str(first["UID"]).startswith("edition-")
    assert [tz["TZID"] for tz in parsed.walk("VTIMEZONE")] == ["Europe/London"]


def test_a_forged_foreign_or_revoked_calendar_token_is_a_404(planned_world: World) -> None:
    client, url = ics_client(planned_world)
    token = url.removeprefix("/calendar/").removesuffix(".ics")
    settings = planned_world.runtime.settings
    # One character of the signature changed (not the last: its low bits are padding).
    forged = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    assert client.get(f"/calendar/{forged}.ics").status_code == 404
    # A message's token for the same row number is not a calendar token.
    with planned_world.session() as session:
        feed_id = session.scalars(select(CalendarFeed.id)).one()
    message_token = message_tokens(settings.secret_keys).sign(feed_id)
    assert client.get(f"/calendar/{message_token}.ics").status_code == 404
    with planned_world.session() as session:
        revoke_feed(session, feed_id, NOW)
    assert client.get(url).status_code == 404


def test_a_feed_made_after_a_database_rebuild_does_not_revive_an_old_url(
    planned_world: World,
) -> None:
    client, old_url = ics_client(planned_world)
    with planned_world.session() as session:
        session.execute(delete(CalendarFeed))  # the row is gone; its number will come again
    _client, new_url = ics_client(planned_world)
    assert client.get(new_url).status_code == 200
    assert client.get(old_url).status_code == 404


def ics_client(world: World) -> tuple[FlaskClient, str]:
    runtime = dataclasses.replace(world.runtime, clock=world.clock)
    with world.session() as session:
        feed = create_feed(session, "Marketing team", NOW)
        url = feed_path(calendar_tokens(runtime.settings.secret_keys), feed)
    return create_app(runtime=runtime).test_client(), url


def test_a_sweep_sets_a_date_job_for_each_edition_due_before_the_next(
    planned_world: World, tmp_path: Path
) -> None:
    world = planned_world
    world.clock.current = datetime(2026, 12, 1, 8, 59, tzinfo=UTC)
    runner = EditionRunner(
        world.runtime.sessions, lambda: OutboxBackend(tmp_path), world.runtime.settings,
        world.renderer, world.clock, workers=1,
    )  # fmt: skip
    scheduler = Scheduler(runner, world.runtime.sessions, world.clock, sweep_seconds=60)
    scheduler.aps.start(paused=True)
    try:
        report = scheduler.sweep()
        jobs = {job.id: job.next_run_time for job in scheduler.aps.get_jobs()}
    finally:
        scheduler.stop()
    assert report.claimed == []
    [(job_id, run_at)] = jobs.items()
    assert job_id.startswith("edition-")
    assert run_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_ics_feed_can_be_narrowed_to_some_series(planned_world: World) -> None:
    planned_world.series("briefing", audiences=["executive"], name="Briefing")
    with planned_world.session() as session:
        plan_editions(session, NOW)
    client, url = ics_client(planned_world)
    everything = icalendar.Calendar.from_ical(client.get(url).data)
    narrowed = icalendar.Calendar.from_ical(client.get(f"{url}?series=briefing").data)
    assert len(list(everything.walk("VEVENT"))) == 24
    assert {str(e["SUMMARY"]) for e in narrowed.walk("VEVENT")} == {"Briefing (planned)"}


def test_a_social_series_editions_post_to_its_accounts_and_count_no_recipients(
    world: World,
) -> None:
    world.social_series(name="Partner Social")
    world.contact("ana@partner.example", ["sales"])
    with world.session() as session:
        plan_editions(session, NOW)
    client, url = ics_client(world)
    events = list(icalendar.Calendar.from_ical(client.get(url).data).walk("VEVENT"))
    assert events
    for event in events:
        assert "Posts on the series' accounts" in str(event["DESCRIPTION"])
        assert "Expected recipients" not in str(event["DESCRIPTION"])
