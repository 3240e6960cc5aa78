"""Exposures counted once per (contact, key message, source), tallied as they come, and the
seven-across-three report, on an example worked out by hand."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sender import installation_id
from commhub.render.tokens import message_tokens
from commhub.reports.exposures import reach_report
from commhub.reports.items import item_report
from commhub.store.models import Contact, ExposureTally, KeyMessage
from commhub.tracking.exposures import record_exposures
from commhub.tracking.provider_events import record_events
from commhub.tracking.reach_figures import record_targeted
from commhub.web import create_app
from tests.builders import World
from tests.cli.test_cli import Commhub

DEALS = "Deal registration pays"
SECURITY = "Security comes first"


@pytest.fixture
def sent(world: World, tmp_path: Path) -> dict[str, int]:
    """One edition to two sales contacts carrying two key messages; message ids by name."""
    world.series(audiences=["sales"])
    world.item("deal-reg", ["sales"], key_message=DEALS, priority=2)
    world.item("security", ["sales"], key_message=SECURITY, priority=1)
    world.contact("ana@p.example", ["sales"])
    world.contact("ben@p.example", ["sales"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    messages = {a.split("@")[0]: m.id for a, m in world.messages(edition_id).items()}
    with world.session() as session:
        record_targeted(session, list(messages.values()), world.clock.now())
    return messages


def client(world: World) -> FlaskClient:
    return create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock)).test_client()


def ids(world: World) -> tuple[dict[str, int], dict[str, int]]:
    with world.session() as session:
        contacts = {c.email.split("@")[0]: c.id for c in session.scalars(select(Contact))}
        keys = {k.text: k.id for k in session.scalars(select(KeyMessage))}
    return contacts, keys


def test_exposures_count_once_per_message_and_the_report_adds_them_up(
    world: World, sent: dict[str, int]
) -> None:
    tokens = message_tokens(world.runtime.settings.secret_keys)
    web = client(world)
    ana, ben = tokens.sign(sent["ana"]), tokens.sign(sent["ben"])
    # Ben's mail scanner opens within seconds of delivery: a machine, no exposure.
    world.clock.current += timedelta(seconds=2)
    web.get(f"/t/o/{ben}.gif")
    # An hour later Ana opens five times and clicks the deal item: one email, so one
    # exposure to each key message it carried.
    world.clock.current += timedelta(hours=1)
    for _ in range(5):
        web.get(f"/t/o/{ana}.gif")
    web.get(f"/t/c/{ana}/1")
    # Ben votes on the security item: he saw it.
    web.post(f"/t/v/{ben}/2/yes")
    contacts, keys = ids(world)
    # Ana then meets the deals message elsewhere: a video, a post, four feed items.
    with world.session() as session:
        now = world.clock.now()
        record_exposures(session, contacts["ana"], [keys[DEALS]], "video", "message", 90, now)
        record_exposures(session, contacts["ana"], [keys[DEALS]], "social", "post", 1, now)
        for feed_item in range(4):
            record_exposures(
                session, contacts["ana"], [keys[DEALS]], "rss", "feed_item", feed_item, now
            )
        # The same feed item again is not a new exposure.
        assert (
            record_exposures(session, contacts["ana"], [keys[DEALS]], "rss", "feed_item", 0, now)
            == 0
        )

    with world.session() as session:
        tallies = {
            (t.contact_id, t.key_message_id): (t.email, t.video, t.social, t.rss)
            for t in session.scalars(select(ExposureTally))
            if t.email or t.video or t.social or t.rss  # a row of zeros: targeted, not seen
        }
        reaches = {r.key_message: r for r in reach_report(session)}
    assert tallies == {
        (contacts["ana"], keys[DEALS]): (1, 1, 1, 4),
        (contacts["ana"], keys[SECURITY]): (1, 0, 0, 0),
        (contacts["ben"], keys[SECURITY]): (1, 0, 0, 0),
    }
    deals, security = reaches[DEALS], reaches[SECURITY]
    assert (deals.targeted, dict(deals.by_exposures), dict(deals.by_formats)) == (2, {7: 1}, {3: 1})
    assert (deals.seven_across_three, deals.share) == (1, 0.5)
    assert (security.targeted, dict(security.by_exposures)) == (2, {1: 2})
    assert (security.seven_across_three, dict(security.by_formats)) == (0, {1: 2})


def test_sendgrid_opens_and_clicks_count_once_per_message_in_a_batch_or_across_them(
    world: World, sent: dict[str, int]
) -> None:
    installation = installation_id(world.runtime.settings.secret_key)
    stamp = int(world.clock.now().timestamp())

    def event(name: str, kind: str, n: int, **fields: object) -> dict[str, object]:
        return {
            "event": kind, "sg_event_id": f"{kind}-{name}-{n}", "timestamp": stamp + n,
            "commhub_message_id": str(sent[name]), "commhub_installation": installation,
            **fields,
        }  # fmt: skip

    first = [
        event("ana", "open", 1), event("ana", "open", 2), event("ana", "click", 3),
        event("ben", "open", 4, sg_machine_open=True),  # Apple's proxy: no exposure
    ]  # fmt: skip
    with world.session() as session:
        report = record_events(session, first, installation, world.clock.now())
    assert (report.stored, report.duplicates) == (4, 0)
    # Later: Ana opens again (same message, no new exposure), Ben opens as a person, and
    # the first batch arrives a second time.
    with world.session() as session:
        later = [event("ana", "open", 5), event("ben", "open", 6)]
        report = record_events(session, later + first, installation, world.clock.now())
    assert (report.stored, report.duplicates) == (2, 4)
    # Ana's own open through the pixel is the same message: still one exposure.
    world.clock.current += timedelta(hours=1)
    client(world).get(
        f"/t/o/{message_tokens(world.runtime.settings.secret_keys).sign(sent['ana'])}.gif"
    )

    contacts, keys = ids(world)
    with world.session() as session:
        tallies = {
            (t.contact_id, t.key_message_id): (t.email, t.video, t.social, t.rss)
            for t in session.scalars(select(ExposureTally))
            if t.email or t.video or t.social or t.rss  # a row of zeros: targeted, not seen
        }
    assert tallies == {
        (contacts[name], keys[key]): (1, 0, 0, 0)
        for name in ("ana", "ben")
        for key in (DEALS, SECURITY)
    }


def test_the_report_command_writes_json_and_spreadsheet_safe_csv(
    world: World, tmp_path: Path
) -> None:
    world.series(audiences=["sales"])
    world.item("sneaky", ["sales"], key_message='=HYPERLINK("http://evil")')
    world.contact("ana@p.example", ["sales"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    with world.session() as session:
        sent_ids = [message.id for message in world.messages(edition_id).values()]
        record_targeted(session, sent_ids, world.clock.now())
    settings = world.runtime.settings
    commhub = Commhub(settings.data_dir)
    env = {"COMMHUB_DATABASE_URL": settings.database_url, "COMMHUB_SECRET_KEY": settings.secret_key}

    listed = commhub("report", "exposures", "--format", "json", **env)
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["targeted"], row["exposures_7"], row["share"]) == (1, 0, 0.0)

    table = commhub("report", "exposures", "--format", "csv", **env)
    [parsed] = list(csv.DictReader(io.StringIO(table.stdout)))
    assert parsed["key_message"] == '\'=HYPERLINK("http://evil")'


def test_events_export_is_csv_with_the_documented_header_since_a_time(
    world: World, sent: dict[str, int], tmp_path: Path
) -> None:
    tokens = message_tokens(world.runtime.settings.secret_keys)
    web = client(world)
    world.clock.current += timedelta(hours=1)
    web.get(f"/t/o/{tokens.sign(sent['ana'])}.gif")
    world.clock.current += timedelta(hours=1)
    later = world.clock.now()
    web.get(f"/t/c/{tokens.sign(sent['ana'])}/1")
    settings = world.runtime.settings
    commhub = Commhub(settings.data_dir)
    env = {"COMMHUB_DATABASE_URL": settings.database_url, "COMMHUB_SECRET_KEY": settings.secret_key}

    everything = commhub("events", "export", **env)
    assert everything.exit_code == 0, everything.output
    rows = list(csv.reader(io.StringIO(everything.stdout)))
    assert rows[0] == ["time", "type", "email", "item", "channel", "provider_event_id"]
    assert [r[1:5] for r in rows[1:]] == [
        ["open", "ana@p.example", "", "newsletter"],
        ["click", "ana@p.example", "deal-reg", "newsletter"],
    ]
    out = tmp_path / "events.csv"
    since = later.replace(tzinfo=None).isoformat(timespec="seconds")
    written = commhub("events", "export", "--since", since, "-o", str(out), **env)
    assert written.exit_code == 0, written.output
    assert "1 events written" in written.stderr
    assert [r[1] for r in list(csv.reader(io.StringIO(out.read_text())))[1:]] == ["click"]


def test_the_item_report_counts_human_opens_clicks_and_last_votes(
    world: World, sent: dict[str, int]
) -> None:
    tokens = message_tokens(world.runtime.settings.secret_keys)
    web = client(world)
    ana, ben = tokens.sign(sent["ana"]), tokens.sign(sent["ben"])
    web.get(f"/t/o/{ben}.gif")  # within seconds of delivery: a machine, not counted
    world.clock.current += timedelta(hours=1)
    web.get(f"/t/o/{ana}.gif")
    web.get(f"/t/o/{ana}.gif")  # the same message again: one unique open
    web.get(f"/t/c/{ana}/1")
    web.get(f"/t/c/{ana}/1")  # one click per message
    web.post(f"/t/v/{ana}/1/no")
    web.post(f"/t/v/{ana}/1/yes")  # Ana changed her mind: the last vote counts
    web.post(f"/t/v/{ben}/1/no")

    with world.session() as session:
        rows = {(r.item, r.audience): r.as_row() for r in item_report(session)}
    assert rows[("deal-reg", "sales")] == {
        "item": "deal-reg", "audience": "sales", "delivered": 2, "unique_human_opens": 1,
        "clicks": 1, "votes_yes": 1, "votes_no": 1, "relevance": 0.5, "feed_clicks": 0,
        "social_clicks": 0,
    }  # fmt: skip
    assert rows[("security", "sales")]["relevance"] is None

    settings = world.runtime.settings
    commhub = Commhub(settings.data_dir)
    env = {"COMMHUB_DATABASE_URL": settings.database_url, "COMMHUB_SECRET_KEY": settings.secret_key}
    table = commhub("report", "items", **env)
    assert table.exit_code == 0, table.output
    assert "relevant 50% of 2" in table.stdout
