"""Video digests, beyond the first slice: compiled once per role set; sent over a real SMTP
server; a click in the newsletter and one in the digest are two formats of the same key
message in the seven-across-three report; and every calendar names each edition's channel."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import icalendar
from sqlalchemy import select

from commhub.config import check_smtp_url
from commhub.delivery.smtp import SmtpBackend
from commhub.render.tokens import message_tokens
from commhub.reports import heat_map, item_report, reach_report
from commhub.scheduling.agenda import calendar
from commhub.scheduling.ical import calendar_ics
from commhub.scheduling.planning import plan_editions
from commhub.store import Channel, ContentKind, Event, EventKind, Exposure, ExposureTally
from commhub.web import create_app
from tests.builders import World
from tests.smtp_sink import SmtpSink

KEY = "Register deals early"


def _smtp(sink: SmtpSink) -> SmtpBackend:
    return SmtpBackend(check_smtp_url(sink.url), timeout=5)


def _video_and_article(world: World) -> None:
    now = world.clock.now()
    world.item("webinar", ["sales"], kind=ContentKind.VIDEO, title="Deal registration webinar",
               url="https://video.example/watch/1", video_url="https://video.example/watch/1",
               thumbnail_url="https://cdn.example/thumbs/1.jpg", duration_seconds=600,
               key_message=KEY, published=now - timedelta(days=1))  # fmt: skip
    world.item("guide", ["sales", "technical"], title="Deal registration guide",
               url="https://vendor.example/guide", key_message=KEY,
               published=now - timedelta(days=1))  # fmt: skip
    world.item("tech-video", ["technical"], kind=ContentKind.VIDEO, title="Gateway deep dive",
               url="https://video.example/watch/2", video_url="https://video.example/watch/2",
               thumbnail_url="https://cdn.example/thumbs/2.jpg",
               published=now - timedelta(days=1))  # fmt: skip


def _newsletter_then_digest_to_sam(world: World, smtp_sink: SmtpSink) -> dict[str, int]:
    """The article in a newsletter, the video in a digest, both carrying KEY, sent to one
    sales contact over SMTP; edition ids by series."""
    _video_and_article(world)
    world.series("news", audiences=["sales"], kinds=["article"])
    world.series("videos", audiences=["sales"], channel=Channel.VIDEO_DIGEST)
    world.contact("sam@partner.example", ["sales"])
    editions = {}
    for slug in ("news", "videos"):
        editions[slug] = world.prepare(slug).edition.id
        world.send(editions[slug], _smtp(smtp_sink))
    return editions


def test_a_digest_is_compiled_once_per_role_set(world: World) -> None:
    compiled = world.count_compiles()
    _video_and_article(world)
    world.series("videos", audiences=["sales", "technical"], channel=Channel.VIDEO_DIGEST)
    for n in range(9):
        roles = [["sales"], ["technical"], ["sales", "technical"]][n % 3]
        world.contact(f"c{n}@partner.example", roles)
    preparation = world.prepare("videos")
    assert len(world.messages(preparation.edition.id)) == 9
    assert len(compiled) == 3 == len(preparation.role_sets)


def test_each_role_set_gets_its_own_videos_over_smtp(world: World, smtp_sink: SmtpSink) -> None:
    _video_and_article(world)
    world.series("videos", audiences=["sales", "technical"], channel=Channel.VIDEO_DIGEST)
    world.contact("sam@partner.example", ["sales"])
    world.contact("tia@partner.example", ["technical"])
    world.contact("both@partner.example", ["sales", "technical"])
    edition_id = world.prepare("videos").edition.id
    world.send(edition_id, _smtp(smtp_sink))
    received = {}
    for address in ("sam@partner.example", "tia@partner.example", "both@partner.example"):
        [got] = smtp_sink.received_by(address)
        html_part = got.message.get_body(("html",))
        assert html_part is not None
        received[address] = html_part.get_content()
    assert set(received) == {"sam@partner.example", "tia@partner.example", "both@partner.example"}
    assert "Deal registration webinar" in received["sam@partner.example"]
    assert "Gateway deep dive" not in received["sam@partner.example"]
    assert "Gateway deep dive" in received["tia@partner.example"]
    assert "Deal registration webinar" not in received["tia@partner.example"]
    for html in received.values():
        assert "Deal registration guide" not in html  # an article, never in a digest
    both = received["both@partner.example"]
    assert 'src="https://cdn.example/thumbs/1.jpg"' in both
    assert 'src="https://cdn.example/thumbs/2.jpg"' in both


def test_a_newsletter_click_and_a_digest_click_are_two_formats_of_one_key_message(
    world: World, smtp_sink: SmtpSink
) -> None:
    for edition_id in _newsletter_then_digest_to_sam(world, smtp_sink).values():
        world.click_first_link(edition_id, "sam@partner.example")
    with world.session() as session:
        [reach] = [r for r in reach_report(session) if r.key_message == KEY]
    assert reach.by_formats[2] == 1  # one contact, two formats: email and video


def test_every_calendar_names_each_editions_channel(world: World) -> None:
    world.series("news", audiences=["sales"])
    world.series("videos", audiences=["sales"], channel=Channel.VIDEO_DIGEST)
    with world.session() as session:
        plan_editions(session, world.clock.now())
        entries = calendar(session, world.clock.now(), months=2)
    channels = {e.series: e.as_json()["channel"] for e in entries}
    assert channels == {"news": "newsletter", "videos": "video_digest"}
    ics = icalendar.Calendar.from_ical(calendar_ics(entries, "x", "example.org", world.clock.now()))
    descriptions = [str(e["description"]) for e in ics.walk("VEVENT")]
    assert any("Channel: video digest" in d for d in descriptions)
    assert json.dumps([e.as_json() for e in entries])  # the JSON form stays serialisable


def test_an_open_and_a_vote_in_a_digest_are_video_everywhere_a_format_is_kept(
    world: World, smtp_sink: SmtpSink
) -> None:
    editions = _newsletter_then_digest_to_sam(world, smtp_sink)
    sent = {slug: world.messages(e)["sam@partner.example"].id for slug, e in editions.items()}
    tokens = message_tokens(world.runtime.settings.secret_keys)
    web = create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock)).test_client()
    world.clock.current += timedelta(hours=1)  # a person, not a scanner at delivery
    assert web.get(f"/t/o/{tokens.sign(sent['news'])}.gif").status_code == 200
    digest = tokens.sign(sent["videos"])
    assert web.get(f"/t/o/{digest}.gif").status_code == 200
    [html] = [
        got.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        for got in smtp_sink.received_by("sam@partner.example")
        if "Deal registration webinar" in got.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    ]
    vote_path = html.split(f"/t/v/{digest}/", 1)[1].split('"', 1)[0]
    assert vote_path.endswith("/yes")
    assert web.post(f"/t/v/{digest}/{vote_path}").status_code in (200, 303)
    with world.session() as session:
        events = {(e.kind, e.format) for e in session.scalars(select(Event))}
        exposures = sorted((e.format, e.source_id) for e in session.scalars(select(Exposure)))
        tally = session.scalar(select(ExposureTally))
        [reach] = [r for r in reach_report(session) if r.key_message == KEY]
        _roles, [grid] = heat_map(session)
        [webinar] = [r for r in item_report(session) if r.item == "webinar"]
    assert events == {
        (EventKind.OPEN, "email"), (EventKind.OPEN, "video"), (EventKind.VOTE, "video"),
    }  # fmt: skip
    # One exposure per message: the newsletter's open as email, the digest's as video (its
    # vote, in the same message, adds none).
    assert exposures == [("email", sent["news"]), ("video", sent["videos"])]
    assert tally is not None
    assert (tally.email, tally.video) == (1, 1)
    assert reach.by_formats[2] == 1  # one contact met the key message in two formats
    assert grid.reached.get(("sales", "video")) == 1
    assert grid.reached.get(("sales", "email")) == 1
    assert (webinar.human_opens, webinar.yes) == (1, 1)
