"""Acting on editions from the browser: each button a CSRF-checked POST for editors, calling
the domain as the CLI does, logged in the audit log, and handing the sending to the
scheduler (the web request itself sends nothing)."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.delivery.outbox import OutboxBackend
from commhub.editions import CLAIM_SECONDS
from commhub.scheduling.due import claim_due, interrupted
from commhub.store.models import AuditEntry, Edition, EditionState, Message, Series, UserRole
from tests.builders import World
from tests.web.staff import csrf_token, staff_session


def post(client: FlaskClient, path: str, **fields: str) -> str:
    """Press a button: POST with the page's CSRF token; the page it leads to, as text."""
    answer = client.post(path, data={"csrf_token": csrf_token(client, "/account"), **fields})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def held_edition(world: World) -> int:
    world.series(audiences=["sales"], requires_approval=True)
    world.item("launch", ["sales"])
    world.contact("ann@partner.example", ["sales"])
    return world.prepare().edition.id


def state_of(world: World, edition_id: int) -> Edition:
    with world.session() as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        session.expunge(edition)
        return edition


def audit(world: World) -> list[tuple[str, str, str]]:
    with world.session() as session:
        return [
            (e.actor, e.action, e.object_id)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_an_editor_approves_a_held_edition_and_the_scheduler_takes_it_up(world: World) -> None:
    edition_id = held_edition(world)
    client, email = staff_session(world)
    before = client.get(f"/editions/{edition_id}").get_data(as_text=True)
    assert f'action="/editions/{edition_id}/approve"' in before
    page = post(client, f"/editions/{edition_id}/approve")
    assert f"Edition {edition_id} approved: the scheduler takes it up within a minute." in page
    edition = state_of(world, edition_id)
    assert edition.state is EditionState.SENDING
    assert edition.lease_owner is None  # nobody sends it in the web process
    with world.session() as session:
        assert edition_id in interrupted(session, world.clock.now())
    assert (email, "approved", str(edition_id)) in audit(world)
    report = world.send(edition_id, OutboxBackend(world.runtime.settings.data_dir / "outbox"))
    assert report.state is EditionState.SENT


def test_a_refused_action_says_why_on_the_page_and_changes_nothing(world: World) -> None:
    edition_id = held_edition(world)
    client, _email = staff_session(world)
    page = post(client, f"/editions/{edition_id}/release")
    assert re.search(r'class="error flash" role="alert">Nothing changed: edition \d+ needs', page)
    assert state_of(world, edition_id).state is EditionState.HELD


def test_pause_release_and_cancel_a_planned_edition(world: World) -> None:
    world.series(audiences=["sales"])
    with world.session() as session:
        series = session.scalar(select(Series))
        planned = Edition(series=series, planned_at=world.clock.now() + timedelta(days=3))
        session.add(planned)
        session.flush()
        edition_id = planned.id
    client, email = staff_session(world)
    page = post(client, f"/editions/{edition_id}/pause", next="/")
    assert "paused: it will not go out until released" in page
    assert "<h1>Overview</h1>" in page  # back where the button was
    assert state_of(world, edition_id).state is EditionState.PAUSED
    post(client, f"/editions/{edition_id}/release")
    assert state_of(world, edition_id).state is EditionState.PLANNED
    page = post(client, f"/editions/{edition_id}/cancel")
    assert f"Edition {edition_id} cancelled; 0 unsent messages skipped." in page
    assert state_of(world, edition_id).state is EditionState.CANCELLED
    actions = [action for actor, action, _id in audit(world) if actor == email]
    assert actions[-3:] == ["paused", "released", "cancelled"]


def test_send_now_makes_the_next_edition_due_and_the_scheduler_claims_it(world: World) -> None:
    world.series(audiences=["sales"])
    world.item("launch", ["sales"])
    world.contact("ann@partner.example", ["sales"])
    later = world.clock.now() + timedelta(days=10)
    with world.session() as session:
        session.add(Edition(series=session.scalar(select(Series)), planned_at=later))
    client, email = staff_session(world)
    page = post(client, "/series/news/send-now")
    assert "is due now: the scheduler takes it up within a minute." in page
    with world.session() as session:
        edition = session.scalar(select(Edition))
        assert edition is not None
        assert edition.due_at == world.clock.now()
        assert edition.planned_at == later  # the calendar still shows its date
        assert session.scalar(select(Message.id)) is None  # nothing prepared in the request
        assert claim_due(session, world.clock.now(), "test-owner").claimed == [edition.id]
    assert (email, "sent", str(edition.id)) in audit(world)


def test_send_now_soon_after_an_edition_asks_to_be_said_twice(world: World) -> None:
    world.series(audiences=["sales"])
    world.item("launch", ["sales"])
    world.contact("ann@partner.example", ["sales"])
    first = world.prepare().edition.id
    world.send(first, OutboxBackend(world.runtime.settings.data_dir / "outbox"))
    client, _email = staff_session(world)
    answer = client.post(
        "/series/news/send-now", data={"csrf_token": csrf_token(client, "/account")}
    )
    assert answer.headers["Location"] == "/series/news?confirm=again"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Not sent: edition" in page
    assert "Send again anyway" in page
    with world.session() as session:
        assert len(session.scalars(select(Edition)).all()) == 1
    world.clock.current += timedelta(minutes=5)
    page = post(client, "/series/news/send-now", again="yes")
    assert "is due now" in page
    with world.session() as session:
        assert len(session.scalars(select(Edition)).all()) == 2


def test_buttons_are_for_editors_a_viewer_reads_what_could_be_done(world: World) -> None:
    edition_id = held_edition(world)
    editor, _ = staff_session(world)
    assert 'action="/editions/' in editor.get("/").get_data(as_text=True)
    viewer, _ = staff_session(world, UserRole.VIEWER)
    dashboard = viewer.get("/").get_data(as_text=True)
    assert "approve it" in dashboard
    assert 'action="/editions/' not in dashboard
    assert "Send the next edition now" not in viewer.get("/series/news").get_data(as_text=True)
    token = csrf_token(viewer, "/account")
    refused = viewer.post(f"/editions/{edition_id}/approve", data={"csrf_token": token})
    assert refused.status_code == 403
    assert state_of(world, edition_id).state is EditionState.HELD


def test_a_reviewer_rejects_a_held_edition_with_a_comment(world: World) -> None:
    edition_id = held_edition(world)
    client, email = staff_session(world)
    refused = post(client, f"/editions/{edition_id}/reject", comment="  ")
    assert "Nothing changed: reject:comment: say what needs to change." in refused
    page = post(client, f"/editions/{edition_id}/reject", comment="The price is wrong", next="/")
    assert f"Edition {edition_id} sent back" in page
    assert "was rejected" in page  # the alert, on the dashboard
    assert f'action="/editions/{edition_id}/cancel"' in page
    edition = state_of(world, edition_id)
    assert edition.state is EditionState.HELD
    assert edition.state_reason == "rejected: The price is wrong"
    assert (email, "rejected", str(edition_id)) in audit(world)
    preview = client.get("/series/news/preview").get_data(as_text=True)
    assert f"held edition {edition_id}" in preview  # still previewed as the held one
    post(client, f"/editions/{edition_id}/approve")
    assert state_of(world, edition_id).state is EditionState.SENDING


def _planned_in(world: World, days: int) -> int:
    with world.session() as session:
        series = session.scalar(select(Series))
        planned = Edition(series=series, planned_at=world.clock.now() + timedelta(days=days))
        session.add(planned)
        session.flush()
        return planned.id


def test_the_calendar_list_has_the_buttons_and_comes_back_to_itself(world: World) -> None:
    world.series(audiences=["sales"])
    edition_id = _planned_in(world, 3)
    month = (world.clock.now() + timedelta(days=3)).strftime("%Y-%m")
    listed = f"/calendar?month={month}&view=list"
    editor, _ = staff_session(world)
    page = editor.get(listed).get_data(as_text=True)
    assert f'action="/editions/{edition_id}/pause"' in page
    assert f'action="/editions/{edition_id}/cancel"' in page
    page = post(editor, f"/editions/{edition_id}/pause", next=listed)
    assert "<h1>Calendar</h1>" in page
    assert f"Edition {edition_id} paused" in page
    assert f'action="/editions/{edition_id}/release"' in page  # its next step, in its row
    viewer, _ = staff_session(world, UserRole.VIEWER)
    read_only = viewer.get(listed).get_data(as_text=True)
    assert 'action="/editions/' not in read_only
    assert "What you can do" not in read_only


def test_an_edition_on_its_way_is_followed_and_one_waiting_is_not(world: World) -> None:
    world.series(audiences=["sales"])
    world.item("launch", ["sales"])
    world.contact("ann@partner.example", ["sales"])
    edition_id = _planned_in(world, 3)
    client, _ = staff_session(world)

    def shown() -> str:
        return client.get(f"/editions/{edition_id}").get_data(as_text=True)

    assert "data-refresh-seconds" not in shown()  # waits for its date: nothing moves
    post(client, "/series/news/send-now")
    page = shown()
    assert "data-refresh-seconds" in page
    assert "due now: a scheduler starts it within a minute" in page
    assert "live.js" in page
    with world.session() as session:
        assert claim_due(session, world.clock.now(), "test-owner").claimed == [edition_id]
    assert ": sending." in shown()
    world.clock.current += timedelta(seconds=CLAIM_SECONDS + 1)  # its claimer went quiet
    assert "waiting for a scheduler to take it up" in shown()
    world.send(edition_id, OutboxBackend(world.runtime.settings.data_dir / "outbox"))
    page = shown()
    assert "data-refresh-seconds" not in page  # over: the page stops following it
    assert "sent" in page
