"""A click on a post's short link: stored for the item, the network and the account; counted
for a person only through the attribution cookie, set when a consented contact who has not
opted out of social follows a link in their own email; link previews count for nothing.
And a newsletter, a digest and a post by the same consented contact are three formats of one
key message."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.post_outbox import OutboxPoster
from commhub.render import message_tokens
from commhub.reports import item_report, reach_report
from commhub.store import (
    Channel,
    Contact,
    ContentKind,
    Event,
    EventKind,
    Exposure,
    SocialPost,
)
from commhub.tracking import ATTRIBUTION_COOKIE
from commhub.web import create_app
from tests.builders import World

KEY = "Register deals early"
SAM = "sam@partner.example"


@pytest.fixture
def web(world: World) -> FlaskClient:
    return create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock)).test_client()


def _library(world: World) -> None:
    day_ago = world.clock.now() - timedelta(days=1)
    world.item("guide", ["sales"], title="Deal registration guide", key_message=KEY,
               url="https://vendor.example/guide", published=day_ago)  # fmt: skip
    world.item("webinar", ["sales"], kind=ContentKind.VIDEO, title="Deal registration webinar",
               key_message=KEY, url="https://video.example/w/1",
               video_url="https://video.example/w/1",
               thumbnail_url="https://cdn.example/1.jpg", published=day_ago)  # fmt: skip


def _newsletter_to(world: World, tmp_path: Path, slug: str = "news", **series: object) -> int:
    """The newsletter (or digest) sent to the contacts; its edition id."""
    world.series(slug, audiences=["sales"], **series)
    edition_id = world.prepare(slug).edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    return edition_id


def _post_path(world: World, tmp_path: Path) -> str:
    """The short link (path) of the social post of the guide, posted through the outbox."""
    world.social_series(accounts=[{"network": "mastodon", "name": "vendor", "audiences": "all"}])
    edition_id = world.prepare("social").edition.id
    world.post(edition_id, lambda network, _a: OutboxPoster(tmp_path / "social", network))
    with world.session() as session:
        links = {p.item.slug: p.link for p in session.scalars(select(SocialPost))}
    return links["guide"].removeprefix(world.runtime.settings.base_url.rstrip("/"))


def _email_click(world: World, web: FlaskClient, edition_id: int) -> str | None:
    """Follow the first link in Sam's email; the Set-Cookie it answered with, if any."""
    message = world.messages(edition_id)[SAM]
    token = message_tokens(world.runtime.settings.secret_keys).sign(message.id)
    answer = web.get(f"/t/c/{token}/1")
    assert answer.status_code == 302
    return next(
        (h for h in answer.headers.getlist("Set-Cookie") if h.startswith(ATTRIBUTION_COOKIE)), None
    )


def _social_exposures(world: World) -> list[tuple[int, str]]:
    with world.session() as session:
        rows = session.scalars(select(Exposure).where(Exposure.format == "social"))
        return [(e.contact_id, e.source_kind) for e in rows]


def _clicks(world: World) -> list[tuple[int | None, dict[str, object]]]:
    with world.session() as session:
        rows = session.scalars(
            select(Event).where(Event.kind == EventKind.CLICK, Event.format == "social")
        )
        return [(e.contact_id, e.data) for e in rows]


def _sam(world: World) -> int:
    with world.session() as session:
        found = session.scalar(select(Contact.id).where(Contact.email == SAM))
    assert found is not None
    return found


BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0"}


def test_a_consented_contacts_click_on_a_post_counts_for_them(
    world: World, web: FlaskClient, tmp_path: Path
) -> None:
    _library(world)
    world.contact(SAM, ["sales"])
    set_cookie = _email_click(world, web, _newsletter_to(world, tmp_path))
    assert set_cookie is not None
    assert "Path=/s/" in set_cookie
    assert "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie
    answer = web.get(_post_path(world, tmp_path), headers=BROWSER)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith("https://vendor.example/guide?")
    assert "utm_medium=social" in location
    assert "utm_content=vendor" in location
    [(contact_id, data)] = _clicks(world)
    assert contact_id == _sam(world)
    with world.session() as session:
        social = {(r.item, r.audience): r.social_clicks for r in item_report(session)}
    assert social[("guide", "sales")] == 1
    assert data["network"] == "mastodon"
    assert data["account"] == "vendor"
    assert _social_exposures(world) == [(_sam(world), "post")]


def test_without_consent_no_cookie_is_set_and_the_click_counts_for_nobody(
    world: World, web: FlaskClient, tmp_path: Path
) -> None:
    _library(world)
    world.contact(SAM, ["sales"], consent=False)
    assert _email_click(world, web, _newsletter_to(world, tmp_path)) is None
    assert web.get(_post_path(world, tmp_path), headers=BROWSER).status_code == 302
    assert [contact for contact, _data in _clicks(world)] == [None]
    assert _social_exposures(world) == []


def test_a_contact_who_opted_out_of_social_is_no_longer_counted_and_the_cookie_goes(
    world: World, web: FlaskClient, tmp_path: Path
) -> None:
    _library(world)
    world.contact(SAM, ["sales"])
    assert _email_click(world, web, _newsletter_to(world, tmp_path)) is not None
    with world.session() as session:
        contact = session.scalar(select(Contact).where(Contact.email == SAM))
        assert contact is not None
        contact.opted_out_channels = [Channel.SOCIAL.value]
    answer = web.get(_post_path(world, tmp_path), headers=BROWSER)
    assert answer.status_code == 302
    forget = [h for h in answer.headers.getlist("Set-Cookie") if h.startswith(ATTRIBUTION_COOKIE)]
    assert forget
    assert "Max-Age=0" in forget[0] or "expires=Thu, 01 Jan 1970" in forget[0]
    assert [contact for contact, _data in _clicks(world)] == [None]
    assert _social_exposures(world) == []


def test_a_forged_cookie_and_a_link_preview_count_for_nobody(
    world: World, web: FlaskClient, tmp_path: Path
) -> None:
    _library(world)
    world.contact(SAM, ["sales"])
    path = _post_path(world, tmp_path)
    web.set_cookie(ATTRIBUTION_COOKIE, f"{_sam(world)}.forged", path="/s/")
    assert web.get(path, headers=BROWSER).status_code == 302
    _email_click(world, web, _newsletter_to(world, tmp_path))
    preview = {"User-Agent": "http.rb/5.1.1 (Mastodon/4.3.0; +https://mastodon.example/)"}
    assert web.get(path, headers=preview).status_code == 302
    clicks = _clicks(world)
    assert [contact for contact, _data in clicks] == [None, None]
    assert clicks[1][1].get("machine") is True
    with world.session() as session:
        social = {(r.item, r.audience): r.social_clicks for r in item_report(session)}
    assert social[("guide", "sales")] == 1  # the person's click, not the preview's
    assert _social_exposures(world) == []


def test_a_short_link_that_names_no_post_is_404(world: World, web: FlaskClient) -> None:
    assert web.get("/s/MQ.not-a-signature").status_code == 404
    assert web.get("/s/preview").status_code == 404
    assert _clicks(world) == []


def test_a_newsletter_a_digest_and_a_post_are_three_formats_of_one_key_message(
    world: World, web: FlaskClient, tmp_path: Path
) -> None:
    _library(world)
    world.contact(SAM, ["sales"])
    tokens = message_tokens(world.runtime.settings.secret_keys)
    news = _newsletter_to(world, tmp_path, kinds=["article"])
    digest = _newsletter_to(world, tmp_path, "videos", channel=Channel.VIDEO_DIGEST)
    world.clock.current += timedelta(hours=1)  # a person opening, not a scanner at delivery
    for edition_id in (news, digest):
        message = world.messages(edition_id)[SAM]
        assert web.get(f"/t/o/{tokens.sign(message.id)}.gif").status_code == 200
    _email_click(world, web, news)  # the click that lets this browser be recognised
    assert web.get(_post_path(world, tmp_path), headers=BROWSER).status_code == 302
    with world.session() as session:
        [reach] = [r for r in reach_report(session) if r.key_message == KEY]
    assert reach.by_formats[3] == 1  # email, video and social: one contact
