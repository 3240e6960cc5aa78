"""A social edition: one post per account and item (however many of the account's
audiences the item was picked for), composed with its own signed short link when the edition
is prepared; posted through the outbox; no item posted twice across editions; held for
approval; and the list `posts list` and the edition page read."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from commhub.delivery.post_outbox import OutboxPoster
from commhub.editions import list_posts
from commhub.render import LIMITS, measure, post_tokens
from commhub.store import (
    ContentKind,
    EditionState,
    Network,
    PostState,
    SocialPost,
)
from tests.builders import World

ACCOUNTS = [
    {"network": "mastodon", "name": "vendor-dev", "audiences": ["technical", "development"]},
    {"network": "linkedin", "name": "vendor-company", "audiences": "all"},
    {"network": "webhook", "name": "partner-slack", "audiences": ["sales"]},
]


def _library(world: World) -> None:
    now = world.clock.now()
    world.item("api-v3", ["technical", "development"], title="API v3 is here",
               url="https://vendor.example/api-v3", hashtags=["api", "Partner News"],
               published=now - timedelta(days=1))  # fmt: skip
    world.item("deal-reg", ["sales"], title="Deal registration pays more",
               url="https://vendor.example/deal", published=now - timedelta(days=1))  # fmt: skip
    world.item("webinar", ["marketing"], kind=ContentKind.VIDEO, title="Campaign webinar",
               url="https://vendor.example/w", video_url="https://video.example/w/1",
               published=now - timedelta(days=2))  # fmt: skip


def _outbox(tmp_path: Path):  # type: ignore[no-untyped-def]
    return lambda network, _account: OutboxPoster(tmp_path / "social", network)


def _posts(world: World, edition_id: int) -> list[SocialPost]:
    with world.session() as session:
        found = session.scalars(
            select(SocialPost)
            .where(SocialPost.edition_id == edition_id)
            .options(selectinload(SocialPost.item))
            .order_by(SocialPost.id)
        )
        return list(found)


def test_each_account_posts_each_item_of_its_audiences_once(world: World) -> None:
    _library(world)
    world.social_series(accounts=ACCOUNTS)
    preparation = world.prepare("social")
    edition = preparation.edition
    assert edition.state is EditionState.SENDING
    posts = _posts(world, edition.id)
    by_account = {
        account: sorted((p.item.slug, tuple(p.audiences)) for p in posts if p.account == account)
        for account in ("vendor-dev", "vendor-company", "partner-slack")
    }  # fmt: skip
    # api-v3 is picked for both technical and development: one post on vendor-dev.
    assert by_account["vendor-dev"] == [("api-v3", ("development", "technical"))]
    assert by_account["vendor-company"] == [
        ("api-v3", ("development", "technical")), ("deal-reg", ("sales",)),
        ("webinar", ("marketing",)),
    ]  # fmt: skip
    assert by_account["partner-slack"] == [("deal-reg", ("sales",))]
    assert edition.recipient_count == len(posts) == 5
    assert all(p.state is PostState.PLANNED for p in posts)
    assert len({p.idempotency_key for p in posts}) == 5


def test_a_post_carries_its_own_signed_short_link_and_fits_its_network(world: World) -> None:
    _library(world)
    world.social_series(accounts=ACCOUNTS)
    edition_id = world.prepare("social").edition.id
    tokens = post_tokens(world.runtime.settings.secret_keys)
    base = world.runtime.settings.base_url.rstrip("/")
    for post in _posts(world, edition_id):
        assert post.link.startswith(f"{base}/s/")
        assert tokens.read(post.link.rsplit("/", 1)[1]) == post.id
        assert post.link in post.text
        assert post.item.title in post.text
        assert measure(post.text, post.network.value) <= LIMITS[post.network.value]
    [mastodon] = [p for p in _posts(world, edition_id) if p.network is Network.MASTODON]
    assert "#api #PartnerNews" in mastodon.text


def test_posted_through_the_outbox_each_post_once_and_listed(world: World, tmp_path: Path) -> None:
    _library(world)
    world.social_series(accounts=ACCOUNTS)
    edition_id = world.prepare("social").edition.id
    report = world.post(edition_id, _outbox(tmp_path))
    assert report.state is EditionState.SENT
    assert report.counts == {PostState.POSTED: 5}
    files = sorted((tmp_path / "social" / str(edition_id)).glob("*.json"))
    assert len(files) == 5
    written = {json.loads(f.read_text())["post_id"] for f in files}
    with world.session() as session:
        rows = list_posts(session, "social")
    assert {row.id for row in rows} == written
    row = rows[0].as_json()
    assert set(row) >= {
        "id", "series", "edition_id", "network", "account", "audience", "item", "state", "text",
        "url", "posted_at", "reason",
    }  # fmt: skip
    assert row["state"] == "posted"
    assert row["posted_at"] is not None


def test_the_next_edition_posts_only_what_is_new(world: World, tmp_path: Path) -> None:
    _library(world)
    world.social_series(accounts=ACCOUNTS)
    first = world.prepare("social").edition.id
    world.post(first, _outbox(tmp_path))
    world.clock.current += timedelta(days=7)
    world.item("release-notes", ["technical"], title="Release notes",
               url="https://vendor.example/rn", published=world.clock.now())  # fmt: skip
    second = world.prepare("social").edition.id
    assert sorted((p.account, p.item.slug) for p in _posts(world, second)) == [
        ("vendor-company", "release-notes"), ("vendor-dev", "release-notes"),
    ]  # fmt: skip
    world.post(second, _outbox(tmp_path))
    world.clock.current += timedelta(days=7)
    third = world.prepare("social")
    assert third.edition.state is EditionState.EMPTY
    assert third.edition.state_reason == "nothing new for any account"


def test_an_item_without_a_link_is_not_posted(world: World) -> None:
    world.item("no-link", ["sales"], title="Nowhere to go", url=None,
               published=world.clock.now() - timedelta(days=1))  # fmt: skip
    world.social_series(accounts=ACCOUNTS)
    assert world.prepare("social").edition.state is EditionState.EMPTY


def test_a_series_needing_approval_is_held_before_anything_is_posted(world: World) -> None:
    _library(world)
    world.social_series(accounts=ACCOUNTS, requires_approval=True)
    edition = world.prepare("social").edition
    assert edition.state is EditionState.HELD
    assert all(p.state is PostState.PLANNED for p in _posts(world, edition.id))


def test_an_items_social_line_is_posted_in_place_of_its_title(world: World) -> None:
    world.item("summit", ["sales"], title="Partner Summit 2026: registration",
               social_line="Three days in Lisbon with 1,500 partners: save your seat.",
               published=world.clock.now() - timedelta(days=1))  # fmt: skip
    world.social_series(accounts=ACCOUNTS)
    [post, *_others] = _posts(world, world.prepare("social").edition.id)
    assert post.text.startswith("Three days in Lisbon with 1,500 partners: save your seat.")
    assert "Partner Summit 2026: registration" not in post.text
