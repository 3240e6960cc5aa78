"""/editions and /editions/<id>: started editions with what went out and what came back."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update

from commhub.delivery.outbox import OutboxBackend
from commhub.editions.history import count_started_editions, engagement_of, started_editions
from commhub.store import APPROVAL_ALERT, DOUBT_ALERT
from commhub.store.models import (
    Alert,
    Edition,
    EditionState,
    EventKind,
    Message,
    MessageStatus,
    Series,
    UserRole,
)
from commhub.tracking import record_click, record_open, record_vote
from commhub.web import create_app
from commhub.wiring import OUTBOX_DIR, Runtime
from tests.builders import NOW, World
from tests.web.staff import add_user, sign_in


def _client(runtime: Runtime) -> FlaskClient:
    client = create_app(runtime=runtime).test_client()
    sign_in(client, add_user(runtime, UserRole.VIEWER))
    return client


def _sent_newsletter(world: World, *emails: str) -> int:
    edition_id = world.newsletter_to(*emails)
    world.send(edition_id, OutboxBackend(world.runtime.settings.data_dir / OUTBOX_DIR))
    return edition_id


def _event(world: World, email: str, edition_id: int, kind: EventKind, **data: object) -> None:
    """As the tracking routes record it: an open (a proxy's when data says machine), a
    click or a vote on the price-update item's link of the contact's message."""
    with world.session() as session:
        owner, link_id, link = world.item_link(session, edition_id, email, "price-update")
        world.clock.current += timedelta(minutes=1)  # a person, not a scanner at delivery
        now = world.clock.now()
        if kind == EventKind.OPEN:
            proxy = "17.1.2.3" if data.get("machine") else "198.51.100.7"
            record_open(session, owner, now, proxy, "Mozilla/5.0")
        elif kind == EventKind.CLICK:
            record_click(session, owner, link_id, link, now)
        else:
            record_vote(session, owner, link_id, link, str(data["answer"]), now)


def _cells(page: str, edition_id: int) -> list[str]:
    """The text of the cells of the edition's row on /editions."""
    row = re.search(rf'<tr><td><a href="/editions/{edition_id}">.*?</tr>', page, re.S)
    assert row, page
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[0], re.S)
    ]


def test_no_edition_yet_says_how_to_send_one(runtime: Runtime) -> None:
    page = _client(runtime).get("/editions").get_data(as_text=True)
    assert "No edition has started yet." in page
    assert "commhub editions send SERIES --now" in page
    assert 'href="/calendar"' in page
    assert "<title>Editions · commhub</title>" in page
    assert page.count("<h1") == 1


def test_an_edition_shows_its_counts_and_engagement(world: World) -> None:
    emails = ("ana@acme.example", "bo@acme.example", "cy@acme.example")
    edition_id = _sent_newsletter(world, *emails)
    _event(world, emails[0], edition_id, EventKind.OPEN, machine=False)
    _event(world, emails[0], edition_id, EventKind.OPEN, machine=False)  # same message: once
    _event(world, emails[1], edition_id, EventKind.OPEN, machine=True, why="a proxy")
    _event(world, emails[0], edition_id, EventKind.CLICK, link_id=1)
    _event(world, emails[1], edition_id, EventKind.CLICK, link_id=1)
    _event(world, emails[0], edition_id, EventKind.VOTE, answer="no")
    _event(world, emails[0], edition_id, EventKind.VOTE, answer="yes")  # the last one counts
    _event(world, emails[1], edition_id, EventKind.VOTE, answer="yes")
    _event(world, emails[2], edition_id, EventKind.VOTE, answer="no")
    page = _client(world.runtime).get("/editions").get_data(as_text=True)
    cells = _cells(page, edition_id)
    assert cells[0] == f"#{edition_id}"
    assert "Partner News" in cells[1]
    assert cells[2] == "23 Nov 2026"
    assert cells[3].startswith("sent")
    # recipients, sent, failed, unknown, opens, clicks, relevance (2 yes of 3 last votes)
    assert cells[4:10] == ["3", "3", "0", "0", "1", "2"]
    assert cells[10].startswith("67%")


def test_engagement_is_counted_per_edition_in_one_call(world: World) -> None:
    first = _sent_newsletter(world, "ana@acme.example")
    _event(world, "ana@acme.example", first, EventKind.OPEN, machine=False)
    with world.session() as session:
        found = engagement_of(session, [first, first + 1])
        assert found[first].opens == 1
        assert found[first].relevance is None
        assert first + 1 not in found
        assert engagement_of(session, []) == {}


def test_the_list_is_paged_newest_first(world: World) -> None:
    world.series(slug="weekly", name="Weekly")
    with world.session() as session:
        series = session.scalar(select(Series).where(Series.slug == "weekly"))
        for day in range(55):
            session.add(
                Edition(
                    series=series,
                    planned_at=NOW - timedelta(days=day),
                    started_at=NOW - timedelta(days=day),
                    state=EditionState.SENT,
                )
            )
        # Planned editions are the calendar's, not this page's.
        session.add(Edition(series=series, planned_at=NOW + timedelta(days=9)))
    with world.session() as session:
        assert count_started_editions(session) == 55
        newest = started_editions(session, 0, 1)[0]
        assert newest.summary.planned_at.date() == NOW.date()
    client = _client(world.runtime)
    first = client.get("/editions").get_data(as_text=True)
    assert "Showing 1–50 of 55 editions" in first
    assert first.count('<tr><td><a href="/editions/') == 50
    second = client.get("/editions?page=2").get_data(as_text=True)
    assert second.count('<tr><td><a href="/editions/') == 5
    assert "30 Sep 2026" in second  # the oldest, 54 days before
    assert "2 Dec 2026" not in first + second  # the planned one


def test_titles_and_reasons_are_shown_as_text(world: World) -> None:
    world.series(slug="x", name="<script>alert(1)</script>")
    with world.session() as session:
        series = session.scalar(select(Series).where(Series.slug == "x"))
        session.add(
            Edition(
                series=series,
                planned_at=NOW,
                state=EditionState.HELD,
                state_reason="<b>awaiting</b>",
                started_at=NOW,
            )
        )
    client = _client(world.runtime)
    for path in ("/editions", "/editions/1"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;b&gt;awaiting&lt;/b&gt;" in page


def test_unknown_editions_are_404(runtime: Runtime) -> None:
    client = _client(runtime)
    assert client.get("/editions/999").status_code == 404
    assert client.get(f"/editions/{10**30}").status_code == 404
    assert client.get("/editions/0").status_code == 404


def test_the_detail_tells_the_whole_story(world: World) -> None:
    emails = ("ana@acme.example", "bo@acme.example", "cy@acme.example")
    edition_id = _sent_newsletter(world, *emails)
    messages = world.messages(edition_id)
    with world.session() as session:
        session.execute(
            update(Message)
            .where(Message.id == messages["bo@acme.example"].id)
            .values(status=MessageStatus.FAILED, last_error="550 <mailbox> unknown")
        )
        session.execute(
            update(Message)
            .where(Message.id == messages["cy@acme.example"].id)
            .values(status=MessageStatus.UNKNOWN, last_error="the sender stopped")
        )
        session.execute(
            update(Edition)
            .where(Edition.id == edition_id)
            .values(notes={"seen_enough": {"sales": 4}, "left_out": {"sales": 2}})
        )
        session.add(
            Alert(
                kind=DOUBT_ALERT,
                subject="Messages in doubt",
                message="1 message may not have gone",
                edition_id=edition_id,
                raised_at=NOW,
            )
        )
        session.add(
            Alert(
                kind=APPROVAL_ALERT,
                subject="Was held",
                message="resolved long ago",
                edition_id=edition_id,
                raised_at=NOW,
                resolved_at=NOW,
            )
        )
    client = _client(world.runtime)
    page = client.get(f"/editions/{edition_id}").get_data(as_text=True)
    assert f"<title>Edition #{edition_id} of Partner News · commhub</title>" in page
    assert page.count("<h1") == 1
    # planned at 09:00 UTC: shown in the viewer's zone (UTC by default) and the series' own
    assert "23 Nov 2026, 09:00 UTC" in page
    assert "Europe/London" in page
    assert "09:00 GMT" in page
    assert "<b>1</b> failed" in page
    assert "<b>1</b> unknown" in page
    assert "<b>1</b> sent" in page
    assert "550 &lt;mailbox&gt; unknown" in page
    assert "bo@acme.example" in page
    assert "the sender stopped" in page
    assert "cy@acme.example" in page
    assert "seen enough (rule of seven)" in page
    assert "emailed without the items they had seen enough" in page
    assert "Messages in doubt" in page
    assert "resend the messages in doubt, once you know they did not arrive" in page
    assert "resolved long ago" in page
    assert "approve it" not in page  # a resolved alert has nothing left to do
    # the outbox holds the sent one; its copy is linked from the edition
    assert f'href="/outbox?edition={edition_id}"' in page
    assert "3 messages in the outbox" in page


def test_failed_messages_link_to_their_outbox_copy(world: World) -> None:
    edition_id = _sent_newsletter(world, "ana@acme.example")
    message = world.messages(edition_id)["ana@acme.example"]
    with world.session() as session:
        session.execute(
            update(Message)
            .where(Message.id == message.id)
            .values(status=MessageStatus.UNKNOWN, last_error="timed out")
        )
    page = _client(world.runtime).get(f"/editions/{edition_id}").get_data(as_text=True)
    assert f'href="/outbox/{edition_id}/{message.id}"' in page
