"""/contacts/<id>, a contact's story: their facts, the key messages they have seen, and the
timeline of what was sent to them and what they did, newest first, a page at a time."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from commhub.contacts import ContactStory, contact_story
from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sender import installation_id
from commhub.errors import NotFound
from commhub.render.tokens import message_tokens
from commhub.store.models import (
    Contact,
    ContactStatus,
    Event,
    KeyMessage,
    Message,
    Partner,
    Series,
    SocialPost,
    UserRole,
)
from commhub.tracking import (
    SEVEN,
    THREE,
    MessageOwner,
    find_message,
    link_target,
    record_click,
    record_events,
    record_exposures,
    record_open,
    record_post_click,
    record_vote,
    save_preferences,
    unsubscribe,
)
from commhub.web import create_app
from tests.builders import NOW, World
from tests.web.staff import add_user, sign_in

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PERSON = "198.51.100.7"  # no mail proxy's address
BROWSER = "Mozilla/5.0 (X11; Linux x86_64)"


@pytest.fixture
def client(world: World) -> FlaskClient:
    client = create_app(runtime=replace(world.runtime, clock=world.clock)).test_client()
    assert sign_in(client, add_user(world.runtime, UserRole.VIEWER)) == 302
    return client


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    return response.get_data(as_text=True)


def table_rows(html: str, caption: str) -> list[str]:
    """The text of each body row of the table with this caption id, tags stripped."""
    table = html.split(f'id="{caption}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        " ".join(re.sub(r"<[^>]+>", " ", row).split())
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def story(world: World, contact_id: int, page_number: int = 1, per_page: int = 50) -> ContactStory:
    with world.session() as session:
        return contact_story(session, contact_id, page_number, per_page, seven=SEVEN, three=THREE)


def contact_id(world: World, email: str) -> int:
    with world.session() as session:
        found = session.scalar(select(Contact.id).where(Contact.email == email))
    assert found is not None
    return found


def owner_of(world: World, message_id: int) -> MessageOwner:
    tokens = message_tokens(world.runtime.settings.secret_keys)
    with world.session() as session:
        owner = find_message(session, tokens, tokens.sign(message_id))
    assert owner is not None
    return owner


@contextmanager
def at(world: World, moment: datetime) -> Iterator[Session]:
    """A session whose work happens at this moment of the world's clock."""
    world.clock.current = moment
    with world.session() as session:
        yield session


def newsletter_life(world: World, tmp_path: Path) -> dict[str, Any]:
    """Ana is sent a sales newsletter, which her provider delivers; a scanner opens it at
    once, she opens it an hour later, clicks its item and votes it relevant, clicks the item
    in a social post, changes her preferences, and unsubscribes the next day. Ben, in the
    same edition, opens it too."""
    world.series(audiences=["sales"], name="Partner News")
    world.item(
        "deal-reg", ["sales"], title="Deal registration", key_message="Deal registration pays"
    )
    world.contact("ana@acme.example", ["sales"], first_name="Ana", last_name="Silva")
    world.contact("ben@acme.example", ["sales"], first_name="Ben", last_name="Okoro")
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    messages = world.messages(edition_id)
    ana, ben = (
        owner_of(world, messages["ana@acme.example"].id),
        owner_of(world, messages["ben@acme.example"].id),
    )
    assert ana.sent_at is not None
    sent = ana.sent_at
    installation = installation_id(world.runtime.settings.secret_key)
    delivered = {
        "event": "delivered", "timestamp": int(sent.timestamp()) + 1, "sg_event_id": "d1",
        "commhub_message_id": str(ana.message_id), "commhub_installation": installation,
    }  # fmt: skip
    with at(world, sent + timedelta(seconds=2)) as session:
        record_events(session, [delivered], installation, world.clock.now())
    with at(world, sent + timedelta(seconds=3)) as session:
        assert record_open(session, ana, world.clock.now(), PERSON, BROWSER) is not None
    with at(world, sent + timedelta(hours=1)) as session:
        assert record_open(session, ana, world.clock.now(), PERSON, BROWSER) is None
    with at(world, sent + timedelta(hours=1, minutes=30)) as session:
        record_open(session, ben, world.clock.now(), PERSON, BROWSER)
    link_id = min(ana.link_ids)
    with at(world, sent + timedelta(hours=2)) as session:
        link = link_target(session, ana, link_id)
        assert link is not None
        record_click(session, ana, link_id, link, world.clock.now())
    with at(world, sent + timedelta(hours=3)) as session:
        record_vote(session, ana, link_id, link, "yes", world.clock.now())
    world.social_series("social")
    social_edition = world.prepare("social").edition.id
    with world.session() as session:
        post_id = session.scalars(select(SocialPost.id)).first()
    assert post_id is not None
    with at(world, sent + timedelta(hours=4)) as session:
        clicked = record_post_click(session, post_id, ana.contact_id, BROWSER, world.clock.now())
        assert clicked is not None
        assert clicked.attributed
    with at(world, sent + timedelta(hours=20)) as session:
        save_preferences(
            session, ana, ["sales", "technical"], ["newsletter", "feed"], 30, world.clock.now()
        )
    with at(world, sent + timedelta(days=1)) as session:
        assert unsubscribe(session, ana, world.clock.now(), via="one-click")
    return {
        "edition": edition_id, "social_edition": social_edition, "ana": ana.contact_id,
        "ben": ben.contact_id, "sent": sent,
    }  # fmt: skip


# contact_story, the domain


def test_the_timeline_tells_what_was_sent_and_what_the_contact_did_newest_first(
    world: World, tmp_path: Path
) -> None:
    life = newsletter_life(world, tmp_path)
    told = story(world, life["ana"])
    edition, social = life["edition"], life["social_edition"]
    entries = [(e.label, e.format, e.description, e.edition_id, e.item_slug) for e in told.entries]
    assert entries == [
        ("Unsubscribe", "email", "Unsubscribed from everything (one-click)", edition, None),
        ("Preferences", "email",
         "Changed their preferences: roles Sales, Technical; channels feed, newsletter; "
         "paused for 30 days", edition, None),
        ("Click", "social", "Clicked “Deal registration” in a post on Mastodon (vendor)",
         social, "deal-reg"),
        ("Vote: yes", "email", "Voted “Deal registration” relevant", edition, "deal-reg"),
        ("Click", "email", "Clicked “Deal registration”", edition, "deal-reg"),
        ("Open", "email", "Opened by a person", edition, None),
        ("Machine open", "email",
         "Opened by a machine, not a person (within seconds of delivery): not counted as read",
         edition, None),
        ("Delivered", "email", "Delivered to their mail server", edition, None),
        ("Message", "email", "The newsletter for sales, sent", edition, None),
    ]  # fmt: skip
    times = [entry.at for entry in told.entries]
    assert times == sorted(times, reverse=True)
    assert times[0] == life["sent"] + timedelta(days=1)
    assert times[-1] == life["sent"]
    message = told.entries[-1]
    assert (message.kind, message.status, message.series) == ("message", "sent", "Partner News")
    assert [e.machine for e in told.entries if e.kind == "open"] == [False, True]
    assert (told.total, told.messages, told.events, told.page, told.pages) == (9, 1, 8, 1, 1)


def test_another_contacts_messages_and_events_never_appear(world: World, tmp_path: Path) -> None:
    life = newsletter_life(world, tmp_path)
    told = story(world, life["ben"])
    assert [(e.label, e.description) for e in told.entries] == [
        ("Open", "Opened by a person"),
        ("Message", "The newsletter for sales, sent"),
    ]
    assert told.contact.name == "Ben Okoro"
    with world.session() as session:
        bens = set(session.scalars(select(Event.id).where(Event.contact_id == life["ben"])))
        anas = set(session.scalars(select(Event.id).where(Event.contact_id == life["ana"])))
    assert (len(bens), len(anas)) == (1, 8)


def test_the_contacts_facts(world: World, tmp_path: Path) -> None:
    life = newsletter_life(world, tmp_path)
    facts = story(world, life["ana"]).contact
    assert (facts.name, facts.email, facts.partner) == (
        "Ana Silva",
        "ana@acme.example",
        "Acme Partners",
    )
    assert facts.roles == ["Sales", "Technical"]  # as her preferences left them
    assert facts.status.value == "unsubscribed"
    assert facts.opted_out_channels == ["social", "video_digest"]
    assert facts.paused_until == (life["sent"] + timedelta(hours=20)).date() + timedelta(days=30)
    assert facts.consent_at == NOW - timedelta(days=30)


def test_exposures_per_key_message_and_format_and_the_rule_of_seven(
    world: World, tmp_path: Path
) -> None:
    life = newsletter_life(world, tmp_path)
    with world.session() as session:
        summit = KeyMessage(text="The partner summit is in May")
        session.add(summit)
        session.flush()
        for source, fmt in enumerate(["email"] * 3 + ["video"] * 2 + ["social"] * 2, 1000):
            record_exposures(session, life["ana"], [summit.id], fmt, "message", source, NOW)
        record_exposures(session, life["ben"], [summit.id], "rss", "feed_item", 1, NOW)
    told = story(world, life["ana"])
    assert [
        (x.key_message, x.email, x.video, x.social, x.rss, x.total, x.formats, x.reached)
        for x in told.exposures
    ] == [
        ("The partner summit is in May", 3, 2, 2, 0, 7, 3, True),
        # Her open counted once for the message; her click in the same message added
        # nothing, the post she clicked was one more source, in another format.
        ("Deal registration pays", 1, 0, 1, 0, 2, 2, False),
    ]
    assert told.reached == 1
    assert (
        told.exposure_summary == "Seen 2 key messages; 1 of them seven times across three formats."
    )
    assert story(world, life["ben"]).exposure_summary == (
        "Seen 2 key messages; none of them seven times across three formats."
    )


def many_events(world: World, count: int) -> int:
    """A contact with `count` opens (no messages), one a minute from NOW; their id."""
    world.contact("pat@acme.example", ["sales"])
    pat = contact_id(world, "pat@acme.example")
    with world.session() as session:
        session.add_all(
            Event(
                kind="open", contact_id=pat, format="email", data={"machine": False},
                occurred_at=NOW + timedelta(minutes=n),
            )
            for n in range(count)
        )  # fmt: skip
    return pat


def test_the_timeline_is_paged_in_sql(world: World) -> None:
    pat = many_events(world, 60)
    first, second = story(world, pat, 1), story(world, pat, 2)
    assert (first.total, first.pages, len(first.entries), len(second.entries)) == (60, 2, 50, 10)
    assert first.entries[0].at == NOW + timedelta(minutes=59)
    assert [e.at for e in second.entries] == [NOW + timedelta(minutes=n) for n in range(9, -1, -1)]
    beyond = story(world, pat, 99)
    assert (beyond.page, beyond.entries) == (2, second.entries)
    assert story(world, pat, 0).page == 1


def count_queries(world: World) -> list[str]:
    statements: list[str] = []

    def counted(*args: Any) -> None:
        statements.append(args[2])

    event.listen(world.runtime.engine, "before_cursor_execute", counted)
    return statements


def test_a_story_takes_a_few_queries_however_long_the_timeline(
    world: World, tmp_path: Path
) -> None:
    life = newsletter_life(world, tmp_path)
    pat = many_events(world, 60)
    statements = count_queries(world)
    story(world, pat)
    long_one = len(statements)
    statements.clear()
    story(world, life["ana"])  # every kind of entry, and a social post to look up
    # The contact, their roles, the counts, the tallies, the page, its events.
    assert long_one <= 6
    assert len(statements) <= 9  # and its messages, the social post, the role names


def test_an_unknown_contact_is_not_found(world: World) -> None:
    with world.session() as session, pytest.raises(NotFound):
        contact_story(session, 999_999, 1, seven=SEVEN, three=THREE)


# /contacts/<id>, the page


def test_the_page_shows_the_facts_exposures_and_timeline(
    world: World, tmp_path: Path, client: FlaskClient
) -> None:
    life = newsletter_life(world, tmp_path)
    html = page(client, f"/contacts/{life['ana']}")
    assert "<title>Ana Silva · Contacts · commhub</title>" in html
    assert html.count("<h1>") == 1
    with world.session() as session:
        acme = session.scalar(select(Partner.id).where(Partner.name == "Acme Partners"))
    assert f'at <a href="/partners/{acme}">Acme Partners</a>' in html
    assert "<dt>Roles</dt><dd>Sales, Technical</dd>" in html
    assert re.search(r'<dt>Status</dt><dd>\s*<span class="badge bad">unsubscribed</span>', html)
    assert "<dt>Opted out of</dt><dd>social posts, the video digest</dd>" in html
    assert "<dt>Time zone</dt><dd>not set" in html
    assert "Seen 1 key message, not yet seven times across three formats." in html
    assert table_rows(html, "exposures-caption") == ["Deal registration pays 1 0 1 0 2 2 not yet"]
    timeline = table_rows(html, "timeline-caption")
    edition = life["edition"]
    assert len(timeline) == 9
    assert timeline[0] == (
        f"24 Nov 2026, {life['sent'] + timedelta(days=1):%H:%M} UTC Unsubscribe email "
        f"Unsubscribed from everything (one-click) Partner News #{edition}"
    )
    assert timeline[2].endswith(
        f"Clicked “Deal registration” in a post on Mastodon (vendor) "
        f"Partner Social #{life['social_edition']} Deal registration"
    )
    assert timeline[3].endswith(
        f"Voted “Deal registration” relevant Partner News #{edition} Deal registration"
    )
    assert "Machine open email Opened by a machine, not a person (within seconds" in timeline[6]
    assert timeline[-1].endswith(
        f"Message email sent The newsletter for sales, sent Partner News #{edition}"
    )
    assert f'href="/editions/{edition}"' in html
    assert 'href="/content/deal-reg"' in html
    assert "1 message and 8 events." in html
    assert "Showing 1–9 of 9 entries" in html
    assert "Ben" not in html


def test_times_are_in_the_viewers_zone(world: World, tmp_path: Path, client: FlaskClient) -> None:
    life = newsletter_life(world, tmp_path)
    client.set_cookie("commhub_tz", "Asia/Tokyo")
    shown = (life["sent"] + timedelta(days=1)).astimezone(ZoneInfo("Asia/Tokyo"))
    timeline = table_rows(page(client, f"/contacts/{life['ana']}"), "timeline-caption")
    assert timeline[0].startswith(f"{shown.day} {shown:%b %Y, %H:%M} JST Unsubscribe")


def test_the_page_is_paged(world: World, client: FlaskClient) -> None:
    pat = many_events(world, 60)
    first = page(client, f"/contacts/{pat}")
    assert len(table_rows(first, "timeline-caption")) == 50
    assert "Showing 1–50 of 60 entries" in first
    assert f'href="/contacts/{pat}?page=2" rel="next"' in first
    second = page(client, f"/contacts/{pat}?page=2")
    rows = table_rows(second, "timeline-caption")
    assert len(rows) == 10
    assert rows[0].startswith("23 Nov 2026, 09:09 UTC Open email Opened by a person")
    assert rows[-1].startswith("23 Nov 2026, 09:00 UTC Open")
    assert "Showing 51–60 of 60 entries" in second
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    for odd in ("page=abc", "page=-1", "page=%D9%A1"):
        assert "Showing 1–50 of 60 entries" in page(client, f"/contacts/{pat}?{odd}")


def test_a_contact_with_no_history_says_what_happens_next(
    world: World, client: FlaskClient
) -> None:
    world.contact("new@acme.example", ["sales"], first_name="Noor", last_name="Haddad")
    world.contact("nobody@acme.example", [], first_name="No", last_name="Role")
    world.contact("gone@acme.example", ["sales"], status=ContactStatus.BOUNCED)
    html = page(client, f"/contacts/{contact_id(world, 'new@acme.example')}")
    assert "No messages yet: this contact joins the next edition for their roles." in html
    assert "No key message seen yet." in html
    assert "<table" not in html
    roleless = page(client, f"/contacts/{contact_id(world, 'nobody@acme.example')}")
    assert "this contact has no role, so no edition is for them" in roleless
    bounced = page(client, f"/contacts/{contact_id(world, 'gone@acme.example')}")
    assert "No messages: this contact is bounced, so nothing is sent to them." in bounced


@pytest.mark.parametrize(
    "path", ["/contacts/999999", "/contacts/abc", "/contacts/0", "/contacts/99999999999999999999"]
)
def test_an_unknown_contact_is_a_404(world: World, client: FlaskClient, path: str) -> None:
    world.contact("ana@acme.example", ["sales"])
    page(client, path, status=404)


def test_the_page_needs_sign_in(world: World) -> None:
    world.contact("ana@acme.example", ["sales"])
    anonymous = create_app(runtime=world.runtime).test_client()
    response = anonymous.get(f"/contacts/{contact_id(world, 'ana@acme.example')}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_contacts_list_and_the_partner_page_link_each_contact(
    world: World, client: FlaskClient
) -> None:
    world.contact("ana@acme.example", ["sales"], first_name="Ana", last_name="Silva")
    ana = contact_id(world, "ana@acme.example")
    with world.session() as session:
        acme = session.scalar(select(Partner.id).where(Partner.name == "Acme Partners"))
    link = f'<a href="/contacts/{ana}">Ana Silva</a>'
    assert link in page(client, "/contacts")
    assert link in page(client, f"/partners/{acme}")


def test_names_items_and_event_details_are_text(
    world: World, tmp_path: Path, client: FlaskClient
) -> None:
    world.series(audiences=["sales"], name=HOSTILE)
    world.item("deal-reg", ["sales"], title=HOSTILE, key_message=HOSTILE)
    world.contact(
        "eve@evil.example", ["sales"], partner=HOSTILE, first_name=HOSTILE, last_name=HOSTILE,
        timezone="Europe/Paris",
    )  # fmt: skip
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    eve = owner_of(world, world.messages(edition_id)["eve@evil.example"].id)
    installation = installation_id(world.runtime.settings.secret_key)
    bounce = {
        "event": "bounce", "type": "blocked", "reason": HOSTILE, "timestamp": int(NOW.timestamp()),
        "sg_event_id": "b1", "commhub_message_id": str(eve.message_id),
        "commhub_installation": installation,
    }  # fmt: skip
    with world.session() as session:
        record_events(session, [bounce], installation, world.clock.now())
        assert record_open(session, eve, NOW + timedelta(hours=1), PERSON, BROWSER) is None
        link = link_target(session, eve, min(eve.link_ids))
        assert link is not None
        record_click(session, eve, min(eve.link_ids), link, NOW + timedelta(hours=2))
    told = story(world, eve.contact_id)
    assert f"Bounced (blocked): {HOSTILE}" in [e.description for e in told.entries]
    html = page(client, f"/contacts/{eve.contact_id}")
    assert HOSTILE not in html
    assert ESCAPED in html
    assert f"Clicked “{ESCAPED}”" in html
    assert "<dt>Time zone</dt><dd>Europe/Paris</dd>" in html


def test_a_message_not_sent_says_why(world: World, tmp_path: Path) -> None:
    world.series(audiences=["sales"])
    world.item("deal-reg", ["sales"])
    world.contact("ana@acme.example", ["sales"], opted_out_channels=["newsletter"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    with world.session() as session:
        status = session.scalar(select(Message.status))
        series = session.scalar(select(Series.name))
    told = story(world, contact_id(world, "ana@acme.example"))
    assert status is not None
    assert status.value == "skipped"
    assert [(e.status, e.description, e.series) for e in told.entries] == [
        ("skipped", "The newsletter for sales, not sent: they opted out of this channel", series)
    ]
